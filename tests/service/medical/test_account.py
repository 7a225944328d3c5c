"""Retirees' monthly medical account credit from the pooled fund (2021 reform)."""
import datetime as dt

from sqlalchemy import text

from shebao.ledger import service as ledger
from shebao.medical import account

from .conftest import BJ, CLERK


def test_retirees_get_the_fixed_monthly_credit_once(engine, world):
    t = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    with engine.begin() as c:       # a pension in payment (benefits' table, set up directly)
        for pid, status in ((world["bj"], "active"), (world["resident"], "stopped")):
            c.execute(text(
                "INSERT INTO pension_case (person_id, region, category, claim, retirement_date, "
                "status, opened_by, opened_at, total_fen, account_fen) VALUES (:p, :r, 'male', "
                "'statutory', '2024-12-01', 'approved', 'test', :t, 300000, 0)"),
                {"p": pid, "r": BJ, "t": t})
            case = c.execute(text("SELECT max(id) FROM pension_case")).scalar_one()
            c.execute(text(
                "INSERT INTO pension_award (person_id, case_id, region, start_month, monthly_fen, "
                "account_part_fen, amount_from, status, created_at) VALUES (:p, :c, :r, "
                "'2025-01-01', 300000, 0, '2025-01-01', :s, :t)"),
                {"p": pid, "c": case, "r": BJ, "s": status, "t": t})
    out = account.credit_retirees(engine, CLERK, BJ, dt.date(2025, 3, 1))
    # medical.account.retiree_monthly_credit 70 yuan [M], one active pensioner
    assert (out["retirees"], out["credited_fen"]) == (1, 7000)
    assert ledger.balance(engine, f"{BJ}.medical.individual.{world['bj']}") == 7000
    account.credit_retirees(engine, CLERK, BJ, dt.date(2025, 3, 1))     # replay: nothing new
    assert ledger.balance(engine, f"{BJ}.medical.pooled_fund") == -7000
