"""The Chinese catalogue covers every message the pages use; `shebao serve` refuses to start
in production mode without a secret."""
from typer.testing import CliRunner

from shebao.channels.web import i18n
from shebao.channels.web.i18n_ids import used_ids


def test_every_message_has_a_chinese_translation():
    missing = sorted(used_ids() - i18n.catalog_ids("zh_CN"))
    assert not missing, missing


def test_catalogue_is_compiled_at_runtime_and_formats_money():
    zh = i18n.translations("zh_CN")
    assert zh.gettext("Sign in") == "登录"
    assert i18n.translations("en").gettext("Sign in") == "Sign in"
    assert i18n.Fmt("zh_CN").money("1234567.8") == "¥1,234,567.80"
    assert i18n.Fmt("zh_CN").money(12345) == "¥123.45"          # int = fen


def test_serve_refuses_production_without_secret(monkeypatch):
    from shebao.channels.cli.main import app
    monkeypatch.delenv("SHEBAO_SECRET_KEY", raising=False)
    monkeypatch.delenv("SHEBAO_ENV", raising=False)
    r = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert r.exit_code == 2
    assert "SHEBAO_SECRET_KEY" in r.output
