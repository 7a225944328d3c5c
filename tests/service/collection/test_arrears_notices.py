"""The arrears run reminds every payer with something outstanding through the outbox (the
employer; the flexible worker and the resident themselves), in the run's transaction, at most
once per payer and month; the read-only view tells nobody."""
import datetime as dt

from shebao.collection import bills
from shebao.collection.arrears import arrears
from shebao.collection.assess import assess
from shebao.collection.queries import arrears_list  # noqa: F401  (the read-only view exists)
from shebao.notices import outbox
from shebao.notices.render import render

from .conftest import ADMIN, REGION

JULY = dt.date(2025, 7, 1)


def test_arrears_run_reminds_each_payer_once_a_month(engine, world):
    assess(engine, ADMIN, REGION, JULY)
    bills.make_bills(engine, ADMIN, REGION, JULY)
    arrears(engine, ADMIN, REGION, dt.date(2025, 9, 14), flag=False)      # a view: no notice
    assert outbox.for_recipient(engine, "employer", world["employer"]) == []
    a = arrears(engine, ADMIN, REGION, dt.date(2025, 9, 14))
    emp = next(p for p in a.payers if p["payer_type"] == "employer")
    [n] = outbox.for_recipient(engine, "employer", world["employer"])
    assert n.template == "arrears.notice" and n.region == REGION
    assert n.data == {"amount_fen": emp["outstanding_fen"], "bills": emp["bills"],
                      "late_fee_fen": emp["late_fee_fen"], "as_of_date": "2025-09-14"}
    flex = outbox.for_recipient(engine, "person", world["flexible"])
    assert [x.template for x in flex] == ["arrears.notice"]
    assert "2025年9月14日" in render(n.template, n.data, "zh_CN").body
    # later the same month: no second reminder; next month: one more
    arrears(engine, ADMIN, REGION, dt.date(2025, 9, 30))
    assert len(outbox.for_recipient(engine, "employer", world["employer"])) == 1
    arrears(engine, ADMIN, REGION, dt.date(2025, 10, 2))
    assert len(outbox.for_recipient(engine, "employer", world["employer"])) == 2
