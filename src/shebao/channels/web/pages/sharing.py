"""Back-office page of the sharing platform: the registered partners and the exchange record
(who asked what, why, on which legal basis) — administrators and inspectors."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from shebao.security.service import User
from shebao.sharing import partners, queries

from ..deps import engine
from ..pagination import decode, page
from ..render import render
from .common import user_with

router = APIRouter(include_in_schema=False)
NAV = {"staff": [("/staff/sharing", "Information sharing", 90, "sharing.read")]}


@router.get("/staff/sharing")
def sharing(request: Request, cursor: str | None = None,
            user: User = Depends(user_with("sharing.read")), eng=Depends(engine)):
    rows, nxt = page(queries.exchanges(eng, before=decode(cursor), limit=51), 50,
                     lambda r: r["id"])
    return render(request, "staff/sharing.html", {
        "user": user, "partners": partners.partners(eng), "rows": rows,
        "next_url": f"/staff/sharing?cursor={nxt}" if nxt else None})
