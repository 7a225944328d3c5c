"""The administration stage of ``shebao demo`` (#18): ``run(engine, region, on) -> list[str]``
and ``assign_staff(engine, region, on)`` once the demo's web accounts exist.

Through the public services only, idempotent (what exists is left alone): a town, a village and
a grid cell below the region; a service hall and a bank agent run by an outsourced provider
with a contract for person registration; a required course on the 2023 agency regulation with
a question bank; the region's administration budget at the benchmark ratio of the year's
collection; a fiscal subsidy into the pension fund, proposed by ``admin`` and approved by
``admin2``; a pension fund budget proposed and left pending for ``admin2``'s check; the
pension fund's statement, tied out.
"""
from __future__ import annotations

import datetime as dt

from shebao.core.errors import ConflictError
from shebao.core.money import fen_to_yuan_str
from shebao.core import regions
from shebao.core.regions import NATIONAL
from shebao.org import outsourcing
from shebao.org import queries as org_queries
from shebao.org import service as org
from shebao.reports import decisions, funds, monthly
from shebao.training import queries as training_queries
from shebao.training import service as training

from .demo_users import demo_account

COURSE = "SAR-101"
QUESTIONS = [
    ("参保登记的法定办理时限是？", ["5 个工作日", "10 个工作日", "30 天"], 1),
    ("职工基本养老保险待遇申领的办理时限是？", ["10 个工作日", "20 个工作日", "60 天"], 1),
    ("《社会保险经办条例》自何时起施行？", ["2023-08-16", "2023-12-01", "2024-01-01"], 1),
    ("查询本人参保缴费记录是否收费？", ["免费", "按页收费", "按次收费"], 0),
    ("经办机构可以要求参保人提供法律依据以外的证明材料吗？", ["可以", "不可以"], 1),
    ("工伤认定申请，用人单位应在事故发生之日起多少天内提出？", ["15 天", "30 天", "1 年"], 1),
]
COURSEWARE = """# 社会保险经办条例（2023）要点

- 参保登记、变更登记：**10 个工作日**
- 养老保险待遇申领：**20 个工作日**
- 失业、生育：**10 个工作日**；工伤（人工审核）：**20 个工作日**
- 查询本人记录免费（第三十二条）；不得要求法律依据以外的证明材料（第三十一条）
"""


def _once(fn, *a, **k):
    try:
        return fn(*a, **k)
    except ConflictError:
        return None


def run(engine, region: str, on: dt.date) -> list[str]:
    admin = demo_account(engine, "admin", "administrator", NATIONAL, "管理员")
    out = []
    town, village = f"{region}001", f"{region}001001"
    _once(org.add_unit, engine, admin, town, "示范街道", households=12000)
    _once(org.add_unit, engine, admin, village, "示范社区居委会", households=2400)
    _once(org.add_unit, engine, admin, f"{village}G1", "示范社区第 1 网格", households=300)
    _once(org.add_outlet, engine, admin, f"{region}-HALL", "社保经办服务大厅", "counter", region)
    if not any(p["code"] == "91310000DEMOBANK01" for p in org_queries.providers(engine)):
        pid = outsourcing.add_provider(engine, admin, "91310000DEMOBANK01", "示范银行", region)
        _once(org.add_outlet, engine, admin, f"{region}-BANK", "示范银行代办点", "bank_agent",
              region, unit_code=town, provider_id=pid)
        outsourcing.add_contract(
            engine, admin, pid, "registry.person_registration", region,
            valid_from=on.replace(month=1, day=1), valid_to=on.replace(month=12, day=31),
            price_fen=1500, access_criteria=["持有金融许可证", "网点覆盖全部街道"],
            target_on_time_pct=95, target_rating_x100=450)
    out.append(f"organisation: {len(org_queries.hierarchy(engine, region))} levels to the grid, "
               f"{len(org_queries.outlets(engine, region))} outlets")
    if not any(c["code"] == COURSE for c in training_queries.courses(engine)):
        cid = training.create_course(engine, admin, COURSE, "社会保险经办条例（2023）",
                                     description="经办时限与经办服务规范",
                                     exam_questions=5, exam_minutes=20, pass_pct=80,
                                     validity_months=24)
        training.add_courseware(engine, admin, cid, "markdown", "要点", body=COURSEWARE)
        for text, options, answer in QUESTIONS:
            training.add_question(engine, admin, cid, text, options, answer)
        for role in ("collection_clerk", "benefits_clerk"):
            training.require_course(engine, admin, cid, role)
    out.append(f"training: course {COURSE} required for clerks "
               f"({len(QUESTIONS)} questions, 5 drawn per exam)")
    year = on.year - 1
    bench = monthly.administration_budget(engine, admin, region, year)
    if bench["budget"] is None and bench["benchmark"]:
        org.set_budget(engine, admin, region, year, bench["benchmark"], "示范：按征收额 2% 编列")
    checker = demo_account(engine, "admin2", "administrator",
                           regions.parent(region) or region, "基金复核")
    pid = _once(decisions.propose_subsidy, engine, admin, region, "pension", 100_000_000,
                on - dt.timedelta(days=1), "示范财政补贴")
    if pid:
        decisions.approve(engine, checker, pid)
    _once(decisions.propose_budget, engine, admin, region, "pension", on.year,
          {"contributions": 2 * 100_000_000, "fiscal_subsidy": 100_000_000})
    st = funds.checked_statement(engine, admin, region, "pension", dt.date(year, 1, 1), on)
    y = fen_to_yuan_str
    out.append(f"pension fund {year}-01-01..{on}: revenue {y(st.revenue)}, subsidy "
               f"{y(st.subsidy)}, expense {y(st.expense)}, closing {y(st.closing)} yuan — "
               f"ties out to the ledger")
    return out


def assign_staff(engine, region: str, on: dt.date) -> None:
    """The demo's clerks at the service hall (the collector heads it)."""
    admin = demo_account(engine, "admin", "administrator", NATIONAL, "管理员")
    for username, cls, head in (("collector", "operational", True),
                                ("maker", "professional", False),
                                ("checker", "professional", False)):
        if org_queries.outlet_of(engine, username, on) is None:
            _once(org.assign, engine, admin, username, f"{region}-HALL", cls, valid_from=on,
                  is_head=head)
