"""The monitoring rules' detectors: one set-based statement (plus numpy) per rule over the whole
scope, never a loop over people hitting the database.

A detector is ``fn(conn, p, scope_like, as_of) -> list[Finding]``: ``p`` is the rule's record
in force (``rules/parameters/supervision/monitor/<code>.yaml``), ``scope_like`` a LIKE
pattern of the region subtree. Each joins the owners' derived tables (``registry.queries.*_sql``,
``benefits.queries.*_sql``, ``collection.queries.*_sql``), so the owners still write every line
of SQL about their tables. A ``Finding`` carries the subject, its region, the evidence (plain
JSON) and its strength ``(num, den)`` in [0, 1] for the score.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from sqlalchemy import text

from shebao.benefits import queries as benefits_q
from shebao.collection import queries as collection_q
from shebao.medical import queries as medical_q
from shebao.core.ids import mask_id
from shebao.core.money import fen_to_yuan_str, to_fen
from shebao.db.dialect import days_since_epoch
from shebao.registry import queries as registry_q
from shebao.rules.loader import load_rules


@dataclass
class Finding:
    subject_type: str          # person | employer | account
    subject_id: int | None
    subject_key: str           # stable key of the subject for deduplication
    region: str
    evidence: dict = field(default_factory=dict)
    strength: tuple[int, int] = (0, 1)


def _d(v) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _fen_strength(amount_fen: int, saturation_yuan) -> tuple[int, int]:
    return int(amount_fen), max(to_fen(saturation_yuan), 1)


def pension_after_death(conn, p, scope_like, as_of):
    rows = conn.execute(text(
        "SELECT pay.person_id, MIN(pay.region) AS region, COUNT(*) AS months, "
        "SUM(pay.amount_fen) AS amount, MIN(pay.month) AS first_month, "
        "MAX(pay.month) AS last_month, MIN(pr.death_date) AS death_date "
        f"FROM ({benefits_q.payments_sql()}) pay JOIN ({registry_q.persons_sql()}) pr "
        "ON pr.person_id = pay.person_id WHERE pr.death_date IS NOT NULL "
        "AND pay.month > pr.death_date AND pay.month <= :as_of AND pay.region LIKE :scope "
        "GROUP BY pay.person_id"), {"scope": scope_like, "as_of": as_of}).all()
    return [Finding("person", int(r.person_id), str(r.person_id), r.region, {
        "death_date": _d(r.death_date).isoformat(), "months_paid_after_death": int(r.months),
        "first_month": _d(r.first_month).isoformat(), "last_month": _d(r.last_month).isoformat(),
        "amount": fen_to_yuan_str(int(r.amount)), "amount_fen": int(r.amount)},
        _fen_strength(int(r.amount), p["saturation_yuan"])) for r in rows]


def double_pension(conn, p, scope_like, as_of):
    rows = conn.execute(text(
        "SELECT a.person_id, a.region, a.monthly_fen, e.region AS resident_region, "
        "e.start_date FROM "
        f"({benefits_q.awards_sql()}) a JOIN ({registry_q.enrolments_sql()}) e "
        "ON e.person_id = a.person_id WHERE a.status = 'active' "
        "AND e.scheme = 'resident_pension' AND e.status = 'active' AND e.start_date <= :as_of "
        "AND a.region LIKE :scope"), {"scope": scope_like, "as_of": as_of}).all()
    return [Finding("person", int(r.person_id), str(r.person_id), r.region, {
        "employee_pension_monthly": fen_to_yuan_str(int(r.monthly_fen)),
        "resident_pension_region": r.resident_region,
        "resident_enrolment_from": _d(r.start_date).isoformat()},
        _fen_strength(int(r.monthly_fen) * 12, p["saturation_yuan"])) for r in rows]


def wage_base_low(conn, p, scope_like, as_of):
    rows = conn.execute(text(
        "SELECT w.employer_id, m.region, m.industry_code, w.wage_fen FROM "
        f"({collection_q.declared_wages_sql()}) w JOIN ({registry_q.employers_sql()}) m "
        "ON m.employer_id = w.employer_id WHERE w.wage_fen IS NOT NULL AND m.region LIKE :scope "
        "ORDER BY w.employer_id"), {"scope": scope_like}).all()
    if not rows:
        return []
    rules = load_rules()
    emp = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    wage = np.fromiter((r[3] for r in rows), np.int64, len(rows))
    reg_of_row = np.array([r[1] for r in rows])
    ids, start, counts = np.unique(emp, return_index=True, return_counts=True)
    region = reg_of_row[start]
    industry = np.array([rows[i][2] for i in start.tolist()])
    # the minimum wage of each region once (a handful of regions), as a per-row limit
    factor = Decimal(str(p["factor"]))
    regs, reg_inv = np.unique(reg_of_row, return_inverse=True)
    minimum = {str(r): rules.get("wage.minimum_wage", str(r), as_of) for r in regs}
    lim_of_reg = np.array([to_fen(Decimal(str(minimum[str(r)])) * factor)
                           if minimum[str(r)] is not None else 0 for r in regs], np.int64)
    below = np.add.reduceat((wage < lim_of_reg[reg_inv.reshape(-1)]).astype(np.int64), start)
    median = np.array([int(np.median(wage[s:s + c])) for s, c in zip(start.tolist(),
                                                                    counts.tolist())], np.int64)
    # peers: the employers of the same region and industry division (their median wage)
    groups, g_inv, g_n = np.unique(np.char.add(np.char.add(region.astype(str), ":"),
                                               industry.astype(str)),
                                   return_inverse=True, return_counts=True)
    g_inv = g_inv.reshape(-1)
    g_median = np.zeros(len(groups), np.int64)
    order = np.argsort(g_inv, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(g_n)])
    for g in range(len(groups)):
        g_median[g] = int(np.median(median[order[bounds[g]:bounds[g + 1]]]))
    share_min = Decimal(str(p["min_share"]))
    ratio = Decimal(str(p["peer_ratio"]))
    enough = counts >= int(p["min_employees"])
    out = []
    cand = np.nonzero(enough)[0]
    for i in cand.tolist():
        peers = int(g_n[g_inv[i]]) - 1
        peer_median = int(g_median[g_inv[i]]) if peers >= int(p["min_peers"]) else None
        s_low = Decimal(int(below[i])) / Decimal(int(counts[i])) >= share_min
        p_low = peer_median is not None and Decimal(int(median[i])) < ratio * peer_median
        if not (s_low or p_low):
            continue
        e, reg = int(ids[i]), str(region[i])
        out.append(Finding("employer", e, str(e), reg, {
            "employees_declared": int(counts[i]), "declared_below_minimum": int(below[i]),
            "minimum_wage": str(minimum[reg]), "median_wage": fen_to_yuan_str(int(median[i])),
            "peer_median_wage": fen_to_yuan_str(peer_median) if peer_median is not None else None,
            "peers": peers, "why": (["share below the minimum wage"] if s_low else [])
            + (["median far below peers"] if p_low else [])},
            (int(below[i]), int(counts[i])) if s_low else (1, 2)))
    return out


def enrolment_before_retirement(conn, p, scope_like, as_of):
    since = as_of - dt.timedelta(days=int(p["window_days"]))
    start_d, birth_d = days_since_epoch(conn, "s.start_date"), days_since_epoch(conn, "pr.birth_date")
    rows = conn.execute(text(
        f"SELECT s.employer_id, s.employer_region, s.person_id, pr.sex, {start_d} AS sd, "
        f"{birth_d} AS bd FROM ({registry_q.spells_sql()}) s JOIN ({registry_q.persons_sql()}) pr "
        "ON pr.person_id = s.person_id WHERE s.start_date > :since AND s.start_date <= :as_of "
        "AND pr.birth_date IS NOT NULL AND s.employer_region LIKE :scope"),
        {"since": since, "as_of": as_of, "scope": scope_like}).all()
    if not rows:
        return []
    emp = np.array([r.employer_id for r in rows], np.int64)
    age_days = np.array([r.sd - r.bd for r in rows], np.int64)
    male = np.array([r.sex == "M" for r in rows])
    # whole years of age at the start, by calendar (365.2425 days a year is exact enough here:
    # the thresholds are whole years and a day's error at a birthday does not make a pattern)
    years = (age_days * 10000) // 3652425
    old = np.where(male, years >= int(p["min_age_male"]), years >= int(p["min_age_female"]))
    region_of = {int(r.employer_id): r.employer_region for r in rows}
    pids = np.fromiter((r.person_id for r in rows), np.int64, len(rows))
    out = []
    for e in np.unique(emp[old]).tolist():
        sel = old & (emp == e)
        n = int(sel.sum())
        if n < int(p["min_persons"]):
            continue
        reg = region_of[e]
        out.append(Finding("employer", e, str(e), reg, {
            "persons": n, "window_days": int(p["window_days"]), "since": since.isoformat(),
            "person_ids": sorted(int(x) for x in pids[sel])[:50]},
            (n, int(p["saturation_persons"]))))
    return out


def arrears_long(conn, p, scope_like, as_of):
    rows = conn.execute(text(
        f"SELECT a.* FROM ({collection_q.arrears_flags_sql()}) a WHERE a.region LIKE :scope "
        "AND a.max_days >= :days AND a.as_of <= :as_of"),
        {"scope": scope_like, "days": int(p["min_days"]), "as_of": as_of}).mappings().all()
    return [Finding("employer", int(r["employer_id"]), str(r["employer_id"]), r["region"], {
        "as_of": _d(r["as_of"]).isoformat(), "bills": int(r["bills"]),
        "outstanding": fen_to_yuan_str(int(r["outstanding_fen"])),
        "late_fee": fen_to_yuan_str(int(r["late_fee_fen"])), "max_days": int(r["max_days"])},
        _fen_strength(int(r["outstanding_fen"]) + int(r["late_fee_fen"]), p["saturation_yuan"]))
        for r in rows]


def shared_bank_account(conn, p, scope_like, as_of):
    pensioners = (f"SELECT a.person_id, a.region, pr.bank_account FROM ({benefits_q.awards_sql()}) a "
                  f"JOIN ({registry_q.persons_sql()}) pr ON pr.person_id = a.person_id "
                  "WHERE a.status = 'active' AND pr.bank_account IS NOT NULL "
                  "AND pr.bank_account <> '' AND a.region LIKE :scope")
    rows = conn.execute(text(
        f"SELECT x.bank_account, x.person_id, x.region FROM ({pensioners}) x WHERE x.bank_account "
        f"IN (SELECT y.bank_account FROM ({pensioners}) y GROUP BY y.bank_account "
        "HAVING COUNT(*) >= :n) ORDER BY x.bank_account, x.person_id"),
        {"scope": scope_like, "n": int(p["min_persons"])}).all()
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(r.bank_account, []).append(r)
    out = []
    for acc, rs in groups.items():
        key = hashlib.sha256(acc.encode()).hexdigest()[:32]   # no account number at rest
        out.append(Finding("account", None, key, min(r.region for r in rs), {
            "account": mask_id(acc), "pensioners": len(rs),
            "person_ids": [int(r.person_id) for r in rs][:50]},
            (len(rs), int(p["saturation_persons"]))))
    return out


def unemployment_while_working(conn, p, scope_like, as_of):
    lines = (f"SELECT * FROM ({benefits_q.benefit_lines_sql()}) bl WHERE "
             "bl.award_kind = 'unemployment' AND bl.kind = 'monthly' AND bl.payee_type = 'person' "
             "AND bl.start_month <= :as_of AND bl.region LIKE :scope")
    params = {"scope": scope_like, "as_of": as_of}
    working = conn.execute(text(
        "SELECT l.person_id, MIN(l.region) AS region, MIN(l.start_month) AS paid_from, "
        "MAX(l.amount_fen) AS monthly, MIN(s.start_date) AS spell_start, "
        f"MIN(s.employer_id) AS employer_id FROM ({lines}) l JOIN ({registry_q.spells_sql()}) s "
        "ON s.person_id = l.person_id WHERE s.start_date >= l.start_month "
        "AND (l.end_month IS NULL OR s.start_date < l.end_month) AND s.start_date <= :as_of "
        "GROUP BY l.person_id"), params).all()
    pension = conn.execute(text(
        "SELECT l.person_id, MIN(l.region) AS region, MIN(l.start_month) AS paid_from, "
        "MAX(l.amount_fen) AS monthly, MIN(a.start_month) AS pension_from "
        f"FROM ({lines}) l JOIN ({benefits_q.awards_sql()}) a ON a.person_id = l.person_id "
        "WHERE a.status = 'active' AND (l.end_month IS NULL OR a.start_month < l.end_month) "
        "GROUP BY l.person_id"), params).all()
    found: dict[int, Finding] = {}
    for r in working:
        found[int(r.person_id)] = Finding("person", int(r.person_id), str(r.person_id), r.region, {
            "unemployment_from": _d(r.paid_from).isoformat(),
            "monthly": fen_to_yuan_str(int(r.monthly)),
            "employed_from": _d(r.spell_start).isoformat(), "employer_id": int(r.employer_id),
            "why": ["employed again"]}, _fen_strength(int(r.monthly) * 12, p["saturation_yuan"]))
    for r in pension:
        f = found.setdefault(int(r.person_id), Finding(
            "person", int(r.person_id), str(r.person_id), r.region, {
                "unemployment_from": _d(r.paid_from).isoformat(),
                "monthly": fen_to_yuan_str(int(r.monthly)), "why": []},
            _fen_strength(int(r.monthly) * 12, p["saturation_yuan"])))
        f.evidence["pension_from"] = _d(r.pension_from).isoformat()
        f.evidence["why"].append("draws the employee pension")
    return list(found.values())


def medical_readmission(conn, p, scope_like, as_of):
    adm, dis = days_since_epoch(conn, "b.admitted_on"), days_since_epoch(conn, "a.discharged_on")
    rows = conn.execute(text(
        "SELECT b.person_id, MIN(b.insured_region) AS region, COUNT(*) AS pairs, "
        "MIN(b.provider_id) AS provider_id, SUM(b.total_fen) AS amount "
        f"FROM ({medical_q.claims_sql()}) a JOIN ({medical_q.claims_sql()}) b "
        "ON b.person_id = a.person_id AND b.provider_id = a.provider_id "
        "AND b.claim_id <> a.claim_id "
        f"WHERE a.inpatient = :t AND b.inpatient = :t AND a.discharged_on IS NOT NULL "
        f"AND {adm} >= {dis} AND {adm} - {dis} <= :gap AND b.admitted_on <= :as_of "
        "AND b.insured_region LIKE :scope GROUP BY b.person_id HAVING COUNT(*) >= :n"),
        {"t": True, "gap": int(p["max_gap_days"]), "as_of": as_of, "scope": scope_like,
         "n": int(p["min_pairs"])}).all()
    return [Finding("person", int(r.person_id), str(r.person_id), r.region, {
        "readmissions": int(r.pairs), "provider_id": int(r.provider_id),
        "max_gap_days": int(p["max_gap_days"]),
        "readmission_claims_total": fen_to_yuan_str(int(r.amount))},
        (int(r.pairs), int(p["saturation_pairs"]))) for r in rows]


DETECTORS = {
    "pension_after_death": pension_after_death,
    "double_pension": double_pension,
    "wage_base_low": wage_base_low,
    "enrolment_before_retirement": enrolment_before_retirement,
    "arrears_long": arrears_long,
    "shared_bank_account": shared_bank_account,
    "unemployment_while_working": unemployment_while_working,
    "medical_readmission": medical_readmission,
}
