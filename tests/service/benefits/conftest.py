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


def fund_account(engine, region: str, person_id: int, fen: int, on: dt.date,
                 key: str | None = None) -> None:
    """Credit a person's pension individual account (a contribution posted by collection)."""
    ledger.open_chart(engine, SYSTEM, region, schemes=("pension",))
    be = contribution_entry(region, "pension", on, debit_kind="fund_bank",
                            person_ids=np.array([person_id]), pooled_fen=np.array([0]),
                            individual_fen=np.array([fen]), source="test")
    ledger.post_batch(engine, SYSTEM, key or f"test-fund:{region}:{person_id}:{on}",
                      Batch([be]), open_missing=True)

