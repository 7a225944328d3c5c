"""Registry pages: uploads leave nothing on the server and never show its paths."""
import tempfile

import pytest
from shebao.core.ids import ric_check_char
from shebao.registry import importer


def _cid(first17):
    return first17 + ric_check_char(first17)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    d = tmp_path / "server-tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def test_uploads_are_deleted_after_dry_runs_imports_and_refusals(login, private_tmp):
    c = login("collection_clerk-310101")
    good = f"身份证号,姓名\n{_cid('31010119800101004')},钱八\n123,坏行\n".encode("utf-8")
    for data in ({"kind": "persons", "dry_run": "on"}, {"kind": "persons"}):
        r = c.post("/staff/import", data=data, files={"file": ("people.csv", good, "text/csv")})
        assert r.status_code == 200, r.text
        assert list(private_tmp.iterdir()) == []
    # a file the importer refuses as a whole (no citizen ID column)
    r = c.post("/staff/import", data={"kind": "persons"},
               files={"file": ("bad.csv", "姓名\n钱九\n".encode(), "text/csv")})
    assert r.status_code == 422
    assert "bad.csv" in r.text and str(private_tmp) not in r.text
    assert "shebao-import-" not in r.text
    assert list(private_tmp.iterdir()) == []


def test_upload_is_deleted_when_the_import_crashes(login, private_tmp, monkeypatch):
    def crash(*a, **k):
        raise RuntimeError("disk full")
    monkeypatch.setattr(importer, "import_persons", crash)
    c = login("collection_clerk-310101")
    try:    # the test client re-raises, or the app answers 500 (a catch-all handler)
        r = c.post("/staff/import", data={"kind": "persons"},
                   files={"file": ("p.csv", b"citizen_id,name\n", "text/csv")})
        assert r.status_code == 500
    except RuntimeError:
        pass
    assert list(private_tmp.iterdir()) == []
