import pytest

from shebao.core.errors import InputError
from shebao.db.uow import transaction
from shebao.notices import outbox


def test_enqueue_is_idempotent_on_its_key_and_rolls_back_with_the_event(engine):
    a = outbox.enqueue(engine, recipient_type="person", recipient_id=5, region="310104",
                       template="payment.made", data={"month": "2026-11"}, key="pay:5:2026-11")
    b = outbox.enqueue(engine, recipient_type="person", recipient_id=5, region="310104",
                       template="payment.made", data={"month": "2026-11"}, key="pay:5:2026-11")
    assert a == b
    with pytest.raises(RuntimeError):
        with transaction(engine) as conn:
            outbox.enqueue(conn, recipient_type="person", recipient_id=5, region="310104",
                           template="case.decided", data={"case_id": 1})
            raise RuntimeError("the event failed")
    (n,) = outbox.for_recipient(engine, "person", 5)
    assert (n.id, n.status, n.attempts, n.data) == (a, "pending", 0, {"month": "2026-11"})


def test_bad_recipient_or_region_refused(engine):
    with pytest.raises(InputError, match="recipient type"):
        outbox.enqueue(engine, recipient_type="robot", recipient_id=1, region="310104",
                       template="x")
    with pytest.raises(InputError, match="region"):
        outbox.enqueue(engine, recipient_type="person", recipient_id=1, region="999999",
                       template="x")
