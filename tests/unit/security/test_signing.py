"""security.signing: compact JWS with Ed25519, key loading from the environment."""
import pytest

from shebao.security import signing


def test_sign_and_verify_round_trip_and_tampering():
    key = signing.load_key("unit", "dev")
    token = key.sign({"a": 1, "名": "张伟"})
    assert signing.verify(token, key.public) == {"a": 1, "名": "张伟"}
    h, p, s = token.split(".")
    other = signing.b64u(b'{"a":2}')
    with pytest.raises(signing.BadSignature, match="does not match"):
        signing.verify(f"{h}.{other}.{s}", key.public)
    stranger = signing.SigningKey("x", signing.from_pem("x", signing.new_private_pem()).private)
    with pytest.raises(signing.BadSignature, match="unknown key"):
        signing.verify(token, stranger.public)
    with pytest.raises(signing.BadSignature, match="three parts"):
        signing.verify("abc", key.public)


def test_a_header_claiming_another_algorithm_is_refused():
    key = signing.load_key("unit", "dev")
    _, p, s = key.sign({"a": 1}).split(".")
    none_header = signing.b64u(b'{"alg":"none","kid":"' + key.kid.encode() + b'"}')
    with pytest.raises(signing.BadSignature, match="EdDSA"):
        signing.verify(f"{none_header}.{p}.{s}", key.public)


def test_production_refuses_without_a_key_and_reads_a_pem_file(tmp_path, monkeypatch):
    monkeypatch.delenv("SHEBAO_ZZ_KEY_FILE", raising=False)
    monkeypatch.delenv("SHEBAO_ZZ_KEY", raising=False)
    with pytest.raises(signing.KeyMissing, match="SHEBAO_ZZ_KEY_FILE"):
        signing.load_key("zz", "production")
    pem = tmp_path / "k.pem"
    pem.write_bytes(signing.new_private_pem())
    monkeypatch.setenv("SHEBAO_ZZ_KEY_FILE", str(pem))
    a, b = signing.load_key("zz", "production"), signing.load_key("zz", "production")
    assert a.kid == b.kid and not a.ephemeral
    assert signing.verify(a.sign({"x": 1}), b.public) == {"x": 1}
    # the dev key is ephemeral but stable within the process
    assert signing.load_key("dev-only", "dev").kid == signing.load_key("dev-only", "dev").kid
