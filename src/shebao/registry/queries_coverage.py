"""Registry read for universal registration (全民参保登记): every living person of a region
subtree with where they live and whether they are insured — pension (employee or resident)
and medical (employee or resident) — on a date. One set-based statement; the grouping by
region and age is the caller's (numpy)."""
from __future__ import annotations

import datetime as dt

import numpy as np

from shebao.db import dialect
from shebao.db.bulk import fetch_int_matrix


def _covered(families: tuple[str, ...]) -> str:
    schemes = ", ".join(f"'{s}'" for s in families)
    return (f"CASE WHEN EXISTS (SELECT 1 FROM enrolment e WHERE e.person_id = p.id "
            f"AND e.scheme IN ({schemes}) AND e.status = 'active' AND e.start_date <= :on "
            f"AND (e.end_date IS NULL OR e.end_date >= :on)) THEN 1 ELSE 0 END")


def coverage_matrix(conn, region_like: str, on: dt.date) -> np.ndarray:
    """(person id, birth date as days since 1970, region as an integer — residence, else
    hukou — 1/0 pension insured, 1/0 medical insured) for the active persons with a birth
    date whose residence (else hukou) region matches the LIKE pattern ``region_like``."""
    sql = f"""
SELECT p.id, {dialect.days_since_epoch(conn, "p.birth_date")},
       CAST(COALESCE(p.residence_region, p.hukou_region) AS BIGINT),
       {_covered(("pension", "resident_pension"))}, {_covered(("medical", "resident_medical"))}
FROM person p
WHERE p.status = 'active' AND p.birth_date IS NOT NULL
  AND COALESCE(p.residence_region, p.hukou_region) LIKE :like"""
    return fetch_int_matrix(conn, sql, {"like": region_like, "on": on}, 5, order_by="c0")


__all__ = ["coverage_matrix"]
