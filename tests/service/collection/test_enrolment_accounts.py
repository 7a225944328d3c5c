"""Individual accounts are opened at enrolment (参保登记), in the enrolment's transaction: by
the enrolment services, the hire, the employment import and a region's bulk sweep — so the
first assessed month opens none."""
import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from shebao.collection import enrolment as enrolments
from shebao.collection.assess import assess
from shebao.core.actor import SYSTEM, Actor
from shebao.core.errors import InvariantError
from shebao.core.schemes import INDIVIDUAL_SCHEMES
from shebao.devtools.synthetic_population import citizen_ids, load_population
from shebao.registry import service as reg

from .conftest import ADMIN, REGION, make_uscc

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "registry"
START = dt.date(2024, 1, 1)


def _accounts(engine) -> set[tuple[int, str]]:
    with engine.connect() as c:
        return {(int(p), s) for p, s in c.execute(text(
            "SELECT person_id, scheme FROM ledger_account WHERE kind = 'individual'"))}


def _expected(pop) -> dict:
    """Accounts a synthetic population opens: employees and flexible workers in pension and
    medical, residents in resident_pension — each where the scheme keeps individual accounts."""
    per = {"pension": pop.employees + pop.flexible, "medical": pop.employees + pop.flexible,
           "resident_pension": pop.residents}
    return {f"{REGION}.{s}": n for s, n in per.items() if s in INDIVIDUAL_SCHEMES}


def _people(engine, n):
    ids = citizen_ids(REGION, np.arange(n)).astype(str).tolist()
    return [reg.register_person(engine, ADMIN, citizen_id=c, name=f"测试{i}", bank_name="BANK",
                                bank_account=f"62170000000000{i:02d}",
                                valid_from=dt.date(2020, 1, 1)) for i, c in enumerate(ids)]


def test_enrolment_services_open_the_individual_accounts_in_the_same_transaction(engine):
    p = _people(engine, 3)
    eid = reg.register_employer(engine, ADMIN, uscc=make_uscc(1), name="测试软件有限公司",
                                region=REGION, industry_code="65", float_tier_pct=100,
                                bank_name="BANK", bank_account="6222000000000001",
                                valid_from=dt.date(2020, 1, 1))
    enrolments.start_employment(engine, ADMIN, p[0], eid, START, wage_fen=500_000,
                                wage_year=2024)
    assert _accounts(engine) == {(p[0], "pension"), (p[0], "medical")}   # not the 3 others
    enrolments.enrol(engine, ADMIN, p[1], "pension", REGION, "flexible", START)
    enrolments.enrol(engine, ADMIN, p[2], "resident_pension", REGION, "resident", START)
    resident = {(p[2], "resident_pension")} & {(p[2], s) for s in INDIVIDUAL_SCHEMES}
    assert _accounts(engine) == {(p[0], "pension"), (p[0], "medical"), (p[1], "pension")} \
        | resident
    # refused enrolment (overlap): neither the enrolment nor an account is left
    enrolments.enrol(engine, ADMIN, p[1], "medical", REGION, "flexible", START)
    with pytest.raises(InvariantError):
        enrolments.enrol(engine, ADMIN, p[1], "medical", REGION, "flexible", START)
    assert len(_accounts(engine)) == 4 + len(resident)
    # the first month opens nothing: every account it credits exists already
    before = _accounts(engine)
    res = assess(engine, Actor(id="clerk", role="collection_clerk"), REGION,
                 dt.date(2024, 3, 1))
    assert res.rows > 0
    with engine.connect() as c:
        credited = c.execute(text(
            "SELECT count(DISTINCT a.person_id) FROM ledger_posting p JOIN ledger_account a "
            "ON a.id = p.account_id WHERE a.kind = 'individual'")).scalar_one()
    assert _accounts(engine) == before and credited >= 2


def test_the_employment_import_opens_the_accounts_of_its_enrolments_and_a_dry_run_none(
        engine, tmp_path):
    from shebao.registry import importer

    for name in ("persons.csv", "employers.csv", "employment.csv"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    importer.import_persons(engine, SYSTEM, tmp_path / "persons.csv")
    importer.import_employers(engine, SYSTEM, tmp_path / "employers.csv")
    dry = enrolments.import_employment(engine, SYSTEM, tmp_path / "employment.csv",
                                       dry_run=True)
    assert dry.inserted == 3 and _accounts(engine) == set()
    res = enrolments.import_employment(engine, SYSTEM, tmp_path / "employment.csv")
    assert res.inserted == 3
    with engine.connect() as c:
        enrolled = {(int(p), s) for p, s in c.execute(text(
            "SELECT DISTINCT person_id, scheme FROM enrolment "
            "WHERE scheme IN ('pension', 'medical')"))}
    assert enrolled and _accounts(engine) == enrolled


def test_a_bulk_load_is_swept_set_based_and_the_sweep_is_idempotent(engine):
    pop = load_population(engine, REGION, 300, seed=3, open_accounts=False)
    opened = enrolments.open_accounts(engine, ADMIN, region=REGION)
    expected = _expected(pop)
    assert opened == expected
    assert enrolments.open_accounts(engine, ADMIN, region=REGION) == {k: 0 for k in expected}
    assert len(_accounts(engine)) == sum(expected.values())


def test_the_bulk_load_opens_the_accounts_of_its_enrolments(engine):
    pop = load_population(engine, REGION, 200, seed=4)
    assert len(_accounts(engine)) == sum(_expected(pop).values())
