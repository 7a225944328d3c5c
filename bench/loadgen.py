"""A lean open-loop HTTP/1.1 load generator for the benches: one asyncio loop (uvloop when
installed), raw keep-alive connections over sockets, no HTTP library on the hot path — so that
on a small machine the generator takes as little of the CPU the server needs as possible. Its
own CPU time is measured and returned.

    from loadgen import run
    figures = run("127.0.0.1", port, plan, rate=200, warmup=5, seconds=30)

``plan`` is a list of ``(kind, request bytes)``; request ``k`` is due at ``k / rate`` seconds
(open loop: latency is counted from the due time, so a late start counts against the server —
no coordinated omission). A due request takes an idle connection, or opens a new one up to
``connections``; beyond that it waits for one (and its wait is counted); one still waiting
``give_up`` seconds after the last is due is not sent (``not_sent``: the server is saturated).
``rps`` is what was answered per second (over the measured span, or until the last answer
came when that was later). Responses must carry
``Content-Length`` or be chunked. Nothing here knows the application.
"""
from __future__ import annotations

import asyncio
import os
import resource
import statistics
import time


def request(path: str, headers: dict[str, str]) -> bytes:
    """A keep-alive ``GET`` as raw bytes."""
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive",
             *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


KEEP_IDLE = 4.0        # seconds a connection may idle before it is dropped (uvicorn closes at 5)


class _Conn:
    __slots__ = ("reader", "writer", "used")

    def __init__(self, reader, writer, used: float):
        self.reader, self.writer, self.used = reader, writer, used


async def _exchange(conn: _Conn, raw: bytes) -> int:
    """Send one request, read its whole response; the status code."""
    conn.writer.write(raw)
    head = await conn.reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        k = k.strip().lower()
        if k == b"content-length":
            length = int(v)
        elif k == b"transfer-encoding" and b"chunked" in v.lower():
            chunked = True
    if length is not None:
        await conn.reader.readexactly(length)
    elif chunked:
        while True:
            size = int((await conn.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await conn.reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _load(host: str, port: int, plan: list[tuple[str, bytes]], rate: float,
                warmup: float, seconds: float, connections: int, give_up: float) -> dict:
    idle: list[_Conn] = []
    opened = [0]
    peak = [0]
    free = asyncio.Condition()
    lat: dict[str, list[float]] = {}
    bad: dict[str, int] = {}
    not_sent = [0]
    statuses: dict[int, int] = {}      # the answers that were not 200 (0: connection failed)
    answered: dict[str, int] = {}      # 200s of each kind, warm-up included
    last = [0.0]                       # when the last measured request was answered
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.3
    measure_from = t0 + warmup
    stop_at = t0 + warmup + seconds + give_up

    async def take() -> _Conn:
        now = loop.time()
        while idle and now - idle[0].used > KEEP_IDLE:     # the server may have closed it
            idle.pop(0).writer.close()
            opened[0] -= 1
        if idle:
            return idle.pop()
        if opened[0] < connections:
            opened[0] += 1
            peak[0] = max(peak[0], opened[0])
            try:
                r, w = await asyncio.open_connection(host, port, limit=1 << 20)
            except OSError:
                opened[0] -= 1
                raise
            return _Conn(r, w, now)
        async with free:
            await free.wait_for(lambda: bool(idle))
            return idle.pop()

    async def one(kind: str, raw: bytes, due: float) -> None:
        conn = None
        try:
            conn = await take()
            if loop.time() > stop_at:      # saturated: what is still waiting is not sent
                not_sent[0] += 1
                idle.append(conn)
                async with free:
                    free.notify()
                return
            status = await _exchange(conn, raw)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = 0
            if conn is not None:
                conn.writer.close()
                opened[0] -= 1
                conn = None
        done = loop.time()
        if status == 200:
            answered[kind] = answered.get(kind, 0) + 1
        if due >= measure_from:
            lat.setdefault(kind, []).append(done - due)
            last[0] = max(last[0], done)
            if status != 200:
                bad[kind] = bad.get(kind, 0) + 1
                statuses[status] = statuses.get(status, 0) + 1
        if conn is not None:
            conn.used = done
            idle.append(conn)
        async with free:
            free.notify()

    tasks = []
    for k, (kind, raw) in enumerate(plan):
        due = t0 + k / rate
        wait = due - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.ensure_future(one(kind, raw, due)))
    await asyncio.gather(*tasks)
    for c in idle:
        c.writer.close()
    out: dict = {"not_sent": not_sent[0], "connections_peak": peak[0],
                 "not_200": {str(k): v for k, v in sorted(statuses.items())},
                 "answered": answered}
    span = max(last[0] - measure_from, seconds)   # a saturated server answers late
    for kind, xs in lat.items():
        xs.sort()
        q = statistics.quantiles(xs, n=100, method="inclusive") if len(xs) > 1 else [0] * 99
        out[kind] = {"requests": len(xs), "rps": round(len(xs) / span, 1),
                     "p50_ms": round(q[49] * 1e3, 1), "p90_ms": round(q[89] * 1e3, 1),
                     "p99_ms": round(q[98] * 1e3, 1), "max_ms": round(xs[-1] * 1e3, 1),
                     "errors": bad.get(kind, 0)}
    return out


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run(host: str, port: int, plan: list[tuple[str, bytes]], *, rate: float, warmup: float,
        seconds: float, connections: int = 64, give_up: float = 10.0) -> dict:
    """Send ``plan`` at ``rate``/s; latency figures of the requests due after ``warmup``, and
    the generator's own CPU (``loadgen_cpu_percent``: of one core, over the whole send)."""
    try:
        import uvloop
        new_loop = uvloop.new_event_loop
    except ImportError:          # the plain asyncio loop works too, at some more CPU
        new_loop = asyncio.new_event_loop
    loop = new_loop()
    try:
        c0, w0 = _cpu(), time.perf_counter()
        out = loop.run_until_complete(_load(host, port, plan, rate, warmup, seconds,
                                            connections, give_up))
        c1, w1 = _cpu(), time.perf_counter()
    finally:
        loop.close()
    out["loadgen_cpu_percent"] = round(100 * (c1 - c0) / (w1 - w0), 1)
    out["loadgen_cpus"] = os.cpu_count()
    return out


def _ticks(pid: int) -> int:
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(f[11]) + int(f[12])          # utime + stime


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pids) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each of ``pids``."""
    hz = os.sysconf("SC_CLK_TCK")
    return {p: _ticks(p) / hz for p in pids}


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (/proc/stat)."""
    hz = os.sysconf("SC_CLK_TCK")
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = v[3] + v[4]
    return (sum(v) - idle) / hz, sum(v) / hz
