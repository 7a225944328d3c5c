"""The notice worker: polling the outbox, or through the message broker (RabbitMQ).

**Polling** (no broker): claim a batch of due notices, deliver, repeat; sleep when nothing
is due. **Broker**: each worker is a *relay* and a *consumer*. The relay claims due notices
(the same leased claim as polling) and publishes each claimed batch as one persistent message
(the notice ids) to the durable queue ``shebao.notices``; a consumer takes a message, delivers
the notices still pending and acknowledges it only after the outcome is committed. A worker
killed mid-batch leaves its messages unacknowledged: RabbitMQ gives them to the next
consumer, which resends under the same idempotency keys (a deduplicating gateway accepts each
once). Notices claimed but never published come due again when their lease runs out.
Several workers may run side by side; the outbox in the database stays the truth.
"""
from __future__ import annotations

import signal
import time
from dataclasses import dataclass

from .adapters import Adapter
from .delivery import Report, claim, deliver_due, deliver_ids
from .policy import Policy

QUEUE = "shebao.notices"


@dataclass
class Stop:
    flag: bool = False

    def install(self) -> "Stop":
        def _set(*_):
            self.flag = True
        signal.signal(signal.SIGTERM, _set)
        signal.signal(signal.SIGINT, _set)
        return self


def run_polling(db, adapters: dict[str, Adapter], policy: Policy, *, once: bool = False,
                poll_seconds: float = 1.0, stop: Stop | None = None, on_batch=None) -> Report:
    """Deliver until nothing is due (``once``) or until stopped."""
    stop = stop or Stop()
    total = Report()
    while not stop.flag:
        rep = deliver_due(db, adapters, policy)
        total.add(rep)
        if on_batch and rep.claimed:
            on_batch(rep)
        if rep.claimed == 0:
            if once:
                break
            time.sleep(poll_seconds)
    return total


class RabbitBroker:
    """A durable queue of notice ids on RabbitMQ (``pika``, one blocking connection)."""

    def __init__(self, url: str, *, queue: str = QUEUE, prefetch: int = 2):
        import pika  # the broker client is only needed by a worker that uses the broker

        self._pika = pika
        self.queue = queue
        self.conn = pika.BlockingConnection(pika.URLParameters(url))
        self.ch = self.conn.channel()
        self.ch.queue_declare(queue=queue, durable=True)
        self.ch.basic_qos(prefetch_count=prefetch)
        self._props = pika.BasicProperties(delivery_mode=2)
        self._gen = None

    def publish(self, ids: list[int]) -> None:
        """One persistent message per claimed batch: the ids, comma-separated."""
        if ids:
            self.ch.basic_publish("", self.queue, ",".join(map(str, ids)).encode("ascii"),
                                  self._props)

    def fetch(self, max_n: int, wait: float) -> tuple[list[int], int | None]:
        """The ids of the next message(s), up to about ``max_n``, waiting at most ``wait``
        seconds; (ids, delivery tag of the last) to acknowledge after the work."""
        if self._gen is None:
            self._gen = self.ch.consume(self.queue, inactivity_timeout=wait)
        ids, tag = [], None
        for method, _props, body in self._gen:
            if method is None:
                break
            ids.extend(int(x) for x in body.split(b","))
            tag = method.delivery_tag
            if len(ids) >= max_n:
                break
        return ids, tag

    def ack(self, tag: int) -> None:
        self.ch.basic_ack(delivery_tag=tag, multiple=True)

    def depth(self) -> int:
        return self.ch.queue_declare(queue=self.queue, durable=True, passive=True
                                     ).method.message_count

    def purge(self) -> None:
        self.ch.queue_purge(self.queue)

    def close(self) -> None:
        try:
            if self._gen is not None:
                self.ch.cancel()
            self.conn.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass


def run_broker(db, adapters: dict[str, Adapter], policy: Policy, broker: RabbitBroker, *,
               relay: bool = True, consume: bool = True, once: bool = False,
               wait: float = 0.05, backlog: int = 4, stop: Stop | None = None,
               on_batch=None) -> Report:
    """Relay and/or consume until stopped (``once``: until nothing is due and the queue is
    idle). The relay claims only while fewer than ``backlog`` batches wait in the queue, so
    claims do not run ahead of the consumers (and their leases do not run out queued)."""
    stop = stop or Stop()
    total = Report()
    idle = 0
    while not stop.flag:
        published = 0
        if relay and broker.depth() < backlog:
            ids = claim(db, policy)
            if ids:
                broker.publish(ids)
                published = len(ids)
        got = 0
        if consume:
            ids, tag = broker.fetch(policy.batch_size, wait if published else wait * 4)
            if ids:
                rep = deliver_ids(db, ids, adapters, policy)
                broker.ack(tag)
                total.add(rep)
                got = len(ids)
                if on_batch:
                    on_batch(rep)
        elif not published:
            time.sleep(wait * 4)
        idle = 0 if (published or got) else idle + 1
        if once and idle >= 3:
            break
    return total
