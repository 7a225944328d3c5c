"""A citizen's own record and an employer's firm, assembled from the bureaus."""
from __future__ import annotations

import datetime as dt

from shebao.ledger import queries as ledger_queries
from shebao.collection import declarations
from shebao.collection.queries import contributions_of
from shebao.core.money import fen_to_yuan_str
from shebao.core.periods import months_between
from shebao.registry import access, queries
from shebao.rules.calculators import calculate
from shebao.security.audit_appender import read_session
from shebao.security.service import User


def statements(eng, actor, person_id: int, *, purpose: str) -> dict:
    """A person's individual-account statements: the registry's door first (scope), then the
    ledger's audited read."""
    with eng.connect() as conn:
        access.check_person(conn, actor, person_id)
    return ledger_queries.statements(eng, actor, person_id, purpose=purpose)


def pension_months(enrolments: list[dict], today: dt.date | None = None) -> int:
    """Months covered by pension enrolments (an estimate until contributions are posted)."""
    today = today or dt.date.today()
    total = 0
    for e in enrolments:
        if e["scheme"] not in ("pension",):
            continue
        end = min(e["end_date"] or today, today)
        if end >= e["start_date"]:
            total += months_between(e["start_date"], end) + 1
    return total


def citizen_summary(eng, user: User) -> dict | None:
    if user.person_id is None:
        return None
    actor = user.actor()
    # the page's reads in one read session: one connection and transaction, and one wait for
    # all their audit rows before the page is answered
    with read_session(eng) as db:
        d = queries.person_detail(db, actor, user.person_id,
                                  purpose="citizen portal: my record")
        # person_detail has just checked the citizen's access to this very person
        sts = ledger_queries.statements(db, actor, user.person_id,
                                        purpose="citizen portal: my statement")
        declared = declarations.declarations(db, actor, user.person_id)
        contributions = contributions_of(db, user.person_id)
    p = d["person"]
    balances = {s: st.closing_balance for s, st in sts.items()}
    est = {"region": p.get("pension_region") or p.get("residence_region") or "",
           "contribution_months": str(pension_months(d["enrolments"])),
           "account_balance": fen_to_yuan_str(balances.get("pension", 0))}
    if p.get("birth_date") and p.get("sex"):
        try:
            r = calculate("retirement-age", {"birth_date": p["birth_date"].isoformat(),
                                             "category": "male" if p["sex"] == "M"
                                             else "female_worker"})
            est.update(retirement_date=r["retirement_date"], age_years=str(r["age_years"]))
        except Exception:  # noqa: BLE001 - a pre-fill is a convenience, never a failure
            pass
    return {"person": p, "enrolments": d["enrolments"], "employment": d["employment"],
            "statements": sts, "balances": balances, "estimate": est, "declared": declared,
            "contributions": contributions}


def employer_summary(eng, user: User) -> dict | None:
    if user.employer_id is None:
        return None
    actor = user.actor()
    firm = queries.employer_detail(eng, actor, user.employer_id)
    staff, nxt = queries.employees(eng, actor, user.employer_id, limit=200, after=None,
                                 purpose="employer portal: employee list")
    return {"employer": firm, "employees": staff, "more": nxt is not None}
