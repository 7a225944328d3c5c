"""The living-certification cycle on both databases: data comparison, expiry → suspension
(payroll told), self certification → resumption with back pay, a death found later."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.db.bulk import day_number
from shebao.mobility import certification as cert
from shebao.benefits import awards
from shebao.mobility import queries
from shebao.notices import outbox
from shebao.registry import service as registry

from .conftest import ADMIN, SH, SH_MAKER, SYSTEM, BJ_CLERK, citizen, make_award, make_person


def _lc(engine, pid):
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text(
            "SELECT year, passed, checked_on FROM living_certification WHERE person_id = :p "
            "ORDER BY year"), {"p": pid})]


def _d(v):
    return dt.date.fromisoformat(v[:10]) if isinstance(v, str) else v


def test_the_cycle(engine):
    a = make_person(engine, dt.date(1960, 1, 1), seq=21)     # never certified again
    b = make_person(engine, dt.date(1960, 1, 2), seq=22)     # a hospital record
    c = make_person(engine, dt.date(1960, 1, 3), seq=23)     # dies
    d = make_person(engine, dt.date(1960, 1, 4), seq=24)     # a late travel record
    for p in (a, b, c, d):
        make_award(engine, p, 400_000, start=dt.date(2024, 5, 1))
    cert.record_signals(engine, SH_MAKER, [b], ["hospital"], [day_number(dt.date(2025, 4, 10))],
                        "hospital feed")

    r = cert.run_month(engine, SH_MAKER, SH, dt.date(2025, 5, 1))
    assert (r.pensioners, r.entered, r.data_certified, r.suspended) == (4, 4, 1, 0)
    assert queries.certification(engine, b)["last_certified_on"] == dt.date(2025, 4, 10)
    with pytest.raises(ConflictError):                        # once per region × month
        cert.run_month(engine, SH_MAKER, SH, dt.date(2025, 5, 1))

    # death 2025-02-20 recorded (civil affairs) before the June run
    registry.record_death(engine, ADMIN, c, dt.date(2025, 2, 20), source="civil affairs")
    r = cert.run_month(engine, SH_MAKER, SH, dt.date(2025, 6, 1))
    # a and d: last certified May 2024, 12-month window → suspended from June 2025
    assert (r.suspended, r.deceased, r.data_certified) == (2, 1, 0)
    sa = queries.certification(engine, a)
    assert (sa["state"], sa["suspended_from"]) == ("suspended", dt.date(2025, 6, 1))
    assert queries.certification(engine, b)["state"] == "certified"
    sc = queries.certification(engine, c)
    assert (sc["state"], sc["death_date"]) == ("deceased", dt.date(2025, 2, 20))
    # payroll told: a failure checked the day before the first month not paid
    assert [(y, p, _d(on)) for y, p, on in _lc(engine, a)] == [(2025, 0, dt.date(2025, 5, 31))]

    # rules-2 §5: certified 2025-09-12 → resume from 2025-10, back pay June–September (4)
    out = cert.certify(engine, citizen(a), a, dt.date(2025, 9, 12), "e_card")
    assert out == {"state": "certified", "resumed_from": dt.date(2025, 10, 1),
                   "back_pay_months": 4}
    assert [(y, p, _d(on)) for y, p, on in _lc(engine, a)] == [(2025, 1, dt.date(2025, 9, 12))]
    assert [e["event"] for e in queries.certification(engine, a)["events"]] == \
        ["suspend", "self", "resume"]
    # the back pay is an award line payroll pays: 4 × 4,000 = 16,000 (rules-2 §5)
    (bp,) = [x for x in awards.awards_of(engine, a) if x["kind"] == "pension_back_pay"]
    assert [(ln["kind"], ln["amount_fen"], _d(ln["start_month"])) for ln in bp["lines"]] == \
        [("once", 1_600_000, dt.date(2025, 10, 1))]
    (n,) = [n for n in outbox.for_recipient(engine, "person", a)
            if n.template == "certification.resumed"]
    assert n.data["back_pay_months"] == 4 and n.data["resumed_from"] == "2025-10-01"

    # d: a travel record of 3 July arrives late, found by the September run
    cert.record_signals(engine, SH_MAKER, [d], ["travel"], [day_number(dt.date(2025, 7, 3))],
                        "travel checks")
    r = cert.run_month(engine, SH_MAKER, SH, dt.date(2025, 9, 1))
    assert (r.resumed, r.back_pay_months) == (1, 3)          # June, July, August
    sd = queries.certification(engine, d)
    assert (sd["state"], sd["resumed_from"], sd["back_pay_months"]) == \
        ("certified", dt.date(2025, 9, 1), 3)
    (bp,) = [x for x in awards.awards_of(engine, d) if x["kind"] == "pension_back_pay"]
    assert [(ln["amount_fen"], _d(ln["start_month"])) for ln in bp["lines"]] == \
        [(3 * 400_000, dt.date(2025, 9, 1))]
    assert queries.certification_counts(engine, SH) == {"certified": 3, "deceased": 1}
    with pytest.raises(ConflictError):                        # the dead are not certified
        cert.certify(engine, SH_MAKER, c, dt.date(2025, 9, 1), "counter")


def test_who_may_certify(engine):
    a = make_person(engine, dt.date(1960, 1, 1), seq=25)
    b = make_person(engine, dt.date(1960, 1, 2), seq=26)
    make_award(engine, a, 300_000)
    cert.run_month(engine, SYSTEM, SH, dt.date(2024, 6, 1))
    with pytest.raises(PermissionDenied):
        cert.certify(engine, citizen(b), a, dt.date(2024, 7, 1))
    with pytest.raises(PermissionDenied):                     # another region's clerk
        cert.certify(engine, BJ_CLERK, a, dt.date(2024, 7, 1), "counter")
    with pytest.raises(InputError):
        cert.certify(engine, SH_MAKER, b, dt.date(2024, 7, 1), "counter")   # not a pensioner
    with pytest.raises(InputError):
        cert.record_signals(engine, SH_MAKER, [a], ["gossip"], [day_number(dt.date(2024, 7, 1))],
                            "x")
    assert cert.certify(engine, SH_MAKER, a, dt.date(2024, 7, 1), "counter")["state"] == \
        "certified"
