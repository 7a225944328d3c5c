"""Social security cards (社会保障卡) and the e-card (电子社保卡): lifecycle and signed QR
credentials. See ``service.py`` (card lifecycle), ``ecard.py`` (credentials, verification,
revocation), ``model.py`` (pure rules)."""
