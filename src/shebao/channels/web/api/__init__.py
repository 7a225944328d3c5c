"""REST API under /api/v1. Bureau routers are included when their package has landed."""
from __future__ import annotations

import importlib

# (module, required package): a bureau's views appear once its service exists.
MODULES = [
    ("shebao.channels.web.api.core", None),
    ("shebao.channels.web.api.registry", "shebao.registry.service"),
    ("shebao.channels.web.api.ledger", "shebao.ledger.service"),
    ("shebao.channels.web.api.collection", "shebao.collection.declarations"),
    ("shebao.channels.web.api.benefits", "shebao.benefits.determination"),
]


def available(required: str | None) -> bool:
    if required is None:
        return True
    try:
        importlib.import_module(required)
        return True
    except ModuleNotFoundError:
        return False


def routers():
    out = []
    for mod, required in MODULES:
        if not available(required):
            continue
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name == mod:
                continue
            raise
        out.append(m.router)
    return out
