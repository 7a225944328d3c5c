"""One source of truth for a person's pension contribution record.

    history_rows(conn, person_ids) -> dict[person_id, list[Period]]

Determination reads a person's record from two places and nowhere else:

* **legacy** — ``pension_history`` (benefits-owned): periods recorded before shebao ran the
  person's contributions (imports from the old system, ``source`` e.g. ``legacy import``),
  including deemed service (视同缴费); a period is a run of 1–12 months with Σ of its bases;
* **shebao** — the collection bureau's own per-person assessment records, read through
  ``collection.queries.contribution_record`` (never written here): per person × month × region
  × payer the net pension assessed, the base of the latest run, and the payer's bill of the
  month with its pension line and what has been paid.

**Paid, not assessed.** The Social Insurance Law (art. 16) counts months for which
contributions were *paid* (累计缴费满十五年). Collection records payment per bill line, and a
payer's partial payment fills its lines in scheme order with pension first, so a month counts for
a person when the *pension* line of the payer's bill for that month is paid in full
(``paid_fen ≥ amount_fen > 0``) and the person's net pension assessment of the month is positive.
A month assessed but not (fully) paid is not counted: it is reported as ``unpaid`` so the clerk
sees it, and it counts as soon as the arrears are paid and the case is recomputed. (Collection
cannot attribute a partly paid pension line to particular employees, so such a line counts for
none of them — the conservative reading; the employer's arrears procedure is the remedy.)
Only the employee pension scheme (``pension_*`` amount columns; employees and flexible workers)
counts; the resident scheme is a different benefit.

**Overlap.** A month that shebao assessed (paid or not) is governed by shebao's own record: a
legacy period covering such a month is trimmed by it (``superseded_months``) and never counted
twice. A trimmed legacy period keeps its contribution index exactly: its ``base_total_fen`` and
``index_months`` (the months the base total spans) are kept, only ``months`` (the weight) drops.

**Several payers in one month** (two employers): the month counts once; its base is the sum of
the bases of the paid payers (each already within floor and ceiling).

Set-based: two reads per chunk of persons (legacy rows; shebao months with their bills), and
pure Python over the chunk in memory — never a query per person.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Connection

from shebao.collection.queries import contribution_record, contribution_record_columns
from shebao.db.bulk import fetch_ints_and_text, stage
from shebao.db.dialect import days_since_epoch

from . import record_columns
from .record import Period, ShebaoMonth, merge
from .tables import pension_history

CHUNK = 1000


def shebao_months(conn: Connection, person_ids: list[int]) -> dict[int, list[ShebaoMonth]]:
    """The pension months shebao's collection bureau assessed, per person, with whether each
    was paid (see the module doc). Read through ``collection.queries.contribution_record``."""
    acc: dict[tuple[int, dt.date], dict] = {}
    for r in contribution_record(conn, person_ids):
        if r.pension_fen <= 0:                # reversed by a correction: nothing assessed
            continue
        a = acc.setdefault((r.person_id, r.month), {"region": r.region, "paid_base": 0,
                                                    "any_base": 0, "paid": False, "bills": []})
        a["any_base"] += r.base_fen
        paid = r.line_fen is not None and r.line_fen > 0 and r.line_paid_fen >= r.line_fen
        if paid:
            if not a["paid"]:
                a["region"] = r.region
            a["paid"] = True
            a["paid_base"] += r.base_fen
        if r.bill_e2e_id:
            a["bills"].append(r.bill_e2e_id)
    out: dict[int, list[ShebaoMonth]] = {}
    for (pid, m), a in sorted(acc.items()):
        out.setdefault(pid, []).append(ShebaoMonth(
            a["region"], m, a["paid_base"] if a["paid"] else a["any_base"], a["paid"],
            tuple(a["bills"])))
    return out


def legacy_rows(conn: Connection, person_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for i in range(0, len(person_ids), CHUNK):
        ids = list(person_ids[i:i + CHUNK])
        if not ids:
            continue
        res = conn.execute(select(pension_history).where(
            pension_history.c.person_id.in_(ids)).order_by(
            pension_history.c.person_id, pension_history.c.period_start,
            pension_history.c.id))
        keys = list(res.keys())
        at = keys.index("person_id")
        for r in res.all():             # plain tuples: a dict per row without row mappings
            out.setdefault(int(r[at]), []).append(dict(zip(keys, r)))
    return out


def shebao_month_columns(conn: Connection, person_ids: list[int]) -> dict:
    """:func:`shebao_months` in columns (``record_columns.shebao_months``), one read."""
    rows, e2e = contribution_record_columns(conn, person_ids)
    return record_columns.shebao_months(rows, e2e)


def legacy_columns(conn: Connection, person_ids: list[int]) -> dict[str, np.ndarray]:
    """The legacy rows of many persons as columns, ordered by person, period start, id (the
    order of :func:`legacy_rows`): person_id, day (days since 1970 of period_start),
    month_index (year × 12 + month − 1), months, index_months (= months: a legacy period's
    base spans all of it), base (−1 for a deemed period, which has none), paid (bool), region
    (int of the code), source (position in ``sources``). One read, no Python per row."""
    stage(conn, "tmp_history_persons", [("person_id", "i8")],
          {"person_id": np.asarray(sorted(set(person_ids)), dtype=np.int64)})
    m, src = fetch_ints_and_text(conn, (
        f"SELECT h.person_id, {days_since_epoch(conn, 'h.period_start')}, h.months, "
        "COALESCE(h.base_total_fen, -1), CASE WHEN h.kind = 'paid' THEN 1 ELSE 0 END, "
        "CAST(h.region AS BIGINT), h.id, h.source FROM pension_history h "
        "JOIN tmp_history_persons p ON p.person_id = h.person_id"), {}, 7)
    known: dict[str, int] = {}
    code = np.fromiter((known.setdefault(t, len(known)) for t in src), np.int64, len(src))
    order = np.lexsort((m[:, 6], m[:, 1], m[:, 0]))
    m, code = m[order], code[order]
    day = m[:, 1]
    ym = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
    first = (ym - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return {"person_id": m[:, 0], "day": first, "month_index": ym, "months": m[:, 2],
            "index_months": m[:, 2].copy(), "base": m[:, 3], "paid": m[:, 4] == 1,
            "region": m[:, 5], "source": code, "sources": list(known)}


def history_rows(conn: Connection, person_ids: list[int]
                 ) -> dict[int, tuple[list[Period], list[dict]]]:
    """Each person's contribution record for determination: legacy ∪ shebao (see the module
    doc), as (periods counted, months not counted). Persons with neither get ([], [])."""
    ids = sorted({int(p) for p in person_ids})
    legacy = legacy_rows(conn, ids)
    shebao = shebao_months(conn, ids)
    return {pid: merge(legacy.get(pid, []), shebao.get(pid, [])) for pid in ids}
