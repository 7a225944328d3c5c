"""A designated hospital in the sample world (Xuhui, tertiary, networked) with its agreement
and Shanghai's catalogue — made through the medical services, for the page tests and the
browser journey of #16."""
from __future__ import annotations

import datetime as dt

from shebao.core.actor import Actor
from shebao.medical import providers

CLERK = Actor(id="benefits_clerk-310104", role="benefits_clerk", scope="310104")
CITY_CLERK = Actor(id="benefits_clerk-sh", role="benefits_clerk", scope="310000")
HOSPITAL = "H31010401"
CATALOGUE = """code,name,kind,class,valid_from
T001,住院床位费,treatment,A,2020-01-01
D002,某乙类药,drug,B,2020-01-01
X001,自费耗材,material,C,2020-01-01
"""


def seed_provider(engine) -> int:
    """The hospital's id; the catalogue is Shanghai's (310000), loaded by a city clerk."""
    hid = providers.register_provider(engine, CLERK, code=HOSPITAL, name="徐汇某三甲医院",
                                      region="310104", kind="hospital", level="tertiary")
    providers.sign_contract(engine, CLERK, provider_id=hid, number="SH-2025-001",
                            valid_from=dt.date(2025, 1, 1))
    providers.load_catalogue(engine, CITY_CLERK, "310000", CATALOGUE)
    return hid
