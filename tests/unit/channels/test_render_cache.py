"""channels.web.render: templates are read once per process (package files), not checked on
disk at every render."""
import os

from shebao.channels.web import render


def test_a_loaded_template_is_not_checked_on_disk_again(monkeypatch):
    env = render.env()
    first = env.get_template("error.html")
    calls = []
    real = os.path.getmtime
    monkeypatch.setattr(os.path, "getmtime", lambda p: calls.append(p) or real(p))
    assert env.get_template("error.html") is first
    assert calls == []
