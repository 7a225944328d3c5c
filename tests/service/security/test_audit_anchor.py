"""The audit chain anchored outside the database: the probe's attacks (tail truncation, a fully
recomputed chain) behind dropped triggers are caught by `verify` against the anchor file, and
per-region chains verify independently."""
import json
import os

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from shebao.channels.cli.main import app
from shebao.core.actor import Actor
from shebao.security import audit
from shebao.security.tables import audit_log

CLERK = Actor(id="clerk1", role="collection_clerk", scope="310104")
OTHER = Actor(id="clerk2", role="collection_clerk", scope="310101")
ADMIN = Actor(id="admin", role="administrator")


@pytest.fixture(autouse=True)
def _anchor_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SHEBAO_AUDIT_ANCHOR_FILE", str(tmp_path / "anchors.jsonl"))
    monkeypatch.delenv("SHEBAO_AUDIT_ANCHOR_KEY", raising=False)
    monkeypatch.delenv("SHEBAO_AUDIT_ANCHOR_KEY_FILE", raising=False)
    monkeypatch.delenv("SHEBAO_AUDIT_CHAINS", raising=False)


def _write(engine, n, actor=CLERK, start=0):
    with engine.begin() as conn:
        for i in range(start, start + n):
            audit.record(conn, actor, "registry.person.read", "person", i, fields=["name"],
                         purpose="counter enquiry", detail={"n": i})


def _unprotect(conn):
    """What an attacker with DDL rights does first (on a copy, in the probe)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("DROP TRIGGER audit_log_no_delete"))


def _recompute(conn):
    """Re-chain every row in id order with the module's own function (the chain has no key)."""
    prev: dict[str, str] = {}
    rows = conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings().all()
    for r in rows:
        row = dict(r)
        row["at"] = audit._at_text(r["at"] if r["at"].tzinfo else
                                   r["at"].replace(tzinfo=audit.dt.timezone.utc))
        p = prev.get(r["chain"], audit.genesis(r["chain"]))
        h = audit._digest(p, row)
        conn.execute(text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :id"),
                     {"p": p, "h": h, "id": r["id"]})
        prev[r["chain"]] = h


def _anchors():
    return audit.read_anchors(audit.anchor_path())


def test_anchor_appends_one_line_per_anchor_with_every_chains_head(engine):
    _write(engine, 3)
    _write(engine, 2, OTHER)
    a1 = audit.anchor(engine)
    _write(engine, 1)
    a2 = audit.anchor(engine)
    lines = audit.anchor_path().read_text().splitlines()
    assert [json.loads(x)["rows"] for x in lines] == [5, 6]
    assert set(a1["chains"]) == {"310104", "310101"}
    assert a1["chains"]["310104"]["rows"] == 3 and a2["chains"]["310104"]["rows"] == 4
    with engine.connect() as conn:
        last = conn.execute(text("SELECT id, hash FROM audit_log WHERE chain = '310104' "
                                 "ORDER BY id DESC LIMIT 1")).one()
    assert a2["chains"]["310104"]["last_id"] == last.id
    assert a2["chains"]["310104"]["last_hash"] == last.hash
    assert oct(os.stat(audit.anchor_path()).st_mode & 0o777) == "0o600"


def test_intact_log_verifies_against_its_anchors(engine):
    _write(engine, 3)
    audit.anchor(engine)
    _write(engine, 3, ADMIN)
    audit.anchor(engine)
    _write(engine, 2)   # rows after the last anchor are fine
    with engine.connect() as conn:
        res = audit.verify(conn, _anchors())
    assert res.ok and res.rows == 8 and res.anchors == 2
    assert res.chains == {"310104": 5, "national": 3}


def test_tail_truncation_is_detected(engine):
    _write(engine, 6)
    audit.anchor(engine)
    with engine.begin() as conn:
        _unprotect(conn)
        conn.execute(text("DELETE FROM audit_log WHERE id > 4"))
    with engine.connect() as conn:
        assert audit.verify(conn).ok          # the chain alone cannot see it (the probe's WEAK)
        res = audit.verify(conn, _anchors())
    assert not res.ok and res.chain == "310104" and res.first_bad_id == 6
    assert "truncated" in res.reason and "4 rows" in res.reason


def test_fully_recomputed_chain_is_detected(engine):
    _write(engine, 6)
    audit.anchor(engine)
    with engine.begin() as conn:
        _unprotect(conn)
        conn.execute(text("DELETE FROM audit_log WHERE id = 2"))
        conn.execute(text("UPDATE audit_log SET purpose = 'nothing to see' WHERE id = 3"))
        _recompute(conn)
    with engine.connect() as conn:
        assert audit.verify(conn).ok          # re-chained: links and hashes all hold
        res = audit.verify(conn, _anchors())
    assert not res.ok and res.first_bad_id == 6 and "recomputed" in res.reason


def test_recomputed_without_changing_the_last_row_still_shows_the_count(engine):
    """Drop a middle row and re-chain: the anchored hash would differ anyway, but even an
    attacker who could forge it is caught by the anchored row count."""
    _write(engine, 5)
    a = audit.anchor(engine)
    with engine.begin() as conn:
        _unprotect(conn)
        conn.execute(text("DELETE FROM audit_log WHERE id = 2"))
        _recompute(conn)
        forged = conn.execute(text("SELECT hash FROM audit_log WHERE id = 5")).scalar_one()
    a["chains"]["310104"]["last_hash"] = forged
    with engine.connect() as conn:
        res = audit.verify(conn, [a])
    assert not res.ok and "4 rows up to row 5, 5 anchored" in res.reason


def test_chains_are_independent_and_verify_walks_all(engine):
    _write(engine, 2)
    _write(engine, 2, OTHER)
    _write(engine, 1)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, chain, prev_hash, hash FROM audit_log ORDER BY id")
                            ).all()
        assert audit.verify(conn).chains == {"310104": 3, "310101": 2}
    assert [r.chain for r in rows] == ["310104"] * 2 + ["310101"] * 2 + ["310104"]
    assert rows[0].prev_hash == audit.genesis("310104") != audit.genesis("310101")
    assert rows[2].prev_hash == audit.genesis("310101")
    assert rows[4].prev_hash == rows[1].hash      # links to its own chain, not to row 4
    # a row moved to another chain breaks both
    with engine.begin() as conn:
        _unprotect(conn)
        conn.execute(text("UPDATE audit_log SET chain = '310101' WHERE id = 2"))
    with engine.connect() as conn:
        res = audit.verify(conn)
    assert not res.ok and res.first_bad_id == 2


def test_single_chain_mode_puts_every_row_on_the_national_chain(engine, monkeypatch):
    monkeypatch.setenv("SHEBAO_AUDIT_CHAINS", "single")
    _write(engine, 2)
    _write(engine, 2, OTHER)
    with engine.connect() as conn:
        assert audit.verify(conn).chains == {"national": 4}


def _cli(engine, monkeypatch, *args):
    monkeypatch.setenv("SHEBAO_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return CliRunner().invoke(app, ["audit", *args])


def test_cli_anchor_prints_the_line_and_verify_fails_after_truncation(engine, monkeypatch,
                                                                     tmp_path):
    path = tmp_path / "elsewhere.jsonl"
    monkeypatch.setenv("SHEBAO_AUDIT_ANCHOR_KEY", "k" * 32)
    _write(engine, 5)
    res = _cli(engine, monkeypatch, "anchor", "--file", str(path))
    assert res.exit_code == 0, res.output
    printed = json.loads(res.stdout.splitlines()[0])
    assert printed["chains"]["310104"]["rows"] == 5 and len(printed["hmac"]) == 64
    assert path.read_text().strip() == res.stdout.splitlines()[0]
    ok = _cli(engine, monkeypatch, "verify", "--anchor", str(path))
    assert ok.exit_code == 0 and "1 anchors checked" in ok.output
    with engine.begin() as conn:
        _unprotect(conn)
        conn.execute(text("DELETE FROM audit_log WHERE id > 3"))
    bad = _cli(engine, monkeypatch, "verify", "--anchor", str(path))
    assert bad.exit_code == 1 and "truncated" in bad.output and "chain 310104" in bad.output


def test_cli_verify_refuses_an_edited_anchor_file(engine, monkeypatch, tmp_path):
    path = tmp_path / "a.jsonl"
    monkeypatch.setenv("SHEBAO_AUDIT_ANCHOR_KEY", "k" * 32)
    _write(engine, 3)
    _cli(engine, monkeypatch, "anchor", "--file", str(path))
    a = json.loads(path.read_text())
    a["chains"]["310104"]["rows"] = 2      # the attacker lowers the anchor to match a cut log
    path.write_text(json.dumps(a) + "\n")
    bad = _cli(engine, monkeypatch, "verify", "--anchor", str(path))
    assert bad.exit_code == 1 and "line 1" in bad.output and "HMAC" in bad.output


def test_cli_verify_uses_the_configured_anchor_file_by_default(engine, monkeypatch):
    _write(engine, 3)
    assert _cli(engine, monkeypatch, "anchor").exit_code == 0
    with engine.begin() as conn:
        _unprotect(conn)
        conn.execute(text("DELETE FROM audit_log WHERE id = 3"))
    bad = _cli(engine, monkeypatch, "verify")
    assert bad.exit_code == 1 and "truncated" in bad.output


def test_periodic_anchor_writes_only_when_the_log_moved(engine):
    pa = audit.PeriodicAnchor(engine, every=3600)
    _write(engine, 2)
    assert pa.tick() is not None
    assert pa.tick() is None
    _write(engine, 1, ADMIN)
    assert pa.tick()["rows"] == 3
    assert len(_anchors()) == 2


def test_the_web_app_anchors_periodically_when_configured(engine, monkeypatch):
    from shebao.channels.web.app import create_app

    monkeypatch.setenv("SHEBAO_AUDIT_ANCHOR_EVERY", "0.05")
    _write(engine, 2)
    app = create_app(mode="dev", engine=engine)
    try:
        for _ in range(100):
            if audit.anchor_path().exists():
                break
            app.state.audit_anchor.thread.join(0.05)
        assert _anchors()[0]["chains"]["310104"]["rows"] == 2
    finally:
        app.state.audit_anchor.stop()
    monkeypatch.delenv("SHEBAO_AUDIT_ANCHOR_EVERY")
    assert create_app(mode="dev", engine=engine).state.audit_anchor is None


def test_lanes_split_a_region_by_actor_and_each_actor_keeps_one_lane(engine, monkeypatch):
    monkeypatch.setenv("SHEBAO_AUDIT_LANES", "4")
    citizens = [Actor(id=f"citizen-{i}", role="citizen", scope="310104", person_id=i)
                for i in range(12)]
    for c in citizens:
        _write(engine, 2, c)
    with engine.connect() as conn:
        res = audit.verify(conn)
        by_actor = conn.execute(text("SELECT actor, COUNT(DISTINCT chain) FROM audit_log "
                                     "GROUP BY actor")).all()
    assert res.ok and res.rows == 24
    assert set(res.chains) == {f"310104.{k}" for k in range(4)}
    assert {n for _, n in by_actor} == {1}
    assert audit.chain_of(citizens[0]) == audit.chain_of(citizens[0])
    monkeypatch.setenv("SHEBAO_AUDIT_LANES", "0")
    with pytest.raises(audit.InputError, match="SHEBAO_AUDIT_LANES"):
        audit.chain_of(citizens[0])
