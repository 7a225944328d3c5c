"""Notices in the portals: a citizen's (or employer's) notices with their delivery status, in
the page's language, and their channel preferences and quiet hours; the staff view of delivery
(counts per status and channel in their scope, the notices that fail and why)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from shebao.core.errors import InputError, PermissionDenied
from shebao.notices import outbox, preferences, status
from shebao.notices.render import render as render_notice
from shebao.security.service import User

from .. import i18n
from ..deps import current_user, engine
from ..render import render
from .common import user_with

router = APIRouter(include_in_schema=False)
NAV = {"citizen": [("/me/notices", "Notices", 65, None)],
       "employer": [("/employer/notices", "Notices", 60, None)],
       "staff": [("/staff/notices", "Notice delivery", 90, "notices.read")]}
STATUSES = ("pending", "sent", "failed", "cancelled")


def _recipient(user: User, request: Request | None = None) -> tuple[str, str]:
    """The recipient the signed-in account speaks for; the citizen portal (``/me``) is for
    citizens, the employer portal for employers."""
    portal = "employer" if request is not None and \
        request.url.path.startswith("/employer") else "citizen"
    if user.role != portal:
        raise PermissionDenied(f"the {portal} portal is for {portal}s")
    return preferences.recipient_of(user.actor())


def _page(request: Request, eng, user: User, *, values=None, errors=None, saved=False,
          code: int = 200):
    rtype, rid = _recipient(user, request)
    lang = i18n.pick(request.cookies.get("lang"))
    items = outbox.for_recipient(eng, rtype, rid, limit=50)
    tries = status.attempts(eng, [n.id for n in items])
    rows = [{"n": n, "text": render_notice(n.template, n.data, lang), "attempts": tries[n.id]}
            for n in items]
    prefs = values if values is not None else preferences.get(eng, rtype, rid)
    base = "/me" if user.role == "citizen" else "/employer"
    return render(request, "notices/mine.html", {
        "user": user, "rows": rows, "values": prefs, "errors": errors or {}, "saved": saved,
        "channels": preferences.CHANNELS, "base": base}, status=code)


@router.get("/me/notices")
@router.get("/employer/notices")
def mine(request: Request, user: User = Depends(current_user), eng=Depends(engine)):
    return _page(request, eng, user)


@router.post("/me/notices/preferences")
@router.post("/employer/notices/preferences")
async def save_preferences(request: Request, user: User = Depends(current_user),
                           eng=Depends(engine)):
    _recipient(user, request)
    data = await request.form()
    values = {k: (data.get(k) or "").strip() for k in
              ("lang", "email", "phone", "wechat", "quiet_start", "quiet_end")}
    values["channels"] = [c for c in data.getlist("channels")]
    try:
        preferences.set_preferences(eng, user.actor(), values)
    except InputError as exc:
        tr = i18n.translations(i18n.pick(request.cookies.get("lang")))
        return _page(request, eng, user, values=values,
                     errors={exc.field or "_form": tr.gettext(exc.reason)}, code=422)
    return _page(request, eng, user, saved=True)


@router.get("/staff/notices")
def staff_status(request: Request, region: str | None = None,
                 user: User = Depends(user_with("notices.read")), eng=Depends(engine)):
    actor = user.actor()
    region = region or actor.scope
    summary = status.summary(eng, actor, region)
    problems = status.problems(eng, actor, region)
    return render(request, "notices/staff.html", {
        "user": user, "summary": summary, "problems": problems, "statuses": STATUSES,
        "region": region})
