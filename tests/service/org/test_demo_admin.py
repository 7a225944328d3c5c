"""The demo's administration stage on the sample world: idempotent, and the fund statement it
prints ties out; its subsidy was posted on a second administrator's approval and its budget
waits for one."""
import datetime as dt

from shebao.devtools import demo_admin
from shebao.devtools.demo_users import demo_account
from shebao.reports import decisions
from shebao.org import queries as org_queries
from shebao.training import queries as training_queries
from tests.support.world import _world_pg, _world_sqlite, engine, world, world_engine  # noqa: F401

ON = dt.date(2026, 1, 1)


def test_demo_admin_stage_runs_twice(engine):
    first = demo_admin.run(engine, "310104", ON)
    assert "ties out" in first[-1]
    second = demo_admin.run(engine, "310104", ON)
    assert second[0] == first[0]
    assert [c["code"] for c in training_queries.courses(engine)] == [demo_admin.COURSE]
    assert len(org_queries.providers(engine)) == 1
    assert [o["code"] for o in org_queries.outlets(engine, "310104")] == ["310104-BANK",
                                                                         "310104-HALL"]
    admin2 = demo_account(engine, "admin2", "administrator", "310100")
    done = decisions.proposals(engine, admin2, region="310104", status="approved")
    assert [(p["kind"], p["made_by"], p["decided_by"]) for p in done] == \
        [("subsidy", "admin", "admin2")]
    assert done[0]["ledger_entry_id"]
    assert [p["kind"] for p in decisions.proposals(engine, admin2, region="310104")] == \
        ["budget"]
