"""The audit log: every write and every read of personal data, append-only and hash-chained.

Chains. Each row belongs to one *chain*, named by the region scope of the acting account
(``310104`` for a district clerk or a citizen of that district, ``310100`` for a city
inspector, ``national`` for national staff and the system). Each row stores ``hash =
sha256(prev_hash | canonical row)`` where ``prev_hash`` is the hash of the previous row *of
its chain* (the first row of a chain links to the chain's genesis). Appends to one chain are
serialised on that chain's lock, so a chain is linear, while appends to different chains run
side by side. ``SHEBAO_AUDIT_CHAINS=single`` puts every row on the ``national`` chain (one
lock for the platform, as before chains existed); ``SHEBAO_AUDIT_LANES=N`` splits each
region's chain into N lanes by actor (``310104.0`` … ``310104.N-1``) for a district whose own
appends queue on one lock. Rows written before chains existed are the start of the
``national`` chain (its genesis is the old one).

Editing, deleting, reordering or moving any row breaks its chain from that row on, which
:func:`verify` reports (``shebao audit verify``). The database refuses UPDATE and DELETE on the
table (triggers in migration 0001).

Anchors. Someone who can drop those triggers can also cut the last rows off a chain, or
recompute a whole chain; the log alone cannot show that. :func:`anchor` therefore appends each
chain's row count, last row id and last hash, with a timestamp, as one JSON line to a file
outside the database (``SHEBAO_AUDIT_ANCHOR_FILE``, default ``$SHEBAO_VAR/audit/anchors.jsonl``,
opened O_APPEND, mode 0600), optionally with an HMAC keyed from outside the database
(``SHEBAO_AUDIT_ANCHOR_KEY`` or ``SHEBAO_AUDIT_ANCHOR_KEY_FILE``); the line is also printed,
for a notary or a second system to keep. :func:`verify` with anchors checks that every
anchored row is still on its chain with the anchored hash and the anchored count of rows up
to it. Anchor from cron (``shebao audit anchor``) or let the web app anchor every
``SHEBAO_AUDIT_ANCHOR_EVERY`` seconds (:func:`start_periodic_anchor`).

Personal data never goes into ``detail`` in clear: callers pass masked values.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.db.dialect import xact_lock, xact_lock_key

from .tables import audit_log

GENESIS = "0" * 64
NATIONAL_CHAIN = regions.NATIONAL
_LOCK_NS = 0x5EBA0A0D  # advisory lock namespace of the audit chains
ANCHOR_VERSION = 1


def genesis(chain: str) -> str:
    """The ``prev_hash`` of a chain's first row. The national chain keeps the pre-chain
    genesis, so rows written before chains existed verify unchanged."""
    if chain == NATIONAL_CHAIN:
        return GENESIS
    return hashlib.sha256(f"shebao-audit-genesis|{chain}".encode()).hexdigest()


def _lanes() -> int:
    raw = os.environ.get("SHEBAO_AUDIT_LANES") or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= 64:
        raise InputError("must be a whole number from 1 to 64", field="SHEBAO_AUDIT_LANES")
    return int(raw)


def chain_of(actor: Actor) -> str:
    """The chain an actor's rows go to: their region scope (``national`` when chains are off),
    split into ``SHEBAO_AUDIT_LANES`` lanes by actor (``310104.3``) when one region's appends
    are still too many for one lock. One actor always writes to one chain."""
    if os.environ.get("SHEBAO_AUDIT_CHAINS", "region").strip().lower() == "single":
        return NATIONAL_CHAIN
    scope = actor.scope or NATIONAL_CHAIN
    chain = scope if regions.is_region_code(scope) else NATIONAL_CHAIN
    lanes = _lanes()
    if lanes == 1:
        return chain
    return f"{chain}.{zlib.crc32(actor.id.encode('utf-8')) % lanes}"


def _canonical(row: dict) -> str:
    keys = ("at", "actor", "role", "action", "subject_type", "subject_id", "fields", "purpose",
            "detail")
    return json.dumps({k: row.get(k) for k in keys}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str)


def _digest(prev_hash: str, row: dict) -> str:
    return hashlib.sha256((prev_hash + "|" + _canonical(row)).encode("utf-8")).hexdigest()


def _at_text(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lock_chain(conn: Connection, chain: str) -> None:
    """Take ``chain``'s lock for the rest of the transaction. A service that takes other locks
    too (the ledger) takes its actor's chain lock first, so all writers lock in one order."""
    xact_lock(conn, _LOCK_NS, chain)


def chain_lock_key(chain: str) -> tuple[int, int]:
    """The advisory lock ``lock_chain`` takes on PostgreSQL, as its two int4 arguments."""
    return xact_lock_key(_LOCK_NS, chain)


_appends = 0  # rows appended by this process (read by the periodic anchor)


def _locked_head(conn: Connection, actor: Actor) -> tuple[str, str]:
    """The actor's chain, locked for this transaction, and the hash its next row links to."""
    chain = chain_of(actor)
    lock_chain(conn, chain)
    prev = conn.execute(select(audit_log.c.hash).where(audit_log.c.chain == chain)
                        .order_by(audit_log.c.id.desc()).limit(1)
                        ).scalar_one_or_none() or genesis(chain)
    return chain, prev


def record(conn: Connection, actor: Actor, action: str, subject_type: str,
           subject_id: object = None, *, fields: list[str] | None = None,
           purpose: str | None = None, detail: dict | None = None) -> str:
    """Append one audit row to the actor's chain inside the caller's transaction; returns its
    hash."""
    global _appends
    chain, prev = _locked_head(conn, actor)
    at = dt.datetime.now(dt.timezone.utc)
    row = {
        "at": _at_text(at), "actor": actor.id, "role": actor.role, "action": action,
        "subject_type": subject_type,
        "subject_id": None if subject_id is None else str(subject_id),
        "fields": ",".join(fields) if fields else None, "purpose": purpose,
        "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str)
        if detail is not None else None,
    }
    h = _digest(prev, row)
    conn.execute(audit_log.insert().values(**{**row, "at": at}, chain=chain, prev_hash=prev,
                                           hash=h))
    _appends += 1
    return h


# --------------------------------------------------------------------------- anchors
def anchor_path(path: str | os.PathLike | None = None) -> Path:
    if path:
        return Path(path)
    env = os.environ.get("SHEBAO_AUDIT_ANCHOR_FILE")
    if env:
        return Path(env)
    return Path(os.environ.get("SHEBAO_VAR", "var")) / "audit" / "anchors.jsonl"


def anchor_key() -> bytes | None:
    """The HMAC key for anchor lines, kept outside the database: ``SHEBAO_AUDIT_ANCHOR_KEY``
    (the key itself) or ``SHEBAO_AUDIT_ANCHOR_KEY_FILE`` (a file holding it); None = no HMAC."""
    key = os.environ.get("SHEBAO_AUDIT_ANCHOR_KEY")
    if key:
        return key.encode("utf-8")
    kf = os.environ.get("SHEBAO_AUDIT_ANCHOR_KEY_FILE")
    if kf:
        try:
            data = Path(kf).read_bytes().strip()
        except OSError as exc:
            raise InputError(f"cannot read the anchor key file: {exc.strerror}",
                             field="SHEBAO_AUDIT_ANCHOR_KEY_FILE") from exc
        if not data:
            raise InputError("the anchor key file is empty", field="SHEBAO_AUDIT_ANCHOR_KEY_FILE")
        return data
    return None


def _anchor_body(a: dict) -> bytes:
    return json.dumps({k: v for k, v in a.items() if k != "hmac"}, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def heads(conn: Connection) -> dict[str, dict]:
    """Each chain's row count, last row id and last hash, from one snapshot."""
    counts = conn.execute(select(audit_log.c.chain, func.count(), func.max(audit_log.c.id))
                          .group_by(audit_log.c.chain)).all()
    if not counts:
        return {}
    hashes = dict(conn.execute(select(audit_log.c.id, audit_log.c.hash)
                               .where(audit_log.c.id.in_([int(m) for _, _, m in counts]))).all())
    return {c: {"rows": int(n), "last_id": int(m), "last_hash": hashes[m]}
            for c, n, m in sorted(counts)}


def anchor(db: Engine | Connection, path: str | os.PathLike | None = None, *,
           key: bytes | None = None) -> dict:
    """Append the chains' heads to the anchor file (one JSON line) and return the anchor."""
    if isinstance(db, Engine):
        with db.connect() as conn:
            chains = heads(conn)
    else:
        chains = heads(db)
    a = {"v": ANCHOR_VERSION, "at": _at_text(dt.datetime.now(dt.timezone.utc)),
         "rows": sum(c["rows"] for c in chains.values()), "chains": chains}
    key = key if key is not None else anchor_key()
    if key:
        a["hmac"] = hmac.new(key, _anchor_body(a), hashlib.sha256).hexdigest()
    p = anchor_path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(a, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")
    fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)   # one write of one line: concurrent anchors never interleave
        os.fsync(fd)
    finally:
        os.close(fd)
    return a


def anchor_line(a: dict) -> str:
    return json.dumps(a, sort_keys=True, separators=(",", ":"))


def read_anchors(path: str | os.PathLike, key: bytes | None = None) -> list[dict]:
    """The anchors of a file, oldest first. A line that is not an anchor, or (with a key) whose
    HMAC is missing or wrong, is refused naming its line number."""
    out = []
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the anchor file: {exc.strerror}", field="anchor") from exc
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            a = json.loads(line)
            chains = a["chains"]
            for c in chains.values():
                int(c["rows"]), int(c["last_id"]), str(c["last_hash"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"{p}: line {no} is not an audit anchor", field="anchor") from exc
        if key is not None:
            want = hmac.new(key, _anchor_body(a), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(str(a.get("hmac", "")), want):
                raise InputError(f"{p}: line {no}: the anchor's HMAC does not match (the anchor "
                                 f"file was edited, or another key is configured)",
                                 field="anchor")
        a["_line"] = no
        out.append(a)
    return out


class PeriodicAnchor:
    """A daemon thread that anchors every ``every`` seconds when rows were appended since the
    last anchor (by this process or, seen through the chain heads, by any other)."""

    def __init__(self, engine: Engine, every: float, path=None):
        self.engine, self.every, self.path = engine, every, path
        self._stop = threading.Event()
        self._last: dict | None = None
        self.thread = threading.Thread(target=self._run, name="audit-anchor", daemon=True)

    def tick(self) -> dict | None:
        with self.engine.connect() as conn:
            now = heads(conn)
        if now and now != self._last:
            a = anchor(self.engine, self.path)
            self._last = a["chains"]
            return a
        return None

    def _run(self):
        while not self._stop.wait(self.every):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a failed anchor is retried next period
                pass

    def stop(self):
        self._stop.set()


def start_periodic_anchor(engine: Engine, every: float | None = None, path=None
                          ) -> PeriodicAnchor | None:
    """Start anchoring every ``every`` seconds (default ``SHEBAO_AUDIT_ANCHOR_EVERY``; 0 or
    unset = off, anchor from cron instead)."""
    if every is None:
        try:
            every = float(os.environ.get("SHEBAO_AUDIT_ANCHOR_EVERY") or 0)
        except ValueError as exc:
            raise InputError("must be a number of seconds",
                             field="SHEBAO_AUDIT_ANCHOR_EVERY") from exc
    if every <= 0:
        return None
    pa = PeriodicAnchor(engine, every, path)
    pa.thread.start()
    return pa


# --------------------------------------------------------------------------- verify
@dataclass
class VerifyResult:
    ok: bool
    rows: int
    first_bad_id: int | None = None
    reason: str | None = None
    chain: str | None = None
    chains: dict[str, int] = field(default_factory=dict)
    anchors: int = 0


def verify(conn: Connection, anchors: list[dict] | None = None) -> VerifyResult:
    """Walk every chain in id order; the first row whose links or hash do not hold is named.
    With ``anchors``, every anchored head must still be on its chain: same hash at the anchored
    row id, same number of rows up to it."""
    marks: dict[str, dict[int, tuple[str, int, str]]] = {}
    for a in anchors or ():
        for chain, h in a["chains"].items():
            marks.setdefault(chain, {})[int(h["last_id"])] = (h["last_hash"], int(h["rows"]),
                                                               str(a.get("at")))
    prev: dict[str, str] = {}
    count: dict[str, int] = {}
    n = 0
    q = select(audit_log).order_by(audit_log.c.id).execution_options(yield_per=5000)
    for r in conn.execute(q).mappings():
        n += 1
        chain = r["chain"]
        if r["prev_hash"] != prev.get(chain, genesis(chain)):
            return VerifyResult(False, n, r["id"], "prev_hash does not match the previous row of "
                                f"chain {chain} (a row was removed or reordered before it)",
                                chain, count)
        row = dict(r)
        at = row["at"]
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.timezone.utc)
        row["at"] = _at_text(at)
        if _digest(prev.get(chain, genesis(chain)), row) != r["hash"]:
            return VerifyResult(False, n, r["id"], "row content does not match its hash (edited)",
                                chain, count)
        prev[chain] = r["hash"]
        count[chain] = count.get(chain, 0) + 1
        m = marks.get(chain, {}).pop(r["id"], None)
        if m is not None:
            if m[0] != r["hash"]:
                return VerifyResult(False, n, r["id"], f"chain {chain}: row {r['id']} no longer has "
                                    f"the hash anchored at {m[2]} (the chain was recomputed)",
                                    chain, count)
            if m[1] != count[chain]:
                return VerifyResult(False, n, r["id"], f"chain {chain}: {count[chain]} rows up to "
                                    f"row {r['id']}, {m[1]} anchored at {m[2]} (rows were removed "
                                    f"or added and the chain recomputed)", chain, count)
    for chain, left in sorted(marks.items()):
        if left:
            last_id = max(left)
            h, rows, at = left[last_id]
            have = count.get(chain, 0)
            return VerifyResult(False, n, last_id, f"chain {chain}: anchored row {last_id} "
                                f"({rows} rows, anchored at {at}) is missing; the chain now has "
                                f"{have} rows (the log was truncated after it was anchored)",
                                chain, count)
    return VerifyResult(True, n, chains=count, anchors=len(anchors or ()))


# ---------------------------------------------------------------- bulk append (batch paths)

def record_many(conn: Connection, actor: Actor, action: str, subject_type: str,
                entries: list[tuple[object, list[str] | None, dict | None]], *,
                purpose: str | None = None) -> int:
    """Append one row per ``(subject_id, fields, detail)`` to the actor's chain inside the
    caller's transaction, linked exactly as :func:`record` links them, under one lock and in
    one multi-row INSERT (a bulk import audits every person it changed). Returns the count."""
    global _appends
    if not entries:
        return 0
    chain, prev = _locked_head(conn, actor)
    at = dt.datetime.now(dt.timezone.utc)
    at_text = _at_text(at)
    rows = []
    for subject_id, fields, detail in entries:
        row = {"at": at_text, "actor": actor.id, "role": actor.role, "action": action,
               "subject_type": subject_type,
               "subject_id": None if subject_id is None else str(subject_id),
               "fields": ",".join(fields) if fields else None, "purpose": purpose,
               "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str)
               if detail is not None else None}
        h = _digest(prev, row)
        rows.append({**row, "at": at, "chain": chain, "prev_hash": prev, "hash": h})
        prev = h
    conn.execute(audit_log.insert(), rows)
    _appends += len(rows)
    return len(rows)


def record_listed(conn: Connection, actor: Actor, action: str, person_ids: list, *,
                  fields: list[str], purpose: str, detail: dict | None = None) -> None:
    """Audit a list or search that shows personal data: one row per listed person (subject
    ``person``), written in bulk by :func:`record_many`, so each appears in that person's
    own access record ("who read my data") through the same indexed subject lookup as a
    single read. Chosen over matching ids inside ``detail`` when reading the record: a JSON/
    LIKE scan of ``detail`` is unbounded and dialect-specific, a page of rows per list is not.
    An empty result still leaves one row (subject none) so the search itself is audited."""
    entries = [(pid, fields, detail) for pid in dict.fromkeys(person_ids)] \
        or [(None, fields, detail)]
    record_many(conn, actor, action, "person", entries, purpose=purpose)


def count_appends(n: int) -> None:
    """Rows appended by this process outside ``record``/``record_many`` (the read appender)."""
    global _appends
    _appends += n
