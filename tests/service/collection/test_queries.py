"""collection.queries: what other packages and the channels read of collection's tables."""
import datetime as dt

from shebao.collection import bills, queries
from shebao.collection.assess import assess
from shebao.collection.model import e2e_id

from .conftest import ADMIN, REGION

JULY = dt.date(2025, 7, 1)


def test_contribution_record_before_and_after_billing(engine, world):
    assess(engine, ADMIN, REGION, JULY)
    with engine.connect() as c:
        rows = queries.contribution_record(c, [world["resident"], world["flexible"],
                                               world["employee"], 999_999])
    # the employee: base 7460.00 (raised to the floor); pension 16% + 8% = 119360 + 59680;
    # the flexible worker: floor 7460.00, 12% + 8% = 89520 + 59680; no bills yet;
    # the resident is not assessed in July (billing month), the stranger has nothing
    assert rows == sorted(rows)
    assert [(r.person_id, r.region, r.month, r.pension_fen, r.base_fen, r.bill_e2e_id,
             r.line_fen, r.line_paid_fen) for r in rows] == sorted([
        (world["employee"], REGION, JULY, 179040, 746000, None, None, None),
        (world["flexible"], REGION, JULY, 149200, 746000, None, None, None)])
    bills.make_bills(engine, ADMIN, REGION, JULY)
    with engine.connect() as c:
        rows = {r.person_id: r for r in queries.contribution_record(
            c, [world["employee"], world["flexible"]])}
    emp, flex = rows[world["employee"]], rows[world["flexible"]]
    assert (emp.bill_e2e_id, emp.line_fen, emp.line_paid_fen) == (
        e2e_id(REGION, JULY, "E", world["employer"]), 179040, 0)
    assert (flex.bill_e2e_id, flex.line_fen, flex.line_paid_fen) == (
        e2e_id(REGION, JULY, "F", world["flexible"]), 149200, 0)
    with engine.connect() as c:
        assert queries.contribution_record(c, []) == []


def test_contributions_of_a_person_by_month(engine, world):
    assess(engine, ADMIN, REGION, JULY)
    rows = queries.contributions_of(engine, world["employee"])
    # 746000 × (16 + 8 + 10 + 2 + 0.5 + 0.5 + 0.2)% = 277512; own share 8 + 2 + 0.5 % = 78330;
    # individual account: the employee's pension 8% + medical 2% = 59680 + 14920
    assert rows == [{"month": "2025-07", "region": REGION, "base": "7460.00",
                     "total": "2775.12", "employee": "783.30", "employer": "1991.82",
                     "individual_account": "746.00"}]
    assert queries.latest_month(engine, REGION) is None
    bills.make_bills(engine, ADMIN, REGION, JULY)
    assert queries.latest_month(engine, REGION) == JULY
