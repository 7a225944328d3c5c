"""The payroll chunk's SQL (``payroll._CHUNK``) and its pure twin (``model.payroll_lines``)
agree person by person on a small world covering every rule: the twin is computed from the
inputs read back with plain queries, the SQL's output is the payments the run wrote and the
persons it held."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import insert, select, text

from shebao.benefits import life_events, payroll
from shebao.benefits.payroll_rules import payroll_lines
from shebao.benefits.tables import (living_certification, payment, payroll_run,
                                    pension_award, pension_award_amount)
from shebao.registry import service as registry
from shebao.registry.merge import merge_persons
from shebao.security.tables import audit_log

from .conftest import ADMIN, MAKER, fund_account, fund_pool, make_award, make_person

DEC = dt.date(2025, 12, 1)
R = "310000"


def _world(engine) -> dict[str, int]:
    names = ("covered", "below", "none", "nobank", "dies_in", "died_before", "failed",
             "failed_passed", "passed_failed", "failed_in", "paid", "merged", "survivor", "indexed", "late")
    p = {n: make_person(engine, dt.date(1958, 3, 1), seq=40 + i,
                        bank_account=None if n == "nobank" else "6222000011112222")
         for i, n in enumerate(names)}
    fund_account(engine, R, p["covered"], 5_000_000, dt.date(2024, 12, 31))  # ≥ the part
    fund_account(engine, R, p["below"], 60_000, dt.date(2024, 12, 31))       # < the part
    fund_account(engine, R, p["nobank"], 60_000, dt.date(2024, 12, 31))
    fund_account(engine, R, p["indexed"], 5_000_000, dt.date(2024, 12, 31))
    fund_pool(engine, R, 1_000_000_00, dt.date(2025, 1, 1), "seed-pool-twin")
    awards = {n: make_award(engine, x, 300000 + i, 100000) for i, (n, x) in enumerate(p.items())
              if n != "late"}
    awards["late"] = make_award(engine, p["late"], 300000, 100000, start=dt.date(2026, 1, 1))
    registry.record_death(engine, ADMIN, p["dies_in"], dt.date(2025, 12, 1), source="feed")
    registry.record_death(engine, ADMIN, p["died_before"], dt.date(2025, 11, 30),
                          source="feed")
    life_events.record_living_certification(engine, MAKER, p["failed"], 2025, False,
                                            dt.date(2025, 11, 10))
    life_events.record_living_certification(engine, MAKER, p["failed_passed"], 2024, False,
                                            dt.date(2025, 11, 10))       # one per year
    life_events.record_living_certification(engine, MAKER, p["failed_passed"], 2025, True,
                                            dt.date(2025, 11, 20))
    life_events.record_living_certification(engine, MAKER, p["passed_failed"], 2024, True,
                                            dt.date(2024, 11, 1))   # a pass BEFORE: no cure
    life_events.record_living_certification(engine, MAKER, p["passed_failed"], 2025, False,
                                            dt.date(2025, 11, 10))
    life_events.record_living_certification(engine, MAKER, p["failed_in"], 2025, False,
                                            dt.date(2025, 12, 1))   # stops from January
    merge_persons(engine, ADMIN, p["survivor"], p["merged"], reason="duplicate record")
    t = dt.datetime.now(dt.timezone.utc)
    with engine.begin() as c:
        # indexed from January: December pays the amount in force then
        c.execute(pension_award.update().where(pension_award.c.id == awards["indexed"])
                  .values(monthly_fen=999999, account_part_fen=7,
                          amount_from=dt.date(2026, 1, 1)))
        c.execute(insert(pension_award_amount).values(
            award_id=awards["indexed"], effective_from=dt.date(2026, 1, 1), monthly_fen=999999,
            account_part_fen=7, source="indexation:test", recorded_at=t))
        # December already paid (by another region's run, e.g. before a transfer)
        rid = c.execute(insert(payroll_run).values(
            region="320000", month=DEC, status="computed", created_by="clerk-a",
            created_at=t).returning(payroll_run.c.id)).scalar_one()
        c.execute(insert(payment).values(
            run_id=rid, person_id=p["paid"], award_id=awards["paid"], region="320000",
            month=DEC, attempt=1, amount_fen=1, account_part_fen=0, bank_name="x",
            bank_account="1", end_to_end_id="PYX", status="paid", status_at=t))
    return p


def _twin(engine):
    """The twin over the region's active awards, every input read with a plain query."""
    with engine.connect() as c:
        awards = c.execute(select(pension_award).where(
            pension_award.c.region == R, pension_award.c.status == "active")
            .order_by(pension_award.c.person_id)).mappings().all()
        hist = c.execute(select(pension_award_amount).order_by(
            pension_award_amount.c.effective_from, pension_award_amount.c.id)).mappings().all()
        persons = {r.id: r for r in c.execute(text(
            "SELECT id, bank_account, death_date, status FROM person"))}
        balances = dict(c.execute(text(
            "SELECT person_id, balance FROM ledger_account WHERE scheme = 'pension' "
            "AND kind = 'individual'")).all())
        certs = c.execute(select(living_certification.c.person_id,
                                 living_certification.c.checked_on,
                                 living_certification.c.passed)).all()
        paid = {r.person_id for r in c.execute(select(payment.c.person_id).where(
            payment.c.month == DEC, payment.c.status.in_(("computed", "sent", "paid"))))}

    def in_force(a, col):            # the last amount effective on or before the month
        rows = [h[col] for h in hist if h["award_id"] == a["id"]
                and str(h["effective_from"])[:10] <= str(DEC)]
        return rows[-1] if rows else 0
    pid = [a["person_id"] for a in awards]
    return payroll_lines(
        DEC, pid, [in_force(a, "monthly_fen") for a in awards],
        [in_force(a, "account_part_fen") for a in awards],
        [balances.get(x, 0) for x in pid], [bool(persons[x].bank_account) for x in pid],
        [persons[x].death_date for x in pid], [persons[x].status == "merged" for x in pid],
        [[(on, ok == 1) for who, on, ok in certs if who == x] for x in pid],
        [x in paid for x in pid], start_month=[a["start_month"] for a in awards])


def test_payroll_sql_and_its_pure_twin_agree_person_by_person(engine):
    p = _world(engine)
    twin = _twin(engine)                                 # before the run writes payments
    r = payroll.run(engine, MAKER, R, DEC, chunk=4)
    with engine.connect() as c:
        written = {x.person_id: (x.amount_fen, x.account_part_fen) for x in c.execute(
            select(payment).where(payment.c.run_id == r.run_id))}
        held = [x for d in c.execute(select(audit_log.c.detail).where(
            audit_log.c.action == "payroll.run.held")) for x in json.loads(d.detail)["person_ids"]]
    expected = {int(x): (int(a), int(s)) for x, a, s, ok in zip(
        twin.person_id, twin.amount_fen, twin.account_share_fen, twin.payable) if ok}
    assert written == expected
    assert sorted(held) == sorted(int(x) for x in twin.person_id[twin.held])
    # the world does exercise each rule (hand-checked): part 1000.00, amounts 3000.00 + i
    assert expected[p["covered"]] == (300000, 100000)    # 50000.00 in the account ≥ 1000.00
    assert expected[p["below"]] == (300001, 60000)       # 600.00 < 1000.00 → 600.00
    assert expected[p["none"]] == (300002, 0)            # no account
    assert expected[p["indexed"]] == (300013, 100000)    # December: the amount before January
    assert held == [p["nobank"]]
    assert set(expected) == {p[n] for n in ("covered", "below", "none", "dies_in",
                                            "failed_passed", "failed_in", "survivor",
                                            "indexed")}
