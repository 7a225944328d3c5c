"""Server-rendered pages: sign-in, staff back office, citizen portal, employer portal."""
from __future__ import annotations

from ..render import env
from . import auth, benefits, cards, citizen, collection, employer, registry, sharing, staff
from . import org, reports, training  # administration (#18)
from . import notices, services  # notices and online applications (#17)
from . import supervision  # supervision and monitoring (#14)
from . import mobility  # mobility (#15)
from . import benefit_cases  # benefit casework (#13)
from . import medical, residents  # medical insurance and resident schemes (#16)

MODULES = [auth, staff, citizen, employer, registry, collection, benefits, cards, sharing, org,
           reports, training, notices, services, supervision, mobility, benefit_cases, medical, residents]


def routers():
    out, navs = [], {"staff": [], "citizen": [], "employer": []}
    for m in MODULES:
        out.append(m.router)
        for portal, items in getattr(m, "NAV", {}).items():
            navs[portal].extend(items)
    for portal, items in navs.items():
        env().globals[f"{portal}_nav"] = sorted(items, key=lambda i: i[2] if len(i) > 2 else 50)
    return out
