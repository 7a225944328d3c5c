"""A synthetic insured population loaded in bulk, for the benchmark and the tests.

``load_population(engine, region, people, seed)`` writes persons, employers, employment spells
and enrolments straight into the registry tables with bulk inserts (COPY on PostgreSQL), so a
million insured load in seconds. It bypasses the registry services on purpose (they validate
and audit one person at a time); use the registry's generator (``shebao generate``) for a
realistic region with names, addresses and duplicates. Shares: 80% employees (five schemes),
12% flexible workers (pension, medical), 8% urban–rural residents (resident pension). Citizen
IDs carry a correct GB 11643 check character; wages are log-normal around the local average.
On PostgreSQL (``fast``) the load skips the foreign-key triggers for its own transaction
(`db.dialect.without_fk_triggers`): the ids it writes are consistent by construction.
With ``open_accounts`` (the default) the enrolments open their individual accounts in the same
transaction, as enrolment does (``collection.enrolment.open_accounts``, set-based).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import text

from shebao.core.actor import Actor
from shebao.db.bulk import day_number, insert_columns
from shebao.db.dialect import after_explicit_ids, without_fk_triggers

EMPLOYEE_SHARE, FLEXIBLE_SHARE = 0.80, 0.12
START = dt.date(2020, 1, 1)
_W = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.frombuffer(b"10X98765432", dtype="S1")


@dataclass
class Population:
    region: str
    persons: int
    employers: int
    employees: int
    flexible: int
    residents: int
    first_person_id: int
    last_person_id: int


def citizen_ids(region: str, idx: np.ndarray) -> np.ndarray:
    """Valid-looking 18-character IDs: region + birth date + sequence + check character."""
    days = (idx % 16000).astype(np.int64) + day_number(dt.date(1962, 1, 1))
    seq = (idx // 16000) % 1000
    births = (np.datetime64("1970-01-01") + days.astype("timedelta64[D]")).astype(str)
    body = np.char.add(np.char.add(np.full(len(idx), region), np.char.replace(births, "-", "")),
                       np.char.zfill(seq.astype(str), 3))
    digits = np.frombuffer(np.char.encode(body, "ascii").tobytes(), dtype=np.uint8
                           ).reshape(len(idx), 17).astype(np.int64) - 48
    check = _CHECK[(digits * _W).sum(axis=1) % 11]
    return np.char.add(np.char.encode(body, "ascii"), check)


def load_population(engine, region: str, people: int, *, seed: int = 1,
                    employers: int | None = None, wage_fen_mean: int = 1_200_000,
                    fast: bool = True, open_accounts: bool = True) -> Population:
    rng = np.random.default_rng(seed)
    n = int(people)
    m = int(employers or max(1, n // 30))
    now = dt.datetime.now(dt.timezone.utc)
    with engine.begin() as conn:
        if fast:
            # the ids are generated consistent right here; needs a superuser on PostgreSQL
            without_fk_triggers(conn)
        base_p = conn.execute(text("SELECT coalesce(max(id), 0) FROM person")).scalar_one()
        base_e = conn.execute(text("SELECT coalesce(max(id), 0) FROM employer")).scalar_one()
        base_s = conn.execute(text("SELECT coalesce(max(id), 0) FROM employment")).scalar_one()
        pid = np.arange(base_p + 1, base_p + n + 1, dtype=np.int64)
        eid = np.arange(base_e + 1, base_e + m + 1, dtype=np.int64)
        # employers
        risk = rng.choice(np.arange(1, 9), size=m, p=[.35, .2, .15, .1, .08, .06, .04, .02])
        tier = np.where(risk == 1, rng.choice([100, 100, 120, 150], size=m),
                        rng.choice([50, 80, 100, 100, 100, 120, 150], size=m))
        insert_columns(conn, "employer", [
            ("id", "i8"), ("uscc", "S"), ("name", "S"), ("region", "S"), ("industry_code", "S"),
            ("risk_class", "i2"), ("float_tier_pct", "i2"), ("bank_name", "S"),
            ("bank_account", "S"), ("status", "S"), ("version", "i4"), ("source", "S"),
            ("created_at", "ts"), ("updated_at", "ts")], {
            "id": eid,
            "uscc": np.char.add("91" + region, np.char.zfill((eid % 10**10).astype(str), 10)),
            "name": np.char.add("EMP", np.char.zfill(eid.astype(str), 9)),
            "region": region, "industry_code": "00", "risk_class": risk,
            "float_tier_pct": tier, "bank_name": "BANK",
            "bank_account": np.char.add("6222", np.char.zfill(eid.astype(str), 15)),
            "status": "active", "version": 1, "source": "synthetic", "created_at": now,
            "updated_at": now})
        # persons
        ids = citizen_ids(region, pid - 1)
        insert_columns(conn, "person", [
            ("id", "i8"), ("citizen_id", "S"), ("name", "S"), ("status", "S"), ("version", "i4"),
            ("hukou_region", "S"), ("residence_region", "S"), ("pension_region", "S"),
            ("bank_name", "S"), ("bank_account", "S"), ("source", "S"), ("created_at", "ts"),
            ("updated_at", "ts")], {
            "id": pid, "citizen_id": ids, "name": np.char.add("P", np.char.zfill(pid.astype(str), 9)),
            "status": "active", "version": 1, "hukou_region": region, "residence_region": region,
            "pension_region": region, "bank_name": "BANK",
            "bank_account": np.char.add("6217", np.char.zfill(pid.astype(str), 15)),
            "source": "synthetic", "created_at": now, "updated_at": now})
        u = rng.random(n)
        is_emp = u < EMPLOYEE_SHARE
        is_flex = (u >= EMPLOYEE_SHARE) & (u < EMPLOYEE_SHARE + FLEXIBLE_SHARE)
        is_res = ~(is_emp | is_flex)
        ep = pid[is_emp]
        k = len(ep)
        # employment spells: persons spread over employers, skewed to large ones
        emp_of = eid[np.minimum((rng.pareto(1.2, size=k) * m / 20).astype(np.int64), m - 1)]
        wage = np.maximum((rng.lognormal(0.0, 0.55, size=k) * wage_fen_mean).astype(np.int64)
                          // 100 * 100, 200_000)
        sid = np.arange(base_s + 1, base_s + k + 1, dtype=np.int64)
        start = day_number(START)
        insert_columns(conn, "employment", [
            ("id", "i8"), ("person_id", "i8"), ("origin_person_id", "i8"), ("employer_id", "i8"),
            ("start_date", "date"), ("wage_fen", "i8"), ("wage_year", "i4"), ("source", "S"),
            ("created_at", "ts"), ("created_by", "S")], {
            "id": sid, "person_id": ep, "origin_person_id": ep, "employer_id": emp_of,
            "start_date": np.full(k, start), "wage_fen": wage, "wage_year": 2024,
            "source": "synthetic", "created_at": now, "created_by": "synthetic"})
        common = [("person_id", "i8"), ("origin_person_id", "i8"), ("scheme", "S"),
                  ("region", "S"), ("kind", "S"), ("start_date", "date"), ("status", "S"),
                  ("source", "S"), ("created_at", "ts"), ("created_by", "S")]
        for scheme in ("pension", "medical", "unemployment", "injury", "maternity"):
            insert_columns(conn, "enrolment", common + [("employer_id", "i8"),
                                                         ("employment_id", "i8")], {
                "person_id": ep, "origin_person_id": ep, "scheme": scheme, "region": region,
                "kind": "employee", "start_date": np.full(k, start), "status": "active",
                "source": "synthetic", "created_at": now, "created_by": "synthetic",
                "employer_id": emp_of, "employment_id": sid})
        fp = pid[is_flex]
        for scheme in ("pension", "medical"):
            insert_columns(conn, "enrolment", common, {
                "person_id": fp, "origin_person_id": fp, "scheme": scheme, "region": region,
                "kind": "flexible", "start_date": np.full(len(fp), start), "status": "active",
                "source": "synthetic", "created_at": now, "created_by": "synthetic"})
        rp = pid[is_res]
        insert_columns(conn, "enrolment", common, {
            "person_id": rp, "origin_person_id": rp, "scheme": "resident_pension",
            "region": region, "kind": "resident", "start_date": np.full(len(rp), start),
            "status": "active", "source": "synthetic", "created_at": now,
            "created_by": "synthetic"})
        after_explicit_ids(conn, ["person", "employer", "employment", "enrolment"])
        if open_accounts:
            from shebao.collection.enrolment import open_accounts as open_enrolled

            open_enrolled(conn, Actor(id="synthetic", role="system"), region=region)
    return Population(region, n, m, int(k), int(len(fp)), int(len(rp)), int(pid[0]),
                      int(pid[-1]))
