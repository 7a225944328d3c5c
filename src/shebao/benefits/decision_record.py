"""A pension decision stored compactly, and expanded to the full decision when read.

A month's retirements share most of what their decisions say: the parameters with their legal
references, the average wage of every period, the calculation base, rate and coefficient. The
batch path (:mod:`.retirement_batch`) stores that once per distinct set as a *basis*
(``pension_decision_basis``, keyed by the digest of its text) and each case's ``decision``
keeps only its own inputs, its contribution record and its amounts::

    {"v": 2, "basis": <id>, "s": {own inputs}, "rec": [[period]…], "nc": [not counted…],
     "amounts": [basic, account, transitional]}

:func:`expand` turns that back into exactly the decision the per-case path writes (inputs,
parameters, arithmetic, result — the agreement test compares them), so every reader sees one
shape. A decision without ``"v"`` is already full.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

from sqlalchemy import insert, select

from shebao.core.money import fen_to_yuan_str
from shebao.db.bulk import in_batches
from shebao.rules.formulas import benefits as F

from .model import arithmetic_of, history_summary, index_period
from .record import Period
from .tables import pension_decision_basis

COMPACT = 2
# a period of the record as stored: the fields of record.Period in this order
REC_FIELDS = ("period_start", "months", "base_total_fen", "index_months", "kind", "region",
              "origin", "source", "superseded_months")


def basis_text(parameters: list[dict], wages: dict[str, str], calc_base: str,
               rate: str) -> str:
    """The shared part of the decisions of one group of cases, as stored (sorted keys, so one
    set of facts has one text and one digest)."""
    return json.dumps({"parameters": parameters, "wages": wages, "calc_base": calc_base,
                       "rate": rate}, ensure_ascii=False, sort_keys=True)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def expand(stored: dict, basis: dict) -> dict:
    """The full decision of a compact one (see the module doc)."""
    s = stored["s"]
    rows = [Period(r[6], r[4], r[5], dt.date.fromisoformat(r[0]), r[1], r[2], r[3], r[7], r[8])
            for r in stored["rec"]]
    paid = [r for r in rows if r.kind == "paid"]
    deemed = [r for r in rows if r.kind == "deemed"]
    paid_m, deemed_m = sum(r.months for r in paid), sum(r.months for r in deemed)
    idx_s = s["avg_index_scaled"]
    bal = s["account_balance_fen"]
    inputs = {**s,
              "age_years": s["age_at_retirement_months"] // 12,
              "history": history_summary(rows, stored["nc"]),
              "paid_months": paid_m, "deemed_months": deemed_m,
              "contribution_months": paid_m + deemed_m, "eligible": True,
              "periods": [index_period(r, basis["wages"][r.period_start.isoformat()])
                          for r in paid],
              "avg_index": str(Decimal(idx_s) / F.INDEX_SCALE),
              "calc_base": basis["calc_base"], "rate": basis["rate"],
              "account_balance": fen_to_yuan_str(bal)}
    basic, account, trans = stored["amounts"]
    total = basic + account + trans
    return {"inputs": inputs, "parameters": basis["parameters"],
            "arithmetic": arithmetic_of(inputs, basic, account, trans, s["divisor"]),
            "result": {"basic": fen_to_yuan_str(basic), "account": fen_to_yuan_str(account),
                       "transitional": fen_to_yuan_str(trans),
                       "total": fen_to_yuan_str(total)}}


# ----------------------------------------------------------------------- database
def store_bases(conn, texts: list[str], at: dt.datetime) -> dict[str, int]:
    """basis text → id, inserting the texts not stored yet (a basis is never changed)."""
    by_digest = {digest(t): t for t in texts}
    have: dict[str, int] = {}
    for part in in_batches(sorted(by_digest)):
        have.update({d: i for d, i in conn.execute(select(
            pension_decision_basis.c.digest, pension_decision_basis.c.id).where(
            pension_decision_basis.c.digest.in_(part)))})
    for d, t in by_digest.items():
        if d not in have:
            have[d] = conn.execute(insert(pension_decision_basis).values(
                digest=d, body=t, created_at=at).returning(
                pension_decision_basis.c.id)).scalar_one()
    return {t: have[d] for d, t in by_digest.items()}


def load(conn, text: str | None) -> dict | None:
    """A case's decision as every reader sees it: compact ones expanded with their basis."""
    if not text:
        return None
    d = json.loads(text)
    if d.get("v") != COMPACT:
        return d
    body = conn.execute(select(pension_decision_basis.c.body).where(
        pension_decision_basis.c.id == d["basis"])).scalar_one()
    return expand(d, json.loads(body))
