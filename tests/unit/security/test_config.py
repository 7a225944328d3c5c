import pytest

from shebao.channels.web.config import ConfigError, load_settings


def test_production_refuses_to_start_without_a_secret(monkeypatch):
    monkeypatch.delenv("SHEBAO_SECRET_KEY", raising=False)
    monkeypatch.delenv("SHEBAO_ENV", raising=False)
    with pytest.raises(ConfigError, match="SHEBAO_SECRET_KEY"):
        load_settings()


def test_production_refuses_a_short_secret(monkeypatch):
    monkeypatch.setenv("SHEBAO_SECRET_KEY", "too-short")
    with pytest.raises(ConfigError, match="32 characters"):
        load_settings(mode="production")


def test_production_cookies_are_secure_by_default(monkeypatch):
    monkeypatch.delenv("SHEBAO_COOKIE_SECURE", raising=False)
    s = load_settings(mode="production", secret_key="k" * 40)
    assert s.cookie_secure and not s.ephemeral_secret


def test_dev_mode_generates_a_fresh_ephemeral_key_each_time(monkeypatch):
    monkeypatch.delenv("SHEBAO_SECRET_KEY", raising=False)
    a, b = load_settings(mode="dev"), load_settings(mode="dev")
    assert a.ephemeral_secret and a.secret_key != b.secret_key and len(a.secret_key) >= 32
    assert a.cookie_secure is False


def test_secure_flag_can_be_switched_off_for_local_http(monkeypatch):
    monkeypatch.setenv("SHEBAO_COOKIE_SECURE", "0")
    assert load_settings(mode="production", secret_key="k" * 40).cookie_secure is False


def test_unknown_mode_is_refused():
    with pytest.raises(ConfigError):
        load_settings(mode="staging", secret_key="k" * 40)
