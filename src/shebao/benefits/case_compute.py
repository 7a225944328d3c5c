"""Computing pension cases: the regular ones in columns (:mod:`.retirement_batch`), the others
case by case (:func:`.model.gather`, every check with its message), all written back by one
set-based UPDATE per chunk.

    compute_cases(conn, case_ids, columns=True) -> {case_id: status}
"""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from shebao.core.money import fen_to_yuan_str
from shebao.db.bulk import day_number, insert_columns, json_ids_sql, json_list, stage
from shebao.db.dialect import for_index_probes
from shebao.db.uow import now as _now
from shebao.ledger import queries as ledger_queries
from shebao.registry import queries as registry_queries
from shebao.rules import load_rules

from . import history as H
from . import retirement_batch
from .model import CaseContext, account_balance, amounts, gather
from .rules_memo import ChunkRules
from .tables import pension_case

COMPUTE_CHUNK = 20_000     # cases computed together (columns in memory, a few queries)
_READ = ("id", "person_id", "region", "category", "claim", "requested_date")   # what computing reads


def _date(v) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def compute_cases(conn: Connection, case_ids: list[int], *, columns: bool = True
                  ) -> dict[int, str]:
    """(Re)compute cases set-based; returns {case_id: status}. ``columns=False`` computes
    every case by the per-case path (the reference the column path is checked against)."""
    out: dict[int, str] = {}
    for i in range(0, len(case_ids), COMPUTE_CHUNK):
        cases = _read_cases(conn, case_ids[i:i + COMPUTE_CHUNK])
        updates = computed(conn, cases, columns=columns)
        _write(conn, updates)
        out.update({u["cid"]: u["status"] for u in updates})
    return out


def open_computed(conn: Connection, cases: list[dict], opened: dict) -> dict[int, str]:
    """New cases (dicts with ``_READ``'s keys, ids drawn from the sequence) computed first and
    then copied in once, finished — no insert followed by an update. ``opened``: status
    "open" would be, opened_by, opened_at. Returns {case_id: status}."""
    out: dict[int, str] = {}
    for i in range(0, len(cases), COMPUTE_CHUNK):
        part = cases[i:i + COMPUTE_CHUNK]
        updates = computed(conn, part)
        _write(conn, updates, insert=(part, opened))
        out.update({u["cid"]: u["status"] for u in updates})
    return out


def computed(conn: Connection, cases: list[dict], *, columns: bool = True) -> list[dict]:
    """The computed values of ``cases`` (one chunk): the regular ones in columns, the rest
    (and anything to explain) case by case."""
    rules = ChunkRules(load_rules())      # each (parameter, region, day) looked up once
    # every read joins the chunk's ids to a big table (persons, history, accounts, postings)
    with for_index_probes(conn):
        persons = registry_queries.person_facts(conn, [c["person_id"] for c in cases])
        t = _now()
        updates, rest = (retirement_batch.compute_regular(conn, rules, cases, persons, t)
                         if columns else ([], cases))
        return updates + _compute_each(conn, rules, rest, persons, t)


def _read_cases(conn: Connection, ids: list[int]) -> list[dict]:
    cols = ", ".join("c." + k for k in _READ)
    return [dict(r) for r in conn.execute(text(
        f"SELECT {cols} FROM pension_case c JOIN {json_ids_sql(conn)} ON c.id = v.id").columns(
        *(pension_case.c[k] for k in _READ)), {"vals": json_list(ids)}).mappings()]


def _compute_each(conn: Connection, rules, cases: list[dict], persons: dict,
                  t: dt.datetime) -> list[dict]:
    """The per-case path: every check of ``model.gather`` with its message; a full decision."""
    if not cases:
        return []
    hist = H.history_rows(conn, [c["person_id"] for c in cases])
    ctxs = [CaseContext(c, persons[c["person_id"]]) for c in cases]
    for ctx in ctxs:
        gather(rules, ctx, *hist[ctx.case["person_id"]])  # InputError: the claim
    _accounts(conn, rules, [x for x in ctxs if not x.missing and "_account" in x.inputs])
    ok = [x for x in ctxs if not x.missing and x.inputs.get("eligible")]
    ok_ids = {id(x) for x in ok}          # by identity: comparing contexts compares decisions
    for x in ctxs:
        x.inputs.pop("_account", None)
        if id(x) not in ok_ids:
            x.inputs.pop("_table", None)
    by_case = amounts(ok) if ok else {}
    updates = []
    for ctx in ctxs:
        cid = ctx.case["id"]
        values = dict(computed_at=t, missing=None, options=None, basic_fen=None,
                      account_fen=None, transitional_fen=None, total_fen=None,
                      retirement_date=_date(ctx.inputs.get("retirement_date")))
        decision = {"inputs": ctx.inputs, "parameters": list(ctx.params.values())}
        if ctx.missing:
            status = "incomplete"
            values["missing"] = json.dumps(ctx.missing, ensure_ascii=False)
        elif not ctx.inputs.get("eligible"):
            status = "ineligible"
            values["options"] = json.dumps(ctx.inputs["options"], ensure_ascii=False)
        else:
            status = "computed"
            a = by_case[cid]
            values.update(basic_fen=a["basic"], account_fen=a["account"],
                          transitional_fen=a["transitional"], total_fen=a["total"])
            decision["arithmetic"] = a["arithmetic"]
            decision["result"] = {k: fen_to_yuan_str(a[k]) for k in
                                  ("basic", "account", "transitional", "total")}
        values["decision"] = json.dumps(decision, ensure_ascii=False, sort_keys=True)
        updates.append({"cid": cid, "status": status, **values})
    return updates


_AMOUNTS = ("basic_fen", "account_fen", "transitional_fen", "total_fen")


def _write(conn: Connection, updates: list[dict], insert: tuple | None = None) -> None:
    """Every computed case of a chunk in one set-based statement: staged by COPY and applied
    by one UPDATE, or — ``insert=(cases, opened)``, new cases — copied straight in."""
    if not updates:
        return
    cols: dict = {"cid": np.array([u["cid"] for u in updates], dtype=np.int64)}
    spec = [("cid", "i8"), ("status", "T"), ("missing", "T"), ("options", "T"),
            ("decision", "T"), ("retirement_date", "date")] + [(k, "i8") for k in _AMOUNTS]
    for k in ("status", "missing", "options", "decision"):
        cols[k] = [u[k] for u in updates]
        if k in ("missing", "options"):
            cols[k + "?"] = np.array([v is None for v in cols[k]])
    days = [u["retirement_date"] for u in updates]
    cols["retirement_date?"] = np.array([d is None for d in days])
    cols["retirement_date"] = np.array([0 if d is None else day_number(d) for d in days],
                                       dtype=np.int64)
    for k in _AMOUNTS:
        vals = [u[k] for u in updates]
        cols[k + "?"] = np.array([v is None for v in vals])
        cols[k] = np.array([0 if v is None else v for v in vals], dtype=np.int64)
    if insert is not None:
        cases, opened = insert
        by_id = {c["id"]: c for c in cases}
        rows = [by_id[int(i)] for i in cols["cid"].tolist()]
        cols["id"] = cols.pop("cid")
        cols.update({"person_id": np.array([c["person_id"] for c in rows], dtype=np.int64),
                     "region": [c["region"] for c in rows],
                     "category": [c["category"] for c in rows],
                     "category?": np.array([c["category"] is None for c in rows]),
                     "claim": [c["claim"] for c in rows],
                     "opened_by": opened["opened_by"], "opened_at": opened["opened_at"],
                     "computed_at": updates[0]["computed_at"]})
        insert_columns(conn, "pension_case", [("id", "i8")] + spec[1:] + [
            ("person_id", "i8"), ("region", "T"), ("category", "T"), ("claim", "T"),
            ("opened_by", "T"), ("opened_at", "ts"), ("computed_at", "ts")], cols)
        return
    stage(conn, "tmp_pension_case_update", spec, cols)
    sets = ", ".join(f"{k} = u.{k}" for k, _ in spec[1:])
    conn.execute(text(f"UPDATE pension_case SET {sets}, computed_at = :t "
                      "FROM tmp_pension_case_update AS u WHERE pension_case.id = u.cid")
                 .bindparams(bindparam("t", type_=pension_case.c.computed_at.type)),
                 {"t": updates[0]["computed_at"]})


def _accounts(conn, rules, ctxs: list[CaseContext]) -> None:
    """Individual-account balance at retirement for many cases in a few queries: the balance
    before the retirement year (one grouped query per retirement year), this year's credits by
    month (one query), plus this year's interest to the retirement month by the monthly-product
    method at the rate in force for that year."""
    ids = ledger_queries.account_ids(conn, [x.inputs["_account"][0] for x in ctxs])
    have = [x for x in ctxs if x.inputs["_account"][0] in ids]
    for x in ctxs:
        if x.inputs["_account"][0] not in ids:
            x.missing.append(f"individual account {x.inputs['_account'][0]} (not in the ledger)")
    by_year: dict[int, list[CaseContext]] = {}
    for x in have:
        by_year.setdefault(x.inputs["_account"][1].year, []).append(x)
    for year, group in by_year.items():
        year_start = dt.date(year, 1, 1)
        accts = [ids[x.inputs["_account"][0]] for x in group]
        opening = ledger_queries.sums_before(conn, accts, year_start)
        last = max(x.inputs["_account"][1].replace(day=1) for x in group)
        monthly: dict[int, np.ndarray] = {}
        for aid, day, amount in ledger_queries.postings_between(conn, accts, year_start, last):
            monthly.setdefault(aid, []).append((_date(day), amount))
        for x in group:
            code, ret = x.inputs["_account"]
            aid = ids[code]
            m = np.zeros(12, dtype=np.int64)
            for d, amt in monthly.get(aid, []):
                if d < ret.replace(day=1):
                    m[d.month - 1] -= amt             # credit-normal: a credit is negative
            account_balance(rules, x, code, ret, -int(opening.get(aid) or 0), m)


