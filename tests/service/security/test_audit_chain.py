import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shebao.core.actor import Actor
from shebao.security import audit

CLERK = Actor(id="clerk1", role="collection_clerk", scope="310101")


def _write_three(engine):
    with engine.begin() as conn:
        for i in range(3):
            audit.record(conn, CLERK, "person.read", "person", i, fields=["name", "phone"],
                         purpose="counter enquiry", detail={"n": i})


def test_chain_verifies_when_untouched(engine):
    _write_three(engine)
    with engine.connect() as conn:
        res = audit.verify(conn)
    assert res.ok and res.rows == 3


def test_database_refuses_update_and_delete(engine):
    _write_three(engine)
    for stmt in ("UPDATE audit_log SET purpose='x' WHERE id=2", "DELETE FROM audit_log WHERE id=2"):
        with pytest.raises(DBAPIError):
            with engine.begin() as conn:
                conn.execute(text(stmt))


def test_edit_behind_the_triggers_is_detected(engine):
    """An attacker with DDL rights drops the trigger and edits a row: verify names it."""
    _write_three(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET purpose='nothing to see' WHERE id=2"))
    with engine.connect() as conn:
        res = audit.verify(conn)
    assert not res.ok and res.first_bad_id == 2 and "edited" in res.reason


def test_removed_row_is_detected(engine):
    _write_three(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        conn.execute(text("DELETE FROM audit_log WHERE id=2"))
    with engine.connect() as conn:
        res = audit.verify(conn)
    assert not res.ok and res.first_bad_id == 3
