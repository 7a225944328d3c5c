"""Transfers whose other end is another installation of shebao: the messages the two ends
exchange and the port that carries them (国办发〔2009〕66号 between two separate systems).

Mobility does not know how a message travels. It defines the port

    class Courier(Protocol):
        def installation_for(self, conn, region) -> str | None   # None: the region is ours
        def send(self, conn, installation, message) -> None       # in the caller's transaction

and the channels wire in the sharing platform's (``sharing.transfers.COURIER``: the message
becomes a signed DCI ``notify`` of event ``transfer`` in sharing's outbox, delivered with
retries under one reference id; at the other end sharing verifies it, keeps the exchange with
its purpose and calls :func:`shebao.mobility.inbound.receive`). Without a courier every
region is local, as in one database.

The messages (``reference_id`` = the transfer's shared ``peer_ref`` + "." + the message):

``letter``    new place → old place: the contact letter (联系函): who (citizen ID, name, sex,
              birth date), kind, regions, temporary account, applied_on, the day sent; the old
              place opens its copy of the transfer, its case and the transfer_out step (for a
              medical transfer the application itself, sent when it is made)
``out``       old place → new place: the contribution certificate (参保缴费凭证): the sheet
              (信息表: every period with its base), what moved (individual account, pooled
              share) and the day the funds left through the old place's ledger
``recorded``  new place → old place: the history and the funds are recorded
``ended``     either way: refused in writing, or withdrawn before the funds moved

Each end keeps its own copy (its own person id, case, ledger entry) with every step and its
statutory limit: the step the other end owns closes when its message arrives.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Protocol

from shebao.core.errors import ConflictError, InputError

MESSAGES = ("letter", "out", "recorded", "ended")
PURPOSE = {"letter": "pension relation transfer: contact letter",
           "out": "pension relation transfer: contribution certificate and funds",
           "recorded": "pension relation transfer: recorded at the new place",
           "ended": "pension relation transfer: refused or withdrawn"}
LEGAL_BASIS = "城镇企业职工基本养老保险关系转移接续暂行办法 (国办发〔2009〕66号); 医保办发〔2021〕43号"


class Courier(Protocol):
    def installation_for(self, conn, region: str) -> str | None: ...

    def send(self, conn, installation: str, message: dict) -> None: ...


def new_ref() -> str:
    return f"tr-{uuid.uuid4().hex}"


def route(conn, courier: Courier | None, from_region: str, to_region: str) -> str | None:
    """The installation at the old place, or None when both ends are here. The new place must
    be ours: one applies where one goes."""
    if courier is None:
        return None
    there = courier.installation_for(conn, to_region)
    if there is not None:
        raise InputError(f"{to_region} is served by installation {there}: apply there",
                         field="to_region")
    return courier.installation_for(conn, from_region)


def send(conn, courier: Courier | None, t: dict, what: str, on: dt.date, **fields) -> dict:
    """Send message ``what`` about transfer ``t`` to its other installation (in the step's
    transaction: nothing is announced that did not happen)."""
    if courier is None:
        raise ConflictError(f"transfer {t['id']} continues at installation {t['peer']}, and no "
                            "courier to it is wired in")
    msg = {"message": what, "reference_id": f"{t['peer_ref']}.{what}",
           "transfer_ref": t["peer_ref"], "kind": t["kind"], "from_region": t["from_region"],
           "to_region": t["to_region"], "on": on.isoformat(), **fields}
    courier.send(conn, t["peer"], msg)
    return msg


# ------------------------------------------------------------------ reading a message
def text(msg: dict, name: str, max_len: int = 64) -> str:
    v = msg.get(name)
    if not isinstance(v, str) or not v.strip() or len(v) > max_len:
        raise InputError(f"{name}: text of 1 to {max_len} characters", field=f"message.{name}")
    return v.strip()


def date(msg: dict, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(msg.get(name)))
    except ValueError:
        raise InputError(f"{name}: YYYY-MM-DD", field=f"message.{name}") from None


def fen(msg: dict, name: str) -> int:
    v = msg.get(name)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise InputError(f"{name}: integer fen ≥ 0", field=f"message.{name}")
    return v
