import datetime as dt

import pytest
from sqlalchemy import insert

from shebao.notices.adapters import CaptureAdapter
from shebao.notices import outbox
from shebao.notices.tables import notice_preference

UTC = dt.timezone.utc


def put_notices(engine, recipients, template="arrears.notice", data=None, region="310104"):
    """Pending notices, one per recipient id, through the outbox."""
    with engine.begin() as c:
        return [outbox.enqueue(c, recipient_type="person", recipient_id=r, region=region,
                               template=template, key=f"t:{template}:{r}:{i}",
                               data=data or {"amount_fen": 1000, "bills": 1, "late_fee_fen": 5,
                                             "as_of_date": "2026-11-15"})
                for i, r in enumerate(recipients)]


def put_prefs(engine, recipients, channels="sms", lang="zh_CN", quiet=(None, None),
              phone="13800000000"):
    now = dt.datetime.now(UTC)
    with engine.begin() as c:
        c.execute(insert(notice_preference), [
            {"recipient_type": "person", "recipient_id": str(r), "channels": channels, "lang": lang,
             "email": f"p{r}@example.cn", "phone": phone or f"1380000{r:04d}",
             "wechat": None, "quiet_start": quiet[0], "quiet_end": quiet[1],
             "updated_at": now, "updated_by": "test"} for r in recipients])


@pytest.fixture
def capture(tmp_path):
    cap = CaptureAdapter(str(tmp_path / "capture.sqlite"))
    yield cap
    cap.close()
