"""Fund decisions under four eyes: a fiscal subsidy posted to a fund, the fund's budget for a
year, the adoption of a year's final accounts (决算).

One officer (``reports.manage``) proposes; a *different* officer (``reports.approve``, never
the maker, not controlled by the same administrator: ``security.maker_checker`` and
``security.duties``) approves or refuses with a reason. Only the approval acts, in its own
transaction: it posts the subsidy to the ledger (Dr fund_bank, Cr fiscal_subsidy, idempotent on
the allocation document), writes the budget lines, or adopts the final accounts — these only
if the tied-out figures the maker proposed are still the ledger's (otherwise the checker would
adopt numbers nobody proposed). Approving an approved proposal again changes nothing and
answers the same (a retried request is harmless); a refused one stays refused.

    pid = propose_subsidy(db, maker, "310104", "pension", 50000, on, "沪财社〔2026〕7号")
    approve(db, checker, pid)      # → {"status": "approved", "ledger_entry_id": …}
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import select, update

from shebao.core import regions
from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, InvariantError, PermissionDenied
from shebao.core.schemes import check_scheme
from shebao.db.dialect import for_update
from shebao.db.uow import now, reading, transaction
from shebao.ledger import chart as ledger_chart
from shebao.ledger import posting as ledger_posting
from shebao.ledger.model import EntryRequest, Line, account_code
from shebao.security import audit, duties, policy
from shebao.security import maker_checker as mc

from . import funds, model, monthly
from .tables import fund_budget, fund_proposal

KIND = duties.FUND_DECISION
KINDS = ("subsidy", "budget", "final_accounts")
STATUSES = ("pending", "approved", "rejected")


def _check(actor: Actor, region: str, scheme: str, permission: str) -> None:
    policy.require(actor, permission)
    regions.check_region(region)      # a fund is a region's (never "national")
    check_scheme(scheme)
    policy.require_region(actor, region)


def _year(year) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise InputError("year out of range (2000–2100)", field="year")
    return year


def _out(r) -> dict:
    return {"id": int(r.id), "kind": r.kind, "region": r.region, "scheme": r.scheme,
            "year": int(r.year), "detail": json.loads(r.detail), "status": r.status,
            "approval_id": int(r.approval_id), "made_by": r.made_by,
            "made_at": r.made_at.isoformat() if r.made_at else None,
            "decided_by": r.decided_by,
            "decided_at": r.decided_at.isoformat() if r.decided_at else None,
            "reason": r.reason,
            "ledger_entry_id": None if r.ledger_entry_id is None else int(r.ledger_entry_id)}


def _propose(db, maker: Actor, kind: str, region: str, scheme: str, year: int,
             subject_key: str, detail: dict) -> int:
    """Insert the proposal and submit it for a check (one pending proposal per subject)."""
    with transaction(db) as conn:
        if kind == "subsidy":
            done = conn.execute(select(fund_proposal.c.id).where(
                fund_proposal.c.kind == kind, fund_proposal.c.subject_key == subject_key,
                fund_proposal.c.status == "approved")).first()
            if done:
                raise ConflictError(f"this allocation document was already posted "
                                    f"(proposal {done.id})")
        if kind == "final_accounts":
            done = conn.execute(select(fund_proposal.c.id).where(
                fund_proposal.c.kind == kind, fund_proposal.c.subject_key == subject_key,
                fund_proposal.c.status == "approved")).first()
            if done:
                raise ConflictError(f"the final accounts of {region}/{scheme}/{year} were "
                                    f"adopted already (proposal {done.id})")
        aid = mc.submit(conn, maker, KIND, f"fund_{kind}", subject_key, region=region,
                        detail={"region": region, "scheme": scheme, "year": year, **detail})
        return int(conn.execute(fund_proposal.insert().values(
            kind=kind, region=region, scheme=scheme, year=year, subject_key=subject_key,
            detail=json.dumps(detail, sort_keys=True, ensure_ascii=False), status="pending",
            approval_id=aid, made_by=maker.id, made_at=now()).returning(fund_proposal.c.id)
        ).scalar_one())


def propose_subsidy(db, maker: Actor, region: str, scheme: str, amount_fen: int,
                    received_on: dt.date, reference: str) -> int:
    """Propose to record a fiscal subsidy received into the fund's special account; the
    reference is the treasury's allocation document (posted at most once)."""
    _check(maker, region, scheme, "reports.manage")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise InputError("amount must be a positive number of fen", field="amount")
    if not isinstance(received_on, dt.date) or isinstance(received_on, dt.datetime):
        raise InputError("the date received is a date", field="received_on")
    ref = (reference or "").strip()
    if not ref or len(ref) > 80:
        raise InputError("give the allocation document's reference (1–80 characters)",
                         field="reference")
    key = f"{region}/{scheme}/" + hashlib.sha256(ref.encode()).hexdigest()[:32]
    return _propose(db, maker, "subsidy", region, scheme, received_on.year, key,
                    {"amount_fen": amount_fen, "received_on": received_on.isoformat(),
                     "reference": ref})


def propose_budget(db, maker: Actor, region: str, scheme: str, year: int,
                   lines: dict[str, int]) -> int:
    """Propose the fund's budget for a year: an amount in fen per statement line (on approval
    it replaces earlier figures of the same lines)."""
    _check(maker, region, scheme, "reports.manage")
    _year(year)
    if not lines:
        raise InputError("give at least one budget line", field="lines")
    for k, v in lines.items():
        if k not in model.LINE_SIDE:
            raise InputError(f"unknown budget line {k!r} (one of {', '.join(model.LINE_SIDE)})",
                             field="line")
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise InputError(f"{k}: a non-negative amount in fen", field=k)
    return _propose(db, maker, "budget", region, scheme, year, f"{region}/{scheme}/{year}",
                    {"lines": dict(sorted(lines.items()))})


def _final_figures(bind, actor: Actor, region: str, scheme: str, year: int) -> dict:
    fa = funds.final_accounts(bind, actor, region, scheme, year)
    st = fa["statement"]
    return {"opening": st["opening"], "closing": st["closing"],
            "lines": {x["line"]: x["amount"] for x in st["lines"]}, "budget": fa["budget"]}


def propose_final_accounts(db, maker: Actor, region: str, scheme: str, year: int) -> int:
    """Propose adopting the year's final accounts: the tied-out statement and the budget as
    they stand now (a statement that does not tie out cannot be proposed)."""
    _check(maker, region, scheme, "reports.manage")
    _year(year)
    figures = _final_figures(db, maker, region, scheme, year)
    return _propose(db, maker, "final_accounts", region, scheme, year,
                    f"{region}/{scheme}/{year}", figures)


def _load(conn, proposal_id: int):
    r = conn.execute(for_update(conn, select(fund_proposal).where(
        fund_proposal.c.id == proposal_id))).first()
    if r is None:
        raise InputError(f"no fund proposal {proposal_id}", field="proposal_id")
    return r


def _write_budget(conn, maker: str, p, lines: dict[str, int]) -> None:
    old = funds.budget(conn, p.region, p.scheme, p.year)
    for k, v in lines.items():
        if k in old:
            conn.execute(update(fund_budget).where(
                fund_budget.c.region == p.region, fund_budget.c.scheme == p.scheme,
                fund_budget.c.year == p.year, fund_budget.c.line == k).values(
                amount_fen=v, created_by=maker, created_at=now()))
        else:
            conn.execute(fund_budget.insert().values(
                region=p.region, scheme=p.scheme, year=p.year, line=k, amount_fen=v,
                created_by=maker, created_at=now()))


def _post_subsidy(conn, checker: Actor, p, d: dict) -> int:
    ledger_chart.open_chart(conn, checker, p.region, [p.scheme])
    res = ledger_posting.post_entry(conn, checker, f"subsidy:{p.subject_key}", EntryRequest(
        dt.date.fromisoformat(d["received_on"]),
        (Line.debit(account_code(p.region, p.scheme, "fund_bank"), d["amount_fen"]),
         Line.credit(account_code(p.region, p.scheme, "fiscal_subsidy"), d["amount_fen"])),
        source="reports.subsidy", memo=f"fiscal subsidy {d['reference']}"[:200]))
    return int(res.entry_id)


def approve(db, checker: Actor, proposal_id: int) -> dict:
    """The second officer's approval: the decision takes effect (posted, written, adopted).
    An approved proposal approved again answers the same and changes nothing."""
    policy.require(checker, "reports.approve")
    with transaction(db) as conn:
        p = _load(conn, proposal_id)
        policy.require_region(checker, p.region)
        if checker.id == p.made_by:
            raise PermissionDenied("the checker must be a different staff member from the "
                                   f"maker ({p.made_by})")
        if p.status == "approved":
            return {**_out(p), "replayed": True}
        if p.status == "rejected":
            raise ConflictError(f"fund proposal {proposal_id} was refused: {p.reason}")
        mc.approve(conn, checker, int(p.approval_id))
        d = json.loads(p.detail)
        entry = None
        if p.kind == "subsidy":
            entry = _post_subsidy(conn, checker, p, d)
        elif p.kind == "budget":
            _write_budget(conn, p.made_by, p, {k: int(v) for k, v in d["lines"].items()})
        else:
            now_figures = _final_figures(conn, checker, p.region, p.scheme, int(p.year))
            if now_figures != d:
                raise InvariantError(
                    f"the ledger or the budget of {p.region}/{p.scheme}/{p.year} changed since "
                    "these final accounts were proposed; refuse this proposal and propose "
                    "them again")
        conn.execute(update(fund_proposal).where(fund_proposal.c.id == proposal_id).values(
            status="approved", decided_by=checker.id, decided_at=now(), ledger_entry_id=entry))
        audit.record(conn, checker, f"reports.{p.kind}.adopt", "fund_proposal", proposal_id,
                     detail={"region": p.region, "scheme": p.scheme, "year": int(p.year),
                             "maker": p.made_by, "ledger_entry_id": entry, **d})
        return {**_out(_load(conn, proposal_id)), "replayed": False}


def reject(db, checker: Actor, proposal_id: int, reason: str) -> dict:
    """The second officer refuses the proposal, with the reason; nothing is posted."""
    policy.require(checker, "reports.approve")
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise InputError("a refusal needs a reason (1–200 characters)", field="reason")
    with transaction(db) as conn:
        p = _load(conn, proposal_id)
        policy.require_region(checker, p.region)
        if p.status != "pending":
            raise ConflictError(f"fund proposal {proposal_id} is already {p.status}")
        mc.reject(conn, checker, int(p.approval_id), reason=reason)
        conn.execute(update(fund_proposal).where(fund_proposal.c.id == proposal_id).values(
            status="rejected", decided_by=checker.id, decided_at=now(), reason=reason))
        return _out(_load(conn, proposal_id))


def proposals(bind, actor: Actor, *, region: str | None = None, status: str | None = "pending",
              kind: str | None = None, limit: int = 100, after: int | None = None,
              newest_first: bool = False) -> list[dict]:
    """Fund proposals in the actor's scope (or a region under it), oldest first (or newest
    first), after the id ``after`` in that order."""
    policy.require(actor, "reports.read")
    if status is not None and status not in STATUSES:
        raise InputError(f"status is one of {', '.join(STATUSES)}", field="status")
    if kind is not None and kind not in KINDS:
        raise InputError(f"kind is one of {', '.join(KINDS)}", field="kind")
    scope = region or actor.scope
    if scope != regions.NATIONAL:
        regions.check_region(scope)
    policy.require_region(actor, scope)
    q = select(fund_proposal).order_by(
        fund_proposal.c.id.desc() if newest_first else fund_proposal.c.id).limit(limit)
    if scope != regions.NATIONAL:
        q = q.where(fund_proposal.c.region.like(monthly.region_like(scope)))
    if status:
        q = q.where(fund_proposal.c.status == status)
    if kind:
        q = q.where(fund_proposal.c.kind == kind)
    if after is not None:
        q = q.where(fund_proposal.c.id < after if newest_first else fund_proposal.c.id > after)
    with reading(bind) as conn:
        rows = [_out(r) for r in conn.execute(q)]
    return rows


def get(bind, actor: Actor, proposal_id: int) -> dict:
    policy.require(actor, "reports.read")
    with reading(bind) as conn:
        r = conn.execute(select(fund_proposal).where(fund_proposal.c.id == proposal_id)).first()
    if r is None or not policy.in_region(actor, r.region):
        raise InputError(f"no fund proposal {proposal_id}", field="proposal_id")
    return _out(r)


def adopted_final_accounts(bind, region: str, scheme: str, year: int) -> dict | None:
    """The adopted final accounts of a fund's year (figures, maker, checker), or None."""
    with reading(bind) as conn:
        r = conn.execute(select(fund_proposal).where(
            fund_proposal.c.kind == "final_accounts", fund_proposal.c.status == "approved",
            fund_proposal.c.subject_key == f"{region}/{scheme}/{year}")).first()
    return _out(r) if r else None


__all__ = ["propose_subsidy", "propose_budget", "propose_final_accounts", "approve", "reject",
           "proposals", "get", "adopted_final_accounts"]
