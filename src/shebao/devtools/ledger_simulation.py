"""Seeded, replayable fault simulation of the ledger (used by ``tests/simulation`` and
``bench/ledger_sim.py``).

A shadow model (pure Python) predicts the effect of every operation; after every step the
simulator asserts that the database agrees with the model (every account balance, the number
of entries and requests) and that the ledger invariants hold for everything written since the
previous step (``check.run_check`` incremental), with a full check every ``full_every`` steps
and at the end.

Operations, drawn from ``random.Random(seed)``:

* ``post``       a contribution entry (bank ← pooled fund + individual accounts)
* ``withdraw``   a debit of an individual account (refused exactly when the model says the
                 account would go negative)
* ``batch``      a batch of aggregated entries with per-person postings, two schemes
* ``retry``      a previous request again with its key → the original entries, nothing new
* ``conflict``   a previous key with changed content → ConflictError, nothing written
* ``reverse``    reverse a random entry (refused if already reversed or if it would take an
                 individual account negative)
* ``bad``        unbalanced / unknown account / malformed key / float amount → refused
* ``concurrent`` several threads posting at once on the same accounts, some with the same
                 key (exactly one of them may post)
* ``drop``       a writer whose connection dies mid-transaction (invalidated after writing
                 its postings, before COMMIT)
* ``kill``       a writer process killed with SIGKILL mid-transaction (after writing, before
                 COMMIT), or at a random moment of a batch (then all or nothing must be
                 visible, and the retry must complete it)
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import numpy as np
from sqlalchemy import text

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, InvariantError
from shebao.db.engine import make_engine

from shebao.ledger import check, model, posting, service
from shebao.ledger.model import Batch, BatchEntry, EntryRequest, Line, account_code

ACTOR = Actor(id="sim", role="system")
REGIONS = ("310000", "440300")
SIM_SCHEMES = model.INDIVIDUAL_SCHEMES  # the schemes that have individual accounts


class SimulationFailure(AssertionError):
    pass


@dataclasses.dataclass
class _Req:
    kind: str
    payload: object
    entries: list[int]
    effects: dict            # code → debit-positive delta


class Simulator:
    def __init__(self, url: str, seed: int, *, persons: int = 30, full_every: int = 250,
                 kill_every: int = 0, log=None):
        self.url, self.seed = url, seed
        self.rng = random.Random(seed)
        self.engine = make_engine(url)
        self.persons = persons
        self.full_every = full_every
        self.kill_every = kill_every
        self.log = log
        self.balances: Counter = Counter()        # code → debit-positive sum
        self.requests: dict[str, _Req] = {}
        self.entry_effects: dict[int, dict] = {}   # entry id → code → delta
        self.reversed: set[int] = set()
        self.n_entries = 0
        self.ops = Counter()
        self.refusals = Counter()
        self.violations: list = []
        self.step_no = 0
        self.last_entry = 0
        self.seq = 0

    # ------------------------------------------------------------------ setup
    def setup(self) -> None:
        for r in REGIONS:
            service.open_chart(self.engine, ACTOR, r, SIM_SCHEMES)
            for s in SIM_SCHEMES:
                service.open_individual_accounts(self.engine, ACTOR, r, s,
                                                 range(1, self.persons + 1))
        with self.engine.connect() as c:
            self.codes = {row.code: row.id for row in c.execute(text(
                "SELECT code, id FROM ledger_account"))}

    def key(self, prefix: str) -> str:
        self.seq += 1
        return f"sim:{self.seed}:{prefix}:{self.seq}"

    # ------------------------------------------------------------------ helpers
    def _entry_effects(self, lines) -> dict:
        eff: Counter = Counter()
        for ln in lines:
            eff[ln.account] += ln.amount
        return dict(eff)

    def _ok_individual(self, effects: dict) -> bool:
        """Would every no-negative account stay >= 0 (normal side) after these effects?"""
        for code, d in effects.items():
            kind = model.parse_code(code).kind
            k = model.KINDS[kind]
            if k.no_negative and (self.balances[code] + d) * k.normal_sign < 0:
                return False
        return True

    def _apply(self, key: str, req: _Req) -> None:
        self.requests[key] = req
        for code, d in req.effects.items():
            self.balances[code] += d
        self.n_entries += len(req.entries)

    def _contribution(self, region=None, scheme=None) -> EntryRequest:
        rng = self.rng
        region = region or rng.choice(REGIONS)
        scheme = scheme or rng.choice(SIM_SCHEMES)
        people = rng.sample(range(1, self.persons + 1), rng.randint(1, 3))
        indiv = [rng.randint(1, 50_000) for _ in people]
        pooled = rng.randint(1, 200_000)
        lines = [Line.debit(account_code(region, scheme, "fund_bank"), pooled + sum(indiv)),
                 Line.credit(account_code(region, scheme, "pooled_fund"), pooled)]
        lines += [Line.credit(account_code(region, scheme, "individual", p), a)
                  for p, a in zip(people, indiv)]
        eff = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 700))
        return EntryRequest(eff, tuple(lines), "sim", f"step {self.step_no}")

    def _post_entry(self, key: str, req: EntryRequest) -> None:
        effects = self._entry_effects(req.lines)
        expect_ok = self._ok_individual(effects)
        try:
            res = service.post_entry(self.engine, ACTOR, key, req)
        except InvariantError:
            if expect_ok:
                raise SimulationFailure(f"step {self.step_no}: {key} refused but the model "
                                        f"says it is allowed")
            self.refusals["negative"] += 1
            return
        if not expect_ok:
            raise SimulationFailure(f"step {self.step_no}: {key} took a no-negative account "
                                    f"below zero and was accepted")
        if res.replayed:
            raise SimulationFailure(f"step {self.step_no}: new key {key} reported as replay")
        self._apply(key, _Req("entry", req, res.entry_ids, effects))
        self.entry_effects[res.entry_id] = effects

    # ------------------------------------------------------------------ operations
    def op_post(self):
        self._post_entry(self.key("post"), self._contribution())

    def op_withdraw(self):
        rng = self.rng
        region, scheme = rng.choice(REGIONS), rng.choice(SIM_SCHEMES)
        p = rng.randint(1, self.persons)
        acct = account_code(region, scheme, "individual", p)
        have = -self.balances[acct]
        amt = max(1, int(have * rng.uniform(0.2, 1.3))) if have > 0 else rng.randint(1, 100)
        req = EntryRequest(dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 300)),
                           (Line.debit(acct, amt),
                            Line.credit(account_code(region, scheme, "benefits_payable"), amt)),
                           "sim", "withdrawal")
        self._post_entry(self.key("wd"), req)

    def op_batch(self):
        rng = self.rng
        entries = []
        for scheme in SIM_SCHEMES:
            region = rng.choice(REGIONS)
            n = rng.randint(1, self.persons)
            pids = np.array(sorted(rng.sample(range(1, self.persons + 1), n)), np.int64)
            pooled = np.array([rng.randint(0, 40_000) for _ in range(n)], np.int64)
            indiv = np.array([rng.randint(0, 10_000) for _ in range(n)], np.int64)
            entries.append(model.contribution_entry(
                region, scheme, dt.date(2025, rng.randint(1, 12), 1),
                debit_kind="receivable_employer", person_ids=pids, pooled_fen=pooled,
                individual_fen=indiv, source="sim.batch"))
        batch = Batch(entries)
        try:
            valid = batch.validated()
        except InvariantError:   # every amount happened to be zero
            return
        key = self.key("batch")
        res = service.post_batch(self.engine, ACTOR, key, batch)
        self._apply(key, _Req("batch", batch, res.entry_ids, self._batch_effects(valid)))

    def _batch_effects(self, valid: Batch) -> dict:
        eff: Counter = Counter()
        for be in valid.entries:
            for ln in be.lines:
                eff[ln.account] += ln.amount
            for p, a in zip(be.person_ids.tolist(), be.person_amounts.tolist()):
                eff[account_code(be.region, be.scheme, "individual", p)] += a
        return dict(eff)

    def op_retry(self):
        if not self.requests:
            return self.op_post()
        key = self.rng.choice(sorted(self.requests))
        req = self.requests[key]
        if req.kind == "entry":
            res = service.post_entry(self.engine, ACTOR, key, req.payload)
        elif req.kind == "batch":
            res = service.post_batch(self.engine, ACTOR, key, req.payload)
        else:
            res = service.reverse_entry(self.engine, ACTOR, key, req.payload)
        if not res.replayed or res.entry_ids != req.entries:
            raise SimulationFailure(f"step {self.step_no}: retry of {key} returned "
                                    f"{res.entry_ids} (replayed={res.replayed}), expected "
                                    f"{req.entries}")

    def op_conflict(self):
        entries = [k for k, r in self.requests.items() if r.kind == "entry"]
        if not entries:
            return self.op_post()
        key = self.rng.choice(sorted(entries))
        req = self.requests[key].payload
        lines = list(req.lines)
        lines[0] = Line(lines[0].account, lines[0].amount + 1)
        lines[1] = Line(lines[1].account, lines[1].amount - 1)
        try:
            service.post_entry(self.engine, ACTOR, key, dataclasses.replace(req, lines=tuple(lines)))
        except ConflictError:
            self.refusals["conflict"] += 1
            return
        raise SimulationFailure(f"step {self.step_no}: changed content under {key} accepted")

    def op_reverse(self):
        if not self.entry_effects:
            return self.op_post()
        eid = self.rng.choice(list(self.entry_effects))   # creation order: same on both backends
        effects = {c: -d for c, d in self.entry_effects[eid].items()}
        key = self.key("rev")
        try:
            res = service.reverse_entry(self.engine, ACTOR, key, eid)
        except ConflictError:
            if eid not in self.reversed:
                raise SimulationFailure(f"step {self.step_no}: reversal of {eid} refused as "
                                        f"already reversed")
            self.refusals["double_reversal"] += 1
            return
        except InvariantError:
            if self._ok_individual(effects):
                raise SimulationFailure(f"step {self.step_no}: reversal of {eid} refused")
            self.refusals["negative"] += 1
            return
        if eid in self.reversed or not self._ok_individual(effects):
            raise SimulationFailure(f"step {self.step_no}: reversal of {eid} accepted but the "
                                    f"model forbids it")
        self.reversed.add(eid)
        self._apply(key, _Req("reversal", eid, res.entry_ids, effects))
        self.entry_effects[res.entry_id] = effects

    def op_bad(self):
        rng = self.rng
        good = self._contribution()
        choice = rng.randrange(5)
        if choice == 0:   # unbalanced
            lines = list(good.lines)
            lines[0] = Line(lines[0].account, lines[0].amount + rng.randint(1, 99))
            req, key = dataclasses.replace(good, lines=tuple(lines)), self.key("bad")
        elif choice == 1:  # unknown account
            lines = list(good.lines) + [Line.debit("310000.pension.individual.999999", 5),
                                        Line.credit("310000.pension.pooled_fund", 5)]
            req, key = dataclasses.replace(good, lines=tuple(lines)), self.key("bad")
        elif choice == 2:  # malformed key
            req, key = good, " bad key " + str(self.seq)
        elif choice == 3:  # float amount
            lines = list(good.lines)
            lines[0] = Line(lines[0].account, float(lines[0].amount))
            req, key = dataclasses.replace(good, lines=tuple(lines)), self.key("bad")
        else:             # mixes two regions' funds
            other = self._contribution(region=REGIONS[0], scheme="pension")
            a = Line.debit(account_code(REGIONS[0], "pension", "fund_bank"), 100)
            b = Line.credit(account_code(REGIONS[1], "pension", "pooled_fund"), 100)
            req, key = dataclasses.replace(other, lines=(a, b)), self.key("bad")
        try:
            service.post_entry(self.engine, ACTOR, key, req)
        except (InputError, InvariantError):
            self.refusals["bad_request"] += 1
            return
        raise SimulationFailure(f"step {self.step_no}: bad request #{choice} accepted")

    def op_concurrent(self):
        rng = self.rng
        region, scheme = rng.choice(REGIONS), rng.choice(SIM_SCHEMES)
        n_threads = 4
        plans = []
        shared_key = self.key("dup")
        shared_req = self._contribution(region, scheme)
        for t in range(n_threads):
            mine = [(self.key(f"c{t}"), self._contribution(region, scheme)) for _ in range(3)]
            mine.append((shared_key, shared_req))      # every thread also tries the same key
            rng.shuffle(mine)
            plans.append(mine)
        results: dict[str, list] = {}
        errors = []
        lock = threading.Lock()

        def worker(plan):
            try:
                for key, req in plan:
                    res = service.post_entry(self.engine, ACTOR, key, req)
                    with lock:
                        results.setdefault(key, []).append(res)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(p,)) for p in plans]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            raise SimulationFailure(f"step {self.step_no}: concurrent writer failed: {errors[0]!r}")
        dup = results[shared_key]
        if sum(not r.replayed for r in dup) != 1 or len({tuple(r.entry_ids) for r in dup}) != 1:
            raise SimulationFailure(f"step {self.step_no}: concurrent same-key posts gave {dup}")
        for plan in plans:
            for key, req in plan:
                if key in self.requests:
                    continue
                res = [r for r in results[key] if not r.replayed][0]
                effects = self._entry_effects(req.lines)
                self._apply(key, _Req("entry", req, res.entry_ids, effects))
                self.entry_effects[res.entry_id] = effects

    def op_drop(self):
        """A connection that dies after writing its postings, before COMMIT."""
        req = self._contribution().validated()
        conn = self.engine.connect()
        try:
            conn.begin()
            posting._serialise(conn, ACTOR)
            rid, _ = posting._claim(conn, ACTOR, self.key("drop"), "entry", req.content_hash())
            posting._write(conn, rid, [posting._prepare_entry(conn, req)])
        finally:
            conn.invalidate()      # the socket / file handle goes away without COMMIT
            conn.close()

    def op_kill(self):
        """A writer process killed with SIGKILL mid-transaction."""
        mode = self.rng.choice(["after_write", "random"])
        key = self.key("kill")
        persons = self.rng.randint(200, 2000)
        bseed = self.rng.randrange(1 << 30)
        proc = subprocess.Popen(
            [sys.executable, "-c", _KILL_SCRIPT, self.url, key, mode, str(persons),
             str(bseed)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            line = proc.stdout.readline()
            if not line.startswith("STARTED"):
                raise SimulationFailure(f"kill writer did not start: {line!r} "
                                        f"{proc.stderr.read()[:2000]}")
            if mode == "after_write":
                line = proc.stdout.readline()
                if not line.startswith("WRITTEN"):
                    raise SimulationFailure(f"kill writer failed: {line!r} "
                                            f"{proc.stderr.read()[:2000]}")
            else:
                time.sleep(self.rng.uniform(0.0, 0.4))
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        self.ops[f"kill_{mode}"] += 1
        batch = _kill_batch(key, persons, bseed)
        # Either all of it is there (it committed before the signal) or none of it.
        with self.engine.connect() as c:
            stored = c.execute(text("SELECT id FROM ledger_request WHERE key = :k"),
                               {"k": key}).scalar_one_or_none()
        # the writer's retry after the crash: completes it, or replays it
        res = service.post_batch(self.engine, ACTOR, key, batch, open_missing=True)
        if stored is not None and not res.replayed:
            raise SimulationFailure(f"step {self.step_no}: {key} was stored but not replayed")
        if stored is None and res.replayed:
            raise SimulationFailure(f"step {self.step_no}: {key} replayed but was not stored")
        if stored is not None:
            self.refusals["kill_committed_first"] += 1
        self._refresh_codes()
        self._apply(key, _Req("batch", batch, res.entry_ids,
                              self._batch_effects(batch.validated())))

    def _refresh_codes(self):
        with self.engine.connect() as c:
            self.codes = {row.code: row.id for row in c.execute(text(
                "SELECT code, id FROM ledger_account"))}

    # ------------------------------------------------------------------ verification
    def verify(self, full: bool = False) -> None:
        rep = check.run_check(self.engine, since_entry=None if full else self.last_entry,
                              trial_balance=full)
        with self.engine.connect() as c:
            rows = c.execute(text("SELECT code, balance FROM ledger_account")).all()
            n_entries, n_req, self.last_entry = c.execute(text(
                "SELECT (SELECT count(*) FROM ledger_entry), (SELECT count(*) FROM "
                "ledger_request), (SELECT coalesce(max(id), 0) FROM ledger_entry)")).one()
        problems = list(rep.violations)
        for code, bal in rows:
            if bal != self.balances.get(code, 0):
                problems.append({"invariant": "model_balance", "account": code,
                                 "detail": f"db {bal} != model {self.balances.get(code, 0)}"})
        if n_entries != self.n_entries:
            problems.append({"invariant": "model_entries",
                             "detail": f"db {n_entries} entries != model {self.n_entries}"})
        if n_req != len(self.requests):
            problems.append({"invariant": "model_requests",
                             "detail": f"db {n_req} requests != model {len(self.requests)}"})
        if problems:
            self.violations.extend(problems)
            raise SimulationFailure(f"seed {self.seed} step {self.step_no}: {problems[:5]}")

    # ------------------------------------------------------------------ driver
    WEIGHTS = {"post": 30, "withdraw": 12, "batch": 6, "retry": 14, "conflict": 6,
               "reverse": 10, "bad": 10, "concurrent": 3, "drop": 3}

    def run(self, ops: int) -> dict:
        t0 = time.perf_counter()
        self.setup()
        self.verify(full=True)
        names = list(self.WEIGHTS)
        weights = [self.WEIGHTS[n] for n in names]
        done = 0
        while done < ops:
            self.step_no += 1
            if self.kill_every and self.step_no % self.kill_every == 0:
                name = "kill"
            else:
                name = self.rng.choices(names, weights)[0]
            getattr(self, f"op_{name}")()
            self.ops[name] += 1
            done += 4 if name == "concurrent" else 1
            self.verify(full=self.step_no % self.full_every == 0)
            if self.log and self.step_no % 500 == 0:
                self.log(f"  step {self.step_no}: {done} ops, {self.n_entries} entries")
        self.verify(full=True)
        elapsed = time.perf_counter() - t0
        self.engine.dispose()
        return {"seed": self.seed, "ops": done, "steps": self.step_no,
                "entries": self.n_entries, "requests": len(self.requests),
                "violations": len(self.violations), "seconds": round(elapsed, 2),
                "by_op": dict(self.ops), "refused_as_expected": dict(self.refusals)}


def _kill_batch(key: str, persons: int, seed: int) -> Batch:
    rng = np.random.default_rng(seed)
    pids = np.arange(1, persons + 1, dtype=np.int64) + 1000
    entries = [model.contribution_entry(
        REGIONS[i % 2], scheme, dt.date(2025, 6, 1), debit_kind="bank_transit",
        person_ids=pids, pooled_fen=rng.integers(1, 30_000, persons),
        individual_fen=rng.integers(1, 8_000, persons), source="sim.kill")
        for i, scheme in enumerate(SIM_SCHEMES)]
    return Batch(entries)


# The writer that gets killed: same batch as the parent rebuilds (same seed).
_KILL_SCRIPT = r"""
import sys, time
from shebao.devtools import ledger_simulation as sim
from shebao.ledger import posting
url, key, mode, persons, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
batch = sim._kill_batch(key, persons, seed)
engine = sim.make_engine(url)
print("STARTED", flush=True)
if mode == "after_write":
    conn = engine.connect()
    conn.begin()
    posting._serialise(conn, sim.ACTOR)
    b = batch.validated()
    rid, _ = posting._claim(conn, sim.ACTOR, key, "batch", b.content_hash())
    prepared = [posting._prepare_batch_entry(conn, be, True) for be in b.entries]
    posting._write(conn, rid, prepared)
    print("WRITTEN", flush=True)
    time.sleep(600)
else:
    service.post_batch(engine, sim.ACTOR, key, batch, open_missing=True)
    print("COMMITTED", flush=True)
    time.sleep(600)
"""
