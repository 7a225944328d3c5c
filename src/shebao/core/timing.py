"""Instrumentation and fault injection handed to batch runs by their caller.

A batch use case takes ``on_phase(name, seconds)`` (told how long each phase took: the bench
prints it) and ``fault_point(name)`` (called at named points, e.g. between two committed
chunks: a test raises there to simulate a crash). Both default to None: nothing is measured
into module state and nothing in the signature is a test hook.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator

OnPhase = Callable[[str, float], None]
FaultPoint = Callable[[str], None]


@contextmanager
def phase(on_phase: OnPhase | None, name: str) -> Iterator[None]:
    """Tell ``on_phase`` how long the ``with`` body took (when it finishes normally)."""
    if on_phase is None:
        yield
        return
    t = time.perf_counter()
    yield
    on_phase(name, time.perf_counter() - t)


def reach(fault_point: FaultPoint | None, name: str) -> None:
    """The run has reached the point ``name``."""
    if fault_point is not None:
        fault_point(name)
