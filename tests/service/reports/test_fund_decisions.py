"""Fund decisions under four eyes: a fiscal subsidy, a budget and the adoption of final
accounts are proposed by one administrator and take effect only when a different one
approves; the maker cannot approve their own proposal; a refusal needs a reason and posts
nothing; approving twice posts once; every step is audited."""
import datetime as dt

import pytest
from sqlalchemy import select

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, InvariantError, PermissionDenied
from shebao.ledger import model, service as ledger
from shebao.reports import decisions, funds
from shebao.security.tables import approvals, audit_log

from .test_fund_statement import ADMIN, CHECKER, CLERK, R, S, books, code, post  # noqa: F401

OUTSIDER = Actor(id="admin-gz", role="administrator", scope="440100")
REF = "沪财社〔2026〕19号"


def _actions(engine, subject_type, subject_id) -> list[str]:
    with engine.connect() as c:
        return [r.action for r in c.execute(select(audit_log.c.action).where(
            audit_log.c.subject_type == subject_type,
            audit_log.c.subject_id == str(subject_id)).order_by(audit_log.c.id))]


def test_subsidy_is_posted_only_by_the_second_officer(books):
    before = ledger.balance(books, code("fiscal_subsidy"))        # 50000 from the fixture
    pid = decisions.propose_subsidy(books, ADMIN, R, S, 123456, dt.date(2026, 4, 2), REF)
    p = decisions.get(books, CHECKER, pid)
    assert p["status"] == "pending" and p["made_by"] == "admin1"
    assert p["detail"] == {"amount_fen": 123456, "received_on": "2026-04-02", "reference": REF}
    # listed as pending for the checker, nothing posted yet
    assert [x["id"] for x in decisions.proposals(books, CHECKER, region=R)] == [pid]
    assert ledger.balance(books, code("fiscal_subsidy")) == before
    # the maker may not approve their own proposal, nor may someone outside the region
    with pytest.raises(PermissionDenied, match="different staff member"):
        decisions.approve(books, ADMIN, pid)
    with pytest.raises(PermissionDenied):
        decisions.approve(books, OUTSIDER, pid)
    with pytest.raises(PermissionDenied):
        decisions.approve(books, CLERK, pid)
    assert ledger.balance(books, code("fiscal_subsidy")) == before
    out = decisions.approve(books, CHECKER, pid)
    assert out["status"] == "approved" and out["decided_by"] == "admin2"
    assert out["replayed"] is False and out["ledger_entry_id"]
    assert ledger.balance(books, code("fiscal_subsidy")) == before + 123456
    assert ledger.balance(books, code("fund_bank")) == 150000 + 50000 + 123456
    # approving again (a retried request) changes nothing and answers the same
    again = decisions.approve(books, CHECKER, pid)
    assert again["replayed"] is True and again["ledger_entry_id"] == out["ledger_entry_id"]
    assert ledger.balance(books, code("fiscal_subsidy")) == before + 123456
    with pytest.raises(PermissionDenied):           # the maker gets no "approved" from it
        decisions.approve(books, ADMIN, pid)
    # the same allocation document cannot be posted twice, and nothing is pending any more
    with pytest.raises(ConflictError, match="already posted"):
        decisions.propose_subsidy(books, ADMIN, R, S, 123456, dt.date(2026, 4, 2), REF)
    assert decisions.proposals(books, CHECKER, region=R) == []
    # audited: the submission, the check (security.maker_checker), the adoption
    with books.connect() as c:
        aid = c.execute(select(approvals.c.id, approvals.c.status, approvals.c.checker).where(
            approvals.c.id == p["approval_id"])).one()
    assert (aid.status, aid.checker) == ("approved", "admin2")
    subject = f"{R}/{S}/"
    with books.connect() as c:
        acts = [r.action for r in c.execute(select(audit_log.c.action).where(
            audit_log.c.subject_id.like(subject + "%")).order_by(audit_log.c.id))]
    assert acts[-2:] == ["reports.fund_decision.submit", "reports.fund_decision.approve"]
    assert _actions(books, "fund_proposal", pid) == ["reports.subsidy.adopt"]


def test_refusal_needs_a_reason_and_posts_nothing(books):
    before = ledger.balance(books, code("fiscal_subsidy"))
    pid = decisions.propose_subsidy(books, ADMIN, R, S, 1000, dt.date(2026, 4, 3), "wrong doc")
    # one pending proposal per allocation document
    with pytest.raises(ConflictError, match="awaits a check"):
        decisions.propose_subsidy(books, ADMIN, R, S, 1000, dt.date(2026, 4, 3), "wrong doc")
    with pytest.raises(InputError) as e:
        decisions.reject(books, CHECKER, pid, "  ")
    assert e.value.field == "reason"
    with pytest.raises(PermissionDenied):
        decisions.reject(books, ADMIN, pid, "my own")
    out = decisions.reject(books, CHECKER, pid, "the document names another fund")
    assert (out["status"], out["reason"]) == ("rejected", "the document names another fund")
    assert ledger.balance(books, code("fiscal_subsidy")) == before
    with pytest.raises(ConflictError, match="refused"):
        decisions.approve(books, CHECKER, pid)
    with pytest.raises(ConflictError, match="already rejected"):
        decisions.reject(books, CHECKER, pid, "again")
    assert [x["id"] for x in decisions.proposals(books, CHECKER, status="rejected")] == [pid]
    # a corrected proposal of the same document may follow the refusal
    pid2 = decisions.propose_subsidy(books, ADMIN, R, S, 1000, dt.date(2026, 4, 3),
                                     "wrong doc")
    assert pid2 != pid
    assert _actions(books, "fund_proposal", pid) == []       # refusals are audited by the check
    with books.connect() as c:
        acts = [r.action for r in c.execute(select(audit_log.c.action).where(
            audit_log.c.action == "reports.fund_decision.reject"))]
    assert acts == ["reports.fund_decision.reject"]


def test_bad_proposals_name_the_field(books):
    for args, field in [((0, dt.date(2026, 4, 1), "x"), "amount"),
                        ((100, dt.date(2026, 4, 1), ""), "reference"),
                        ((100, "2026-04-01", "x"), "received_on")]:
        with pytest.raises(InputError) as e:
            decisions.propose_subsidy(books, ADMIN, R, S, *args)
        assert e.value.field == field
    with pytest.raises(InputError) as e:
        decisions.propose_budget(books, ADMIN, R, S, 2026, {"nonsense": 1})
    assert e.value.field == "line"
    with pytest.raises(InputError) as e:
        decisions.propose_budget(books, ADMIN, R, S, 1999, {"benefits": 1})
    assert e.value.field == "year"
    with pytest.raises(PermissionDenied):
        decisions.propose_subsidy(books, CLERK, R, S, 100, dt.date(2026, 4, 1), "x")
    with pytest.raises(InputError) as e:
        decisions.propose_subsidy(books, CHECKER, "national", S, 100, dt.date(2026, 4, 1), "x")
    assert e.value.field == "region"
    assert decisions.proposals(books, CHECKER) == []


def test_budget_is_adopted_only_on_approval(books):
    pid = decisions.propose_budget(books, ADMIN, R, S, 2026,
                                   {"contributions": 400000, "benefits": 100000})
    assert funds.budget(books, R, S, 2026) == {}
    with pytest.raises(PermissionDenied):
        decisions.approve(books, ADMIN, pid)
    decisions.approve(books, CHECKER, pid)
    assert funds.budget(books, R, S, 2026) == {"contributions": 400000, "benefits": 100000}
    # a revision replaces the lines it names, once approved; a refused one changes nothing
    rev = decisions.propose_budget(books, ADMIN, R, S, 2026, {"benefits": 130000})
    decisions.reject(books, CHECKER, rev, "benefits growth not justified")
    assert funds.budget(books, R, S, 2026)["benefits"] == 100000
    rev = decisions.propose_budget(books, ADMIN, R, S, 2026, {"benefits": 125000})
    decisions.approve(books, CHECKER, rev)
    assert funds.budget(books, R, S, 2026) == {"contributions": 400000, "benefits": 125000}
    assert _actions(books, "fund_proposal", rev) == ["reports.budget.adopt"]


def test_final_accounts_adopt_the_figures_proposed(books):
    pid = decisions.propose_final_accounts(books, ADMIN, R, S, 2026)
    p = decisions.get(books, ADMIN, pid)
    assert p["detail"]["closing"] == 350420 and p["detail"]["lines"]["transfers_in"] == 132109
    assert decisions.adopted_final_accounts(books, R, S, 2026) is None
    # the ledger moves after the proposal: the checker cannot adopt figures nobody proposed
    post(books, "apr-fee", dt.date(2026, 4, 20), [
        model.Line.debit(code("receivable_employer"), 100),
        model.Line.credit(code("late_fee_income"), 100)], "collection.late_fee")
    with pytest.raises(InvariantError, match="changed since"):
        decisions.approve(books, CHECKER, pid)
    assert decisions.get(books, ADMIN, pid)["status"] == "pending"     # nothing half-written
    decisions.reject(books, CHECKER, pid, "the April late fees came in after")
    pid = decisions.propose_final_accounts(books, ADMIN, R, S, 2026)
    out = decisions.approve(books, CHECKER, pid)
    adopted = decisions.adopted_final_accounts(books, R, S, 2026)
    assert adopted["id"] == pid and adopted["detail"]["closing"] == 350520
    assert (adopted["made_by"], adopted["decided_by"]) == ("admin1", "admin2")
    assert out["status"] == "approved"
    with pytest.raises(ConflictError, match="adopted already"):
        decisions.propose_final_accounts(books, ADMIN, R, S, 2026)
