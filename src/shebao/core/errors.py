"""Errors that carry enough context for a clerk to fix the input.

Every error raised on bad input names *where* (file, row, field) and *why*; the CLI and the
web layer turn them into a message and a non-zero exit or a problem+json response.
"""
from __future__ import annotations


class ShebaoError(Exception):
    """Base class for every error the platform raises on purpose."""


class InputError(ShebaoError):
    """Bad input: names the field (and file/row when there is one)."""

    def __init__(self, message: str, *, field: str | None = None, file: str | None = None,
                 row: int | None = None, value: object = None):
        self.field, self.file, self.row, self.value = field, file, row, value
        where = []
        if file:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if field:
            where.append(f"field '{field}'")
        self.reason = message
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class RuleError(ShebaoError):
    """A parameter file is malformed or a parameter is missing for a region and date."""


class InvariantError(ShebaoError):
    """A domain invariant would be broken (overlap, unbalanced entry, death date...)."""


class ConflictError(ShebaoError):
    """The request conflicts with what is stored (e.g. same idempotency key, other content)."""


class PermissionDenied(ShebaoError):
    """The actor's role or region scope does not allow the action."""


class AlreadyRunning(ConflictError):
    """The same run (a bank file's import, a region's late-fee run) is being done by another
    process right now: let it finish; doing it again afterwards changes nothing."""


class UnknownAccount(InputError):
    """A posting names a ledger account that has not been opened (e.g. a person's first
    contribution: no individual account yet)."""
