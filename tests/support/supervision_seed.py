"""Seed data for the supervision tests: for each monitoring rule one case it must find and a
near miss it must not (written straight into the owners' tables: this is a fixture, not a
bureau; the rules read them through the owners' derived tables)."""
from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import insert

from shebao.benefits.tables import (benefit_award, benefit_award_line, payment, payroll_run,
                                   pension_award, pension_case)
from shebao.collection.tables import arrears_flag, base_declaration
from shebao.medical.tables import medical_claim
from shebao.registry.tables import employer, employment, enrolment, person

AS_OF = dt.date(2026, 6, 30)
REGION = "310104"
NOW = dt.datetime(2026, 6, 30, 12, tzinfo=dt.timezone.utc)
D = dt.date


class Seeder:
    def __init__(self, conn):
        self.conn = conn
        self.n = itertools.count(1)
        self.runs: dict[dt.date, int] = {}

    def person(self, *, sex="M", birth=D(1960, 5, 1), death=None, account=None, region=REGION):
        i = next(self.n)
        return self.conn.execute(insert(person).values(
            citizen_id=f"310104{birth:%Y%m%d}{i:04d}", name=f"测试{i}", sex=sex, birth_date=birth,
            pension_region=region, residence_region=region, hukou_region=region,
            status="deceased" if death else "active", death_date=death, bank_account=account,
            version=1, source="test", created_at=NOW, updated_at=NOW)).inserted_primary_key[0]

    def employer(self, *, industry="65", region=REGION):
        i = next(self.n)
        return self.conn.execute(insert(employer).values(
            uscc=f"91310104MA{i:08d}", name=f"单位{i}", region=region, industry_code=industry,
            risk_class=1, float_tier_pct=100, status="active", version=1, source="test",
            created_at=NOW, updated_at=NOW)).inserted_primary_key[0]

    def spell(self, pid, eid, start):
        return self.conn.execute(insert(employment).values(
            person_id=pid, origin_person_id=pid, employer_id=eid, start_date=start,
            source="test", created_at=NOW, created_by="test")).inserted_primary_key[0]

    def enrol(self, pid, scheme, *, status="active", start=D(2020, 1, 1), kind="resident",
              region=REGION, employer_id=None):
        self.conn.execute(insert(enrolment).values(
            person_id=pid, origin_person_id=pid, scheme=scheme, region=region, kind=kind,
            employer_id=employer_id,
            start_date=start, status=status, source="test", created_at=NOW, created_by="test"))

    def award(self, pid, monthly_fen=380000, status="active", region=REGION):
        cid = self.conn.execute(insert(pension_case).values(
            person_id=pid, region=region, claim="statutory", status="approved",
            opened_by="test", opened_at=NOW)).inserted_primary_key[0]
        return self.conn.execute(insert(pension_award).values(
            person_id=pid, case_id=cid, region=region, start_month=D(2020, 6, 1),
            monthly_fen=monthly_fen, account_part_fen=0, amount_from=D(2020, 6, 1),
            status=status, created_at=NOW)).inserted_primary_key[0]

    def pay(self, pid, aid, month, amount=380000, status="paid", region=REGION):
        if month not in self.runs:
            self.runs[month] = self.conn.execute(insert(payroll_run).values(
                region=region, month=month, status="released", created_by="test",
                created_at=NOW)).inserted_primary_key[0]
        self.conn.execute(insert(payment).values(
            run_id=self.runs[month], person_id=pid, award_id=aid, region=region, month=month,
            attempt=1, amount_fen=amount, account_part_fen=0, status=status,
            end_to_end_id=f"E2E{pid}-{month:%Y%m}-{status}"))

    def declare(self, pid, eid, wage_fen, region=REGION):
        self.conn.execute(insert(base_declaration).values(
            region=region, kind="employee", person_id=pid, employer_id=eid, year=2026,
            effective_from=D(2026, 1, 1), wage_fen=wage_fen, base_fen=max(wage_fen, 740000),
            clamp=0, reason="test", source="test", declared_by="test", declared_at=NOW))

    def unemployment(self, pid, start, end=None, amount_fen=200_000, region=REGION):
        aid = self.conn.execute(insert(benefit_award).values(
            case_id=next(self.n), person_id=pid, region=region, kind="unemployment",
            status="active", created_by="test", created_at=NOW)).inserted_primary_key[0]
        self.conn.execute(insert(benefit_award_line).values(
            award_id=aid, person_id=pid, region=region, scheme="unemployment", kind="monthly",
            code="benefit", amount_fen=amount_fen, start_month=start, end_month=end,
            payee_type="person", payee_id=pid, fund_account="pooled_fund", basis="test",
            status="active", source="decision", created_at=NOW))

    def claim(self, pid, provider, admitted, discharged, total_fen=1_000_000, region=REGION):
        i = next(self.n)
        self.conn.execute(insert(medical_claim).values(
            provider_id=provider, person_id=pid, bill_no=f"B{i}", insured_region=region,
            treatment_region=region, catalogue_region=region, scheme="medical", person_type=0,
            level=0, inpatient=True, offsite=0, use_account=False, admitted_on=admitted,
            discharged_on=discharged, total_fen=total_fen, lines=1, fingerprint=f"F{i}",
            channel="api", status="settled", created_by="test", created_at=NOW))

    def arrears(self, eid, max_days, owed_fen=5_000_000, region=REGION, as_of=AS_OF):
        self.conn.execute(insert(arrears_flag).values(
            region=region, as_of=as_of, employer_id=eid, bills=3, outstanding_fen=owed_fen,
            late_fee_fen=owed_fen // 100, max_days=max_days, reason="test", actor="test", at=NOW))


def seed_monitoring(engine) -> dict:
    """Everything the rules must find (``hits``) and the near misses they must not."""
    hits = {}
    with engine.begin() as conn:
        s = Seeder(conn)
        months = [D(2026, m, 1) for m in range(1, 5)]
        # pension_after_death: died 10 Feb, paid March and April → 2 months after death
        a = s.person(death=D(2026, 2, 10), account="6222000000000101")
        aw = s.award(a)
        for m in months:
            s.pay(a, aw, m)
        hits["pension_after_death"] = a
        # near miss: died 20 March, paid through March (the month of death is due); April's
        # payment was returned by the bank (no money out)
        b = s.person(death=D(2026, 3, 20), account="6222000000000102")
        bw = s.award(b)
        for m in months[:3]:
            s.pay(b, bw, m)
        s.pay(b, bw, months[3], status="returned")
        # double_pension: employee pension and an active resident pension enrolment
        c = s.person(account="6222000000000103")
        s.award(c)
        s.enrol(c, "resident_pension")
        hits["double_pension"] = c
        d = s.person(account="6222000000000104")       # near miss: the resident one ended
        s.award(d)
        s.enrol(d, "resident_pension", status="ended")
        # wage_base_low: three employees declared at 1,000 yuan (minimum wage 2,740)
        e1, e2 = s.employer(), s.employer()
        for _ in range(3):
            p = s.person(birth=D(1990, 1, 1))
            s.declare(p, e1, 100000)
            q = s.person(birth=D(1990, 1, 1))
            s.declare(q, e2, 800000)                    # near miss: 8,000 yuan
        hits["wage_base_low"] = e1
        # enrolment_before_retirement: five men aged 59 hired in March
        e3, e4 = s.employer(), s.employer()
        for _ in range(5):
            s.spell(s.person(birth=D(1967, 1, 1)), e3, D(2026, 3, 1))
        for _ in range(4):                              # near miss: only four, one young
            s.spell(s.person(birth=D(1967, 1, 1)), e4, D(2026, 3, 1))
        s.spell(s.person(birth=D(1996, 1, 1)), e4, D(2026, 3, 1))
        hits["enrolment_before_retirement"] = e3
        # arrears_long: 200 days overdue; near miss 100 days
        e5, e6 = s.employer(), s.employer()
        s.arrears(e5, 200)
        s.arrears(e6, 100)
        hits["arrears_long"] = e5
        # shared_bank_account: three pensioners on one account; near miss two on another
        for _ in range(3):
            s.award(s.person(account="6222000000009999"))
        for _ in range(2):
            s.award(s.person(account="6222000000008888"))
        hits["shared_bank_account"] = "6222000000009999"
        # unemployment_while_working: paid from January, hired again in April
        u1, u2 = s.person(birth=D(1985, 1, 1)), s.person(birth=D(1985, 1, 1))
        e7 = s.employer()
        s.unemployment(u1, D(2026, 1, 1))
        s.spell(u1, e7, D(2026, 4, 1))
        s.unemployment(u2, D(2026, 1, 1), end=D(2026, 4, 1))   # near miss: paid to March only
        s.spell(u2, e7, D(2026, 4, 1))
        hits["unemployment_while_working"] = u1
        # medical_readmission: readmitted by the same hospital 5 days after discharge
        m1, m2 = s.person(birth=D(1950, 1, 1)), s.person(birth=D(1950, 1, 1))
        s.claim(m1, 901, D(2026, 3, 1), D(2026, 3, 10))
        s.claim(m1, 901, D(2026, 3, 15), D(2026, 3, 25))
        s.claim(m2, 901, D(2026, 3, 1), D(2026, 3, 10))         # near miss: 31 days later,
        s.claim(m2, 901, D(2026, 4, 10), D(2026, 4, 20))        # and another hospital at once
        s.claim(m2, 902, D(2026, 3, 12), D(2026, 3, 14))
        hits["medical_readmission"] = m1
    return hits
