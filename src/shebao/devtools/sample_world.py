"""A small, deterministic world for the channel tests (and anyone who wants to click around):
two districts of Shanghai (310101 Huangpu, 310104 Xuhui), a person and an employer in each,
one account of every role in each district, made only through the bureaus' services.

    w = build_world(engine)          # → World(persons=…, employers=…, users=…, passwords=…)
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

import numpy as np

from shebao.benefits import determination as det
from shebao.collection import bills, declarations
from shebao.collection.assess import assess
from shebao.core.actor import SYSTEM, Actor
from shebao.core.ids import ric_check_char
from shebao.core.money import to_fen
from shebao.ledger import model as lm
from shebao.ledger import service as ledger
from shebao.registry import service as reg
from shebao.rules import load_rules
from shebao.security import service as sec

DISTRICTS = ("310101", "310104")
STAFF_ROLES = ("collection_clerk", "benefits_clerk", "inspector", "administrator")
REGISTRAR = Actor(id="sample-registrar", role="collection_clerk", scope="310000")


def citizen_id(area: str, birth: dt.date, seq: int) -> str:
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + ric_check_char(first17)


def uscc_for(area: str, seq: int) -> str:
    """A valid GB 32100 code: registration org 9 (industry & commerce), type 1 (enterprise)."""
    from stdnum.cn import uscc
    body = f"91{area}MA{seq:07d}"[:17]
    return body + uscc.calc_check_digit(body)


@dataclass
class World:
    persons: dict[str, int] = field(default_factory=dict)       # district → person id
    citizen_ids: dict[str, str] = field(default_factory=dict)   # district → citizen id
    employers: dict[str, int] = field(default_factory=dict)     # district → employer id
    users: dict[tuple[str, str], sec.User] = field(default_factory=dict)  # (role, district)
    passwords: dict[str, str] = field(default_factory=dict)     # username → password
    spells: dict[str, int] = field(default_factory=dict)        # district → employment id
    cases: dict[str, int] = field(default_factory=dict)         # district → submitted case


def _pw() -> str:
    return "Pw-" + secrets.token_urlsafe(12)


def build_world(engine, *, with_ledger: bool = True) -> World:
    w = World()
    for i, d in enumerate(DISTRICTS):
        cid = citizen_id(d, dt.date(1966 + i, 3, 14), 11 + 2 * i)
        pid = reg.register_person(engine, REGISTRAR, citizen_id=cid, name=["张伟", "李娜"][i],
                                  pension_region=d, residence_region=d, phone="13800138000",
                                  address=f"上海市 {d}")
        eid = reg.register_employer(engine, REGISTRAR, uscc=uscc_for(d, 1 + i),
                                    name=["黄浦测试有限公司", "徐汇测试有限公司"][i], region=d,
                                    industry_code="65")
        w.spells[d] = reg.start_employment(engine, REGISTRAR, pid, eid, dt.date(2020, 1, 1),
                                           wage_fen=900000, wage_year=2019)
        w.persons[d], w.citizen_ids[d], w.employers[d] = pid, cid, eid
        for role in STAFF_ROLES:
            _user(engine, w, f"{role}-{d}", role, d)
        _user(engine, w, f"citizen-{d}", "citizen", d, person_id=pid)
        _user(engine, w, f"employer-{d}", "employer", d, employer_id=eid)
    _user(engine, w, "administrator-national", "administrator", "national")
    _user(engine, w, "benefits_clerk-2-310104", "benefits_clerk", "310104")
    if with_ledger:
        _post_contributions(engine, w)
        _bill_a_month(engine, w)
        _pension_case(engine, w)
    return w


def _pension_case(engine, w: World) -> None:
    """A man of 310104 born 1965-08-15 with 15 years at the average wage and 300,000.00 on his
    account: his case computed and submitted by benefits_clerk-310104 (the maker)."""
    d = "310104"
    cid = citizen_id(d, dt.date(1965, 8, 15), 31)
    pid = reg.register_person(engine, REGISTRAR, citizen_id=cid, name="王建国",
                              pension_region=d, residence_region=d, phone="13900139000",
                              bank_name="中国工商银行", bank_account="6222000011112222")
    w.persons["pensioner"], w.citizen_ids["pensioner"] = pid, cid
    rules = load_rules()
    rows = [dict(region="310000", period_start=dt.date(y, 7, 1), months=12,
                 base_total_fen=to_fen(rules.value("wage.average_monthly", "310000",
                                                   dt.date(y, 7, 1))) * 12)
            for y in range(2010, 2025)]
    maker = w.users[("benefits_clerk-310104", "")].actor()
    det.record_history(engine, maker, pid, rows)
    ledger.open_individual_accounts(engine, SYSTEM, d, "pension", [pid])
    be = lm.contribution_entry(d, "pension", dt.date(2024, 12, 31), debit_kind="fund_bank",
                               person_ids=np.array([pid]), pooled_fen=np.array([0]),
                               individual_fen=np.array([30000000]), source="sample")
    ledger.post_batch(engine, SYSTEM, f"sample:pensioner:{pid}", lm.Batch([be]),
                      open_missing=True)
    case = det.open_case(engine, maker, pid, region=d)
    det.submit_case(engine, maker, case)
    w.cases[d] = case


BILL_MONTH = dt.date(2025, 8, 1)


def _bill_a_month(engine, w: World) -> None:
    """A declared wage, an assessment and the bills of August 2025 in each district."""
    for d in DISTRICTS:
        declarations.declare_wage(engine, SYSTEM, person_id=w.persons[d], employer_id=w.employers[d],
                          year=2025, wage_fen=1200000, source="sample")
        assess(engine, SYSTEM, d, BILL_MONTH)
        bills.make_bills(engine, SYSTEM, d, BILL_MONTH)


def _user(engine, w: World, username: str, role: str, scope: str, **ids) -> None:
    pw = _pw()
    u = sec.create_user(engine, SYSTEM, username=username, password=pw, role=role, scope=scope,
                        **ids)
    w.users[(role, scope)] = w.users.get((role, scope)) or u
    w.users[(username, "")] = u
    w.passwords[username] = pw


def _post_contributions(engine, w: World) -> None:
    """Twelve months of individual-account credits for each person (8% of 9,000.00)."""
    for d in DISTRICTS:
        ledger.open_chart(engine, SYSTEM, d)
        ledger.open_individual_accounts(engine, SYSTEM, d, "pension", [w.persons[d]])
        entries = [lm.contribution_entry(d, "pension", dt.date(2024, m, 1),
                                         debit_kind="receivable_employer",
                                         person_ids=np.array([w.persons[d]]),
                                         pooled_fen=np.array([144000]),
                                         individual_fen=np.array([72000]))
                   for m in range(1, 13)]
        ledger.post_batch(engine, SYSTEM, f"sample:{d}:2024", lm.Batch(entries))
