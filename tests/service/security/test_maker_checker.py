import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from shebao.core.actor import Actor
from shebao.core.errors import ConflictError, InputError, PermissionDenied
from shebao.security import maker_checker as mc
from shebao.security.service import now
from shebao.security.tables import approvals, audit_log

MAKER = Actor("maker", "benefits_clerk", "310104")
CHECKER = Actor("checker", "benefits_clerk", "310104")
CITY_CHECKER = Actor("city", "benefits_clerk", "310100")
OTHER_DISTRICT = Actor("other", "benefits_clerk", "310101")
COLLECTOR = Actor("coll", "collection_clerk", "310104")


def _submit(engine, kind=mc.PENSION, subject=1):
    with engine.begin() as c:
        return mc.submit(c, MAKER, kind, "pension_case", subject, region="310104",
                         detail={"total": "6510.17"})


def test_second_pair_of_eyes_approves(engine):
    aid = _submit(engine)
    with engine.begin() as c:
        with pytest.raises(PermissionDenied):
            mc.require_approved(c, mc.PENSION, "pension_case", 1)
        a = mc.approve(c, CHECKER, aid)
        assert a.status == "approved" and a.checker == "checker" and a.maker == "maker"
        assert mc.require_approved(c, mc.PENSION, "pension_case", 1).id == aid
        acts = c.execute(select(audit_log.c.action)).scalars().all()
    assert acts == ["pension.determination.submit", "pension.determination.approve"]


def test_maker_cannot_check_own_work(engine):
    aid = _submit(engine)
    with engine.begin() as c:
        with pytest.raises(PermissionDenied, match="different staff member"):
            mc.approve(c, MAKER, aid)
        assert mc.get(c, aid).status == "pending"


def test_checker_needs_the_role_and_the_scope(engine):
    aid = _submit(engine)
    with engine.begin() as c:
        with pytest.raises(PermissionDenied):
            mc.approve(c, COLLECTOR, aid)              # wrong role
        with pytest.raises(PermissionDenied):
            mc.approve(c, OTHER_DISTRICT, aid)         # other district
        assert mc.approve(c, CITY_CHECKER, aid).status == "approved"   # city covers 310104


def test_maker_needs_role_and_scope(engine):
    with engine.begin() as c:
        with pytest.raises(PermissionDenied):
            mc.submit(c, COLLECTOR, mc.PENSION, "pension_case", 1, region="310104")
        with pytest.raises(PermissionDenied):
            mc.submit(c, OTHER_DISTRICT, mc.PAYROLL, "payroll_run", 1, region="310104")
        with pytest.raises(InputError):
            mc.submit(c, MAKER, "loan.approval", "x", 1, region="310104")


def test_rejection_needs_a_reason_and_decisions_are_final(engine):
    aid = _submit(engine)
    with engine.begin() as c:
        with pytest.raises(InputError) as e:
            mc.reject(c, CHECKER, aid, reason=" ")
        assert e.value.field == "reason"
        assert mc.reject(c, CHECKER, aid, reason="index wrong").status == "rejected"
        with pytest.raises(ConflictError):
            mc.approve(c, CITY_CHECKER, aid)
        with pytest.raises(PermissionDenied, match="rejected"):
            mc.require_approved(c, mc.PENSION, "pension_case", 1)
    assert _submit(engine) != aid                     # resubmission after a rejection


def test_one_pending_approval_per_subject(engine):
    _submit(engine)
    with pytest.raises(ConflictError):
        _submit(engine)
    _submit(engine, kind=mc.PAYROLL)                   # another kind is independent


def test_database_refuses_self_approval_even_behind_the_service(engine):
    aid = _submit(engine)
    with pytest.raises(IntegrityError):
        with engine.begin() as c:
            c.execute(update(approvals).where(approvals.c.id == aid)
                      .values(status="approved", checker="maker", checked_at=now()))
    with pytest.raises(IntegrityError):
        with engine.begin() as c:
            c.execute(insert(approvals).values(
                kind=mc.PENSION, subject_type="x", subject_id="1", region="310104",
                status="approved", maker="a", maker_role="benefits_clerk", made_at=now(),
                checker="a", checker_role="benefits_clerk", checked_at=now()))


def test_pending_queue_is_scoped(engine):
    _submit(engine)
    with engine.connect() as c:
        assert len(mc.pending(c, CHECKER)) == 1
        assert mc.pending(c, OTHER_DISTRICT) == []
