"""A tiny region built through the registry services: one employer, one employee (wage below
the floor), one flexible worker, one resident — the arithmetic of each is in the tests."""
import datetime as dt

import numpy as np
import pytest
from stdnum.cn import uscc as _uscc

from shebao.devtools.synthetic_population import citizen_ids
from shebao.core.actor import Actor
from shebao.registry import service as reg

REGION = "310104"
ADMIN = Actor(id="test", role="administrator")


def make_uscc(n: int) -> str:
    body = f"91{REGION}MA1FL{n:04d}"[:17]
    return body + _uscc.calc_check_digit(body)


@pytest.fixture
def world(engine):
    ids = citizen_ids(REGION, np.arange(3)).astype(str).tolist()
    start = dt.date(2024, 1, 1)
    eid = reg.register_employer(engine, ADMIN, uscc=make_uscc(1), name="测试软件有限公司",
                                region=REGION, industry_code="65", float_tier_pct=100,
                                bank_name="BANK", bank_account="6222000000000001",
                                valid_from=dt.date(2020, 1, 1))
    p = [reg.register_person(engine, ADMIN, citizen_id=c, name=n, bank_name="BANK",
                             bank_account=f"62170000000000{i:02d}", valid_from=dt.date(2020, 1, 1))
         for i, (c, n) in enumerate(zip(ids, ("张三", "李四", "王五")))]
    reg.start_employment(engine, ADMIN, p[0], eid, start, wage_fen=500_000, wage_year=2024)
    for s in ("pension", "medical"):
        reg.enrol(engine, ADMIN, p[1], s, REGION, "flexible", start)
    reg.enrol(engine, ADMIN, p[2], "resident_pension", REGION, "resident", start)
    return {"employer": eid, "employee": p[0], "flexible": p[1], "resident": p[2],
            "ids": ids, "uscc": make_uscc(1)}
