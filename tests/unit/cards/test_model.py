"""cards.model: card numbers and the offline check of an e-card credential."""
import datetime as dt

import pytest

from shebao.cards import model
from shebao.core.errors import InvariantError
from shebao.security import signing

T0 = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.timezone.utc)


def test_card_number_has_a_check_digit_that_catches_a_typo():
    no = model.card_number(42)
    # body 0000042: weights 3,1,3,1,3,1,3 → 4×1 + 2×3 = 10 → check (10 − 0) mod 10 = 0
    assert no == "A00000420"
    assert model.card_number_valid(no)
    assert not model.card_number_valid("A00000421")
    assert not model.card_number_valid("A00000240")
    with pytest.raises(InvariantError):
        model.card_number(10 ** 7)


def _token(key, **kw):
    p = model.credential_payload(jti="j1", card_no="A00000420", name="张伟",
                                 masked_cid="310101********1234", region="310101",
                                 issued_at=kw.pop("at", T0), validity_seconds=120)
    p.update(kw)
    return key.sign(p, typ=model.TYP)


def test_offline_check_signature_expiry_revocation():
    key = signing.load_key("ecard-unit", "dev")
    tok = _token(key)
    assert model.check_offline(tok, [key.public], T0 + dt.timedelta(seconds=60)).valid
    # 120 s validity + 5 s leeway
    assert model.check_offline(tok, [key.public], T0 + dt.timedelta(seconds=125)).valid
    late = model.check_offline(tok, [key.public], T0 + dt.timedelta(seconds=126))
    assert (late.valid, late.reason) == (False, "expired")
    early = model.check_offline(tok, [key.public], T0 - dt.timedelta(seconds=30))
    assert early.reason == "not_yet_valid"
    assert model.check_offline(tok, [key.public], T0, revoked={"j1"}).reason == "revoked"
    forged = signing.SigningKey("f", signing.from_pem("f", signing.new_private_pem()).private)
    assert model.check_offline(_token(forged), [key.public], T0).reason == "signature"
    assert model.check_offline("not a token", [key.public], T0).reason == "malformed"
    other_typ = key.sign({"typ": "x", "jti": "j", "iat": 1, "exp": 2})
    assert model.check_offline(other_typ, [key.public], T0).reason == "malformed"
