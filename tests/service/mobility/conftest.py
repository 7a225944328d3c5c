"""Helpers for mobility service tests: people in the registry, history, funded accounts."""
from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import insert

from shebao.core.actor import Actor
from shebao.core.ids import ric_check_char
from shebao.ledger import service as ledger
from shebao.ledger.model import Batch, EntryRequest, Line, account_code, contribution_entry
from shebao.registry import service as registry

SH, BJ = "310000", "110000"
SH_MAKER = Actor(id="sh-clerk-a", role="benefits_clerk", scope=SH)
SH_CHECKER = Actor(id="sh-clerk-b", role="benefits_clerk", scope=SH)
BJ_CLERK = Actor(id="bj-clerk", role="benefits_clerk", scope=BJ)
ADMIN = Actor(id="admin", role="administrator")
SYSTEM = Actor(id="system", role="system")


def citizen_id(area: str, birth: dt.date, seq: int, male: bool) -> str:
    s = seq * 2 + (1 if male else 0)
    first = f"{area}{birth:%Y%m%d}{s % 1000:03d}"
    return first + ric_check_char(first)


def make_person(engine, birth: dt.date, *, male: bool = True, seq: int = 1,
                region: str = SH, hukou: str | None = None) -> int:
    return registry.register_person(
        engine, ADMIN, citizen_id=citizen_id("310104", birth, seq, male), name=f"迁移{seq}",
        pension_region=region, hukou_region=hukou or region, bank_name="中国工商银行",
        bank_account="6222000011112222", valid_from=dt.date(2000, 1, 1))


def citizen(person_id: int) -> Actor:
    return Actor(id=f"citizen-{person_id}", role="citizen", scope=None, person_id=person_id)


def add_history(engine, person_id: int, region: str, years: dict[int, int]) -> None:
    """Legacy history: year → monthly base (fen), 12 months each."""
    from shebao.benefits.tables import pension_history
    t = dt.datetime.now(dt.timezone.utc)
    with engine.begin() as c:
        c.execute(insert(pension_history), [dict(
            person_id=person_id, region=region, period_start=dt.date(y, 1, 1), months=12,
            base_total_fen=12 * b, kind="paid", source="legacy import", recorded_at=t,
            recorded_by="test") for y, b in years.items()])


def fund_account(engine, region: str, person_id: int, fen: int, on: dt.date,
                 scheme: str = "pension") -> None:
    ledger.open_chart(engine, SYSTEM, region, schemes=(scheme,))
    be = contribution_entry(region, scheme, on, debit_kind="fund_bank",
                            person_ids=np.array([person_id]), pooled_fen=np.array([0]),
                            individual_fen=np.array([fen]), source="test")
    ledger.post_batch(engine, SYSTEM, f"test-fund:{region}:{scheme}:{person_id}:{on}",
                      Batch([be]), open_missing=True)


def fund_pool(engine, region: str, fen: int, on: dt.date, scheme: str = "pension") -> None:
    ledger.open_chart(engine, SYSTEM, region, schemes=(scheme,))
    ledger.post_entry(engine, SYSTEM, f"test-pool:{region}:{scheme}:{on}", EntryRequest(on, (
        Line.debit(account_code(region, scheme, "fund_bank"), fen),
        Line.credit(account_code(region, scheme, "pooled_fund"), fen)), source="test"))


def make_award(engine, person_id: int, monthly_fen: int, *, region: str = SH,
               start: dt.date = dt.date(2024, 5, 1)) -> int:
    """An approved pension case and its award, as determination leaves them (shortcut)."""
    from shebao.benefits.tables import pension_award, pension_award_amount, pension_case
    t = dt.datetime.now(dt.timezone.utc)
    with engine.begin() as c:
        cid = c.execute(insert(pension_case).values(
            person_id=person_id, region=region, category="male", claim="statutory",
            retirement_date=start, status="approved", opened_by="clerk-a", opened_at=t,
            total_fen=monthly_fen, account_fen=0)).inserted_primary_key[0]
        aid = c.execute(insert(pension_award).values(
            person_id=person_id, case_id=cid, region=region, start_month=start,
            monthly_fen=monthly_fen, account_part_fen=0, amount_from=start,
            status="active", created_at=t)).inserted_primary_key[0]
        c.execute(insert(pension_award_amount).values(
            award_id=aid, effective_from=start, monthly_fen=monthly_fen,
            account_part_fen=0, source="determination", recorded_at=t))
    return aid
