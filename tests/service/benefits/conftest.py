"""Helpers for benefits service tests: real people in the registry, real ledger accounts."""
from __future__ import annotations

import datetime as dt

import numpy as np

from shebao.core.actor import Actor
from shebao.core.ids import ric_check_char
from shebao.ledger import service as ledger
from shebao.ledger.model import Batch, contribution_entry
from shebao.registry import service as registry

MAKER = Actor(id="clerk-a", role="benefits_clerk", scope="310000")
CHECKER = Actor(id="clerk-b", role="benefits_clerk", scope="310000")
ADMIN = Actor(id="admin", role="administrator")
SYSTEM = Actor(id="system", role="system")


def citizen_id(birth: dt.date, seq: int, male: bool) -> str:
    s = seq * 2 + (1 if male else 0)
    first = f"310104{birth:%Y%m%d}{s % 1000:03d}"
    return first + ric_check_char(first)


def make_person(engine, birth: dt.date, *, male: bool = True, seq: int = 1,
                bank_account: str | None = "6222000011112222", region: str = "310000") -> int:
    return registry.register_person(
        engine, ADMIN, citizen_id=citizen_id(birth, seq, male), name=f"测试{seq}",
        pension_region=region, bank_name="中国工商银行", bank_account=bank_account,
        valid_from=dt.date(2000, 1, 1))


def average_wage_years(years, region: str = "310000") -> list[dict]:
    """Paid history rows of 12 months a year, each at exactly the average wage in force in July
    of that year (index 1.0 every year), for det.record_history."""
    from shebao.core.money import to_fen
    from shebao.rules import load_rules
    rules = load_rules()
    return [dict(region=region, period_start=dt.date(y, 7, 1), months=12,
                 base_total_fen=to_fen(rules.value("wage.average_monthly", region,
                                                   dt.date(y, 7, 1))) * 12)
            for y in years]


def fund_account(engine, region: str, person_id: int, fen: int, on: dt.date,
                 key: str | None = None) -> None:
    """Credit a person's pension individual account (a contribution posted by collection)."""
    ledger.open_chart(engine, SYSTEM, region, schemes=("pension",))
    be = contribution_entry(region, "pension", on, debit_kind="fund_bank",
                            person_ids=np.array([person_id]), pooled_fen=np.array([0]),
                            individual_fen=np.array([fen]), source="test")
    ledger.post_batch(engine, SYSTEM, key or f"test-fund:{region}:{person_id}:{on}",
                      Batch([be]), open_missing=True)



def fund_pool(engine, region: str, fen: int, on: dt.date, key: str) -> None:
    """Money in the fund's bank account (as collection would have brought it)."""
    from shebao.ledger.model import EntryRequest, Line, account_code
    ledger.open_chart(engine, SYSTEM, region, schemes=("pension",))
    ledger.post_entry(engine, SYSTEM, key, EntryRequest(on, (
        Line.debit(account_code(region, "pension", "fund_bank"), fen),
        Line.credit(account_code(region, "pension", "pooled_fund"), fen)), source="test"))


def make_award(engine, person_id: int, monthly_fen: int, account_part_fen: int, *,
               region: str = "310000", start: dt.date = dt.date(2025, 1, 1)) -> int:
    """An approved case and its award, as approve_case leaves them (fixture shortcut)."""
    from sqlalchemy import insert
    from shebao.benefits.tables import pension_award, pension_award_amount, pension_case
    t = dt.datetime.now(dt.timezone.utc)
    with engine.begin() as c:
        cid = c.execute(insert(pension_case).values(
            person_id=person_id, region=region, category="male", claim="statutory",
            retirement_date=start, status="approved", opened_by="clerk-a", opened_at=t,
            total_fen=monthly_fen, account_fen=account_part_fen)).inserted_primary_key[0]
        aid = c.execute(insert(pension_award).values(
            person_id=person_id, case_id=cid, region=region, start_month=start,
            monthly_fen=monthly_fen, account_part_fen=account_part_fen, amount_from=start,
            status="active", created_at=t)).inserted_primary_key[0]
        c.execute(insert(pension_award_amount).values(
            award_id=aid, effective_from=start, monthly_fen=monthly_fen,
            account_part_fen=account_part_fen, source="determination", recorded_at=t))
    return aid
