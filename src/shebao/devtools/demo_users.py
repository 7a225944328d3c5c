"""Demo accounts for ``shebao demo``: the stages act as real accounts (``demo_account``), and
before serving the portals one account of every role gets a password generated now and printed.

    from shebao.devtools.demo_users import seed_demo_users
    logins = seed_demo_users(engine, region="310104")   # prints a table, returns the list

No password is stored anywhere but as an argon2id hash; run it again and the existing demo
accounts get fresh passwords.
"""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from sqlalchemy import select

from shebao.core import regions
from shebao.core.actor import SYSTEM, Actor

from shebao.security import service
from shebao.security.tables import users


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    scope: str
    note: str


def _password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        p = "".join(secrets.choice(alphabet) for _ in range(14))
        if any(c.isdigit() for c in p) and any(c.isalpha() for c in p):
            return p


def demo_account(engine, username: str, role: str, scope: str, note: str = "") -> Actor:
    """The demo's own account ``username`` as the actor its stages act as: created with a random
    password (not shown) when missing. ``seed_demo_users`` later gives it a printed password
    for the web portals."""
    user = service.get_user_by_username(engine, username)
    if user is None:
        user = service.create_user(engine, SYSTEM, username=username, password=_password(),
                                   role=role, scope=scope, display_name=note or username)
    return user.actor()


def seed_demo_users(engine, *, region: str = "310104", person_id: int | None = None,
                    employer_id: int | None = None, out=print) -> list[DemoLogin]:
    """Create (or reset) demo accounts: two benefits clerks (maker and checker), a collection
    clerk and an inspector scoped to ``region``, a national administrator and a city one (the
    checker of fund decisions), and — when a person
    and an employer id are given — a citizen and an employer account. Prints the logins."""
    city = regions.parent(region) if region != regions.NATIONAL else region
    plan = [
        ("collector", "collection_clerk", region, "征缴经办"),
        ("maker", "benefits_clerk", region, "待遇经办 (maker)"),
        ("checker", "benefits_clerk", region, "待遇复核 (checker)"),
        ("inspector", "inspector", city or region, "稽核"),
        ("admin", "administrator", regions.NATIONAL, "管理员"),
        # the second administrator who checks fund decisions (subsidies, budgets, final
        # accounts) the first proposes
        ("admin2", "administrator", city or region, "基金复核 (fund checker)"),
    ]
    if person_id is not None:
        plan.append(("citizen", "citizen", region, f"参保人 (person {person_id})"))
    if employer_id is not None:
        plan.append(("employer", "employer", region, f"参保单位 (employer {employer_id})"))
    out_list = []
    for username, role, scope, note in plan:
        pw = _password()
        existing = service.get_user_by_username(engine, username)
        if existing is None:
            service.create_user(engine, SYSTEM, username=username, password=pw, role=role,
                                scope=scope, display_name=note.split(" ")[0],
                                person_id=person_id if role == "citizen" else None,
                                employer_id=employer_id if role == "employer" else None)
        else:
            service.set_password(engine, SYSTEM, existing.id, pw)
        out_list.append(DemoLogin(username, pw, role, scope, note))
    if out:
        out("demo logins (passwords generated now, not stored in clear):")
        for d in out_list:
            out(f"  {d.username:<9} {d.password:<14} {d.role:<16} {d.scope:<8} {d.note}")
    return out_list


def demo_usernames(engine) -> list[str]:
    with engine.connect() as conn:
        return [r.username for r in conn.execute(select(users.c.username))]
