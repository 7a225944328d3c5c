"""Schemathesis over the whole /api/v1 (in-process ASGI app, SQLite, the sample world): no 5xx
and no response that breaks the documented schema, for an administrator and for a citizen.
Bounded: a few examples per operation, so `make test` stays quick.

Every default check runs except ``positive_data_acceptance``: a schema-valid request may still
be refused on meaning (an unknown citizen ID, a cursor this API did not issue, a password too
weak, a person outside the caller's region) with a 422/403 that names the field — that is the
contract, not a defect.

The schema is read at import time from an app over an empty in-memory database (the OpenAPI
document needs no data); requests go to the app over the migrated sample world.
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.support.web import api_headers
from shebao.channels.web import create_app
from shebao.db.engine import make_engine

schema = schemathesis.openapi.from_asgi(
    "/api/v1/openapi.json", create_app(mode="dev", engine=make_engine("sqlite://")))

EXCLUDED = [positive_data_acceptance]
BOUNDED = settings(max_examples=6, deadline=None, derandomize=True,
                   suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def st_app(sqlite_world):
    eng, _ = sqlite_world
    return create_app(mode="dev", engine=eng, login_rate_limit=100000)


@pytest.fixture(scope="module")
def admin_auth(sqlite_world):
    eng, world = sqlite_world
    return api_headers(eng, world.users[("administrator-national", "")])


@pytest.fixture(scope="module")
def citizen_auth(sqlite_world):
    eng, world = sqlite_world
    return api_headers(eng, world.users[("citizen-310101", "")])


@schema.parametrize()
@BOUNDED
def test_api_as_national_administrator(case, st_app, admin_auth):
    case.call_and_validate(app=st_app, headers=admin_auth, excluded_checks=EXCLUDED)


@schema.parametrize()
@BOUNDED
def test_api_as_citizen(case, st_app, citizen_auth):
    case.call_and_validate(app=st_app, headers=citizen_auth, excluded_checks=EXCLUDED)
