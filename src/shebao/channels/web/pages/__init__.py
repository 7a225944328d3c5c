"""Server-rendered pages: sign-in, staff back office, citizen portal, employer portal.
A bureau's pages are included once that bureau's service exists."""
from __future__ import annotations

import importlib

from ..api import available
from ..render import env

MODULES = [
    ("shebao.channels.web.pages.auth", None),
    ("shebao.channels.web.pages.staff", None),
    ("shebao.channels.web.pages.citizen", None),
    ("shebao.channels.web.pages.employer", None),
    ("shebao.channels.web.pages.registry", "shebao.registry.service"),
    ("shebao.channels.web.pages.collection", "shebao.collection.declarations"),
    ("shebao.channels.web.pages.benefits", "shebao.benefits.determination"),
]


def routers():
    out, navs = [], {"staff": [], "citizen": [], "employer": []}
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
        for portal, items in getattr(m, "NAV", {}).items():
            navs[portal].extend(items)
    for portal, items in navs.items():
        env().globals[f"{portal}_nav"] = sorted(items, key=lambda i: i[2] if len(i) > 2 else 50)
    return out
