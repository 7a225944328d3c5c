"""The app's signing keys and installation id, loaded once per app on first use.

``sharing`` signs our answers and messages to partners, ``ecard`` the e-card credentials
(``security.signing``: ``SHEBAO_SHARING_KEY_FILE`` / ``SHEBAO_ECARD_KEY_FILE``, ephemeral in dev
mode). ``SHEBAO_INSTALLATION`` names this installation in partner messages (default
``shebao``). Tests and a second installation in one process set ``app.state.sharing_key``,
``app.state.ecard_key`` and ``app.state.installation`` before serving.
"""
from __future__ import annotations

import os

from fastapi import Request

from shebao.security import signing


def key(request: Request, purpose: str) -> signing.SigningKey:
    st = request.app.state
    k = getattr(st, f"{purpose}_key", None)
    if k is None:
        k = signing.load_key(purpose, st.settings.mode)
        setattr(st, f"{purpose}_key", k)
    return k


def sharing_key(request: Request) -> signing.SigningKey:
    return key(request, "sharing")


def ecard_key(request: Request) -> signing.SigningKey:
    return key(request, "ecard")


def installation(request: Request) -> str:
    return getattr(request.app.state, "installation", None) \
        or os.environ.get("SHEBAO_INSTALLATION") or "shebao"
