"""benefits.queries: lists in the actor's region scope (filtered in SQL, paged newest first),
masked names, one run by id, a person's case ids."""
from __future__ import annotations

import datetime as dt

import pytest

from shebao.benefits import queries
from shebao.core.actor import Actor
from shebao.core.errors import InputError, PermissionDenied

from .conftest import ADMIN, make_award, make_person

SH = Actor(id="clerk-sh", role="benefits_clerk", scope="310000")
JS = Actor(id="clerk-js", role="benefits_clerk", scope="320000")


def _cases(engine):
    sh = [make_award(engine, make_person(engine, dt.date(1960, 1, 1), seq=i), 300_000, 60_000)
          for i in range(1, 4)]
    js = [make_award(engine, make_person(engine, dt.date(1960, 1, 1), seq=10 + i,
                                         region="320100"), 300_000, 60_000, region="320100")
          for i in range(4)]                      # newer than every Shanghai case
    return sh, js


def test_case_list_pages_within_the_scope_only(engine):
    _cases(engine)
    page1, nxt = queries.cases(engine, SH, status=None, limit=2, after=None)
    assert [c["region"] for c in page1] == ["310000", "310000"] and nxt is not None
    page2, nxt2 = queries.cases(engine, SH, status=None, limit=2, after=nxt)
    assert [c["region"] for c in page2] == ["310000"] and nxt2 is None
    ids = [c["id"] for c in page1 + page2]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 3
    assert all(c["name"] != "测试1" and "*" in c["name"] + c["citizen_id"] for c in page1)
    js, _ = queries.cases(engine, JS, status="approved", limit=50, after=None)
    assert {c["region"] for c in js} == {"320100"} and len(js) == 4
    everyone, _ = queries.cases(engine, ADMIN, status=None, limit=50, after=None)
    assert len(everyone) == 7
    with pytest.raises(InputError) as info:
        queries.cases(engine, SH, status="lost", limit=5, after=None)
    assert info.value.field == "status"


def test_citizens_do_not_list_cases_and_person_case_ids(engine):
    sh, _ = _cases(engine)
    with pytest.raises(PermissionDenied):
        queries.cases(engine, Actor(id="c", role="citizen", person_id=1), status=None, limit=5,
                      after=None)
    everyone, _ = queries.cases(engine, ADMIN, status=None, limit=50, after=None)
    pid = everyone[-1]["person_id"]
    with engine.connect() as conn:
        assert queries.case_ids_of_person(conn, pid) == [everyone[-1]["id"]]
        assert queries.case_ids_of_person(conn, 10 ** 9) == []
