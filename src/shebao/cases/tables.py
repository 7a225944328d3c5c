"""Case tables (SQLAlchemy Core on the shared metadata). Schema: migration 0012_cases_notices.

``service_case``  one case of one catalogue item: item (code), region (where it is handled,
                  for scopes), subject_type/subject_id (person, employer, provider …), person_id
                  and employer_id when the subject is (or concerns) one — no foreign keys, the
                  case model sits below the registry — channel (online, counter, api, system),
                  outlet (code of the service outlet, see org), status, opened_by/at/on, due_on
                  (from the item's statutory limit on the region's working-day calendar,
                  extended while the case waits for documents: paused_on), assigned_to, outcome
                  and decision (JSON) once decided, decided_by/at/on, closed_at, parent_id (an
                  appeal or a follow-up case), detail (JSON, the application's summary).
``case_event``    every action on a case, append-only: at, actor, action, from/to status, note,
                  detail (JSON).
``case_document`` documents attached: kind (a code of the item's documents list), filename,
                  content_type, size, sha256, content (bytes), by/at.
``case_rating``   the subject's satisfaction rating (好差评) 1–5 with a comment, one per case.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Date, DateTime, ForeignKey, Index, Integer,
                        LargeBinary, SmallInteger, String, Table, Text, UniqueConstraint)

from shebao.db.engine import BigId, metadata

service_case = Table(
    "service_case", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("item", String(64), nullable=False),
    Column("region", String(6), nullable=False),
    Column("subject_type", String(10), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("person_id", BigInteger),
    Column("employer_id", BigInteger),
    Column("channel", String(10), nullable=False),
    Column("outlet", String(32)),
    Column("status", String(20), nullable=False),
    Column("opened_by", String(64), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("paused_on", Date),
    Column("assigned_to", String(64)),
    Column("outcome", String(32)),
    Column("decision", Text),
    Column("decision_reason", String(500)),
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_on", Date),
    Column("closed_at", DateTime(timezone=True)),
    Column("parent_id", BigInteger, ForeignKey("service_case.id")),
    Column("detail", Text, nullable=False),
)
Index("ix_service_case_region_status", service_case.c.region, service_case.c.status,
      service_case.c.due_on)
Index("ix_service_case_item", service_case.c.item, service_case.c.opened_on)
Index("ix_service_case_person", service_case.c.person_id)
Index("ix_service_case_employer", service_case.c.employer_id)

case_event = Table(
    "case_event", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigInteger, ForeignKey("service_case.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20)),
    Column("note", String(1000)),
    Column("detail", Text),
)
Index("ix_case_event_case", case_event.c.case_id, case_event.c.id)

case_document = Table(
    "case_document", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigInteger, ForeignKey("service_case.id"), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)
Index("ix_case_document_case", case_document.c.case_id)

case_rating = Table(
    "case_rating", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigInteger, ForeignKey("service_case.id"), nullable=False),
    Column("score", SmallInteger, nullable=False),
    Column("comment", String(500)),
    Column("rated_by", String(64), nullable=False),
    Column("rated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("case_id", name="uq_case_rating_case"),
)
