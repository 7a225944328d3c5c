"""The anchor file on its own (no database): one O_APPEND line per anchor, HMAC keyed from
outside the database, edited or foreign lines refused naming their line, chains per actor."""
import json
import os

import pytest

from shebao.core.actor import Actor
from shebao.core.errors import InputError
from shebao.security import audit

HEADS = {"310104": {"rows": 3, "last_id": 7, "last_hash": "ab" * 32}}


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    for k in ("SHEBAO_AUDIT_ANCHOR_FILE", "SHEBAO_AUDIT_ANCHOR_KEY", "SHEBAO_AUDIT_ANCHOR_KEY_FILE",
              "SHEBAO_AUDIT_CHAINS", "SHEBAO_AUDIT_LANES"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("SHEBAO_VAR", str(tmp_path / "var"))


def _write(path, key=None, heads=HEADS, monkeypatch=None):
    monkeypatch.setattr(audit, "heads", lambda conn: heads)
    return audit.anchor(object(), path, key=key)   # heads() is the only database read


def test_default_path_is_under_var_and_configurable(monkeypatch, tmp_path):
    assert audit.anchor_path() == tmp_path / "var" / "audit" / "anchors.jsonl"
    monkeypatch.setenv("SHEBAO_AUDIT_ANCHOR_FILE", str(tmp_path / "x.jsonl"))
    assert audit.anchor_path() == tmp_path / "x.jsonl"
    assert audit.anchor_path(tmp_path / "y") == tmp_path / "y"


def test_lines_are_appended_never_rewritten_and_private(monkeypatch, tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text("")
    os.chmod(p, 0o600)
    _write(p, monkeypatch=monkeypatch)
    _write(p, heads={**HEADS, "national": {"rows": 1, "last_id": 9, "last_hash": "cd" * 32}},
           monkeypatch=monkeypatch)
    lines = p.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["rows"] == 4
    assert [a["_line"] for a in audit.read_anchors(p)] == [1, 2]
    new = tmp_path / "sub" / "new.jsonl"
    _write(new, monkeypatch=monkeypatch)
    assert os.stat(new).st_mode & 0o777 == 0o600


def test_hmac_from_a_key_file_and_a_tampered_line_is_refused(monkeypatch, tmp_path):
    kf = tmp_path / "anchor.key"
    kf.write_text("s3cret-key-outside-the-database\n")
    monkeypatch.setenv("SHEBAO_AUDIT_ANCHOR_KEY_FILE", str(kf))
    key = audit.anchor_key()
    assert key == b"s3cret-key-outside-the-database"
    p = tmp_path / "a.jsonl"
    a = _write(p, key=key, monkeypatch=monkeypatch)
    assert len(a["hmac"]) == 64 and audit.read_anchors(p, key)[0]["chains"] == HEADS
    with pytest.raises(InputError, match="line 1: the anchor's HMAC does not match"):
        audit.read_anchors(p, b"another key")
    forged = json.loads(p.read_text())
    forged["chains"]["310104"]["rows"] = 2
    p.write_text(json.dumps(forged) + "\n")
    with pytest.raises(InputError, match="HMAC"):
        audit.read_anchors(p, key)


def test_a_line_that_is_not_an_anchor_is_named(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text('{"chains": {}}\nnot json\n')
    with pytest.raises(InputError, match="line 2 is not an audit anchor"):
        audit.read_anchors(p)


def test_an_empty_key_file_is_refused(monkeypatch, tmp_path):
    kf = tmp_path / "k"
    kf.write_text("\n")
    monkeypatch.setenv("SHEBAO_AUDIT_ANCHOR_KEY_FILE", str(kf))
    with pytest.raises(InputError, match="SHEBAO_AUDIT_ANCHOR_KEY_FILE"):
        audit.anchor_key()


def test_chain_of_follows_the_actor_scope(monkeypatch):
    clerk = Actor(id="c", role="collection_clerk", scope="310104")
    admin = Actor(id="a", role="administrator")
    assert audit.chain_of(clerk) == "310104" and audit.chain_of(admin) == "national"
    assert audit.genesis("national") == audit.GENESIS != audit.genesis("310104")
    monkeypatch.setenv("SHEBAO_AUDIT_CHAINS", "single")
    assert audit.chain_of(clerk) == "national"
