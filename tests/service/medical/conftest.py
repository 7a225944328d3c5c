"""A small medical world through the services: a Beijing tertiary hospital with a catalogue,
a Beijing flexible worker (employee medical), a Shanghai insured person treated in Beijing."""
import datetime as dt

import numpy as np
import pytest

from shebao.core.actor import Actor
from shebao.devtools.synthetic_population import citizen_ids
from shebao.medical import providers
from shebao.registry import service as reg

BJ, SH = "110105", "310104"
ADMIN = Actor(id="test", role="administrator")
CLERK = Actor(id="clerk_bj", role="benefits_clerk", scope="110000")
SYSTEM = Actor(id="system", role="system")
CATALOGUE = """code,name,kind,class,valid_from
D001,阿莫西林,drug,A,2020-01-01
D002,某乙类药,drug,B,2020-01-01
T001,住院床位费,treatment,A,2020-01-01
X001,自费耗材,material,C,2020-01-01
"""


@pytest.fixture
def world(engine):
    ids = citizen_ids(BJ, np.arange(3)).astype(str).tolist()
    p = [reg.register_person(engine, ADMIN, citizen_id=c, name=n, valid_from=dt.date(2020, 1, 1))
         for c, n in zip(ids, ("张三", "李四", "王五"))]
    reg.enrol(engine, ADMIN, p[0], "medical", BJ, "flexible", dt.date(2024, 1, 1))
    reg.enrol(engine, ADMIN, p[1], "medical", SH, "flexible", dt.date(2024, 1, 1))
    reg.enrol(engine, ADMIN, p[2], "resident_medical", BJ, "resident", dt.date(2024, 1, 1))
    hosp = providers.register_provider(engine, CLERK, code="H11010501", name="北京某三甲医院",
                                       region=BJ, kind="hospital", level="tertiary",
                                       account="hosp_bj")
    providers.sign_contract(engine, CLERK, provider_id=hosp, number="XY-2025-001",
                            valid_from=dt.date(2025, 1, 1))
    providers.load_catalogue(engine, CLERK, "110000", CATALOGUE)
    return {"bj": p[0], "sh": p[1], "resident": p[2], "hospital": hosp, "ids": ids}


def bill(person, no, amount, *, admitted="2025-03-01", items="T001", **kw):
    return {"provider": "H11010501", "bill_no": no, "person_id": person, "kind": "inpatient",
            "admitted_on": admitted, "lines": [{"item_code": items, "amount": amount}], **kw}
