"""REST API under /api/v1: one router per package, listed here."""
from __future__ import annotations

<<<<<<< HEAD
from . import benefits, cards, collection, core, ledger, mobility, registry, sharing
=======
from . import benefits, cards, collection, core, ledger, registry, sharing
from . import supervision  # supervision and monitoring (#14)
>>>>>>> main


def routers():
    return [core.router, registry.router, ledger.router, collection.router, benefits.router,
<<<<<<< HEAD
            sharing.router, cards.router, mobility.router]
=======
            sharing.router, cards.router, supervision.router]
>>>>>>> main
