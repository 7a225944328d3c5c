"""Training tables (SQLAlchemy Core on the shared metadata); the DDL is migration 0019."""
from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Integer, String,
                        Table, Text, UniqueConstraint)

from shebao.db.engine import BigId, metadata

course = Table(
    "course", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("exam_questions", Integer, nullable=False),    # questions drawn per exam
    Column("exam_minutes", Integer, nullable=False),
    Column("pass_pct", Integer, nullable=False),
    Column("validity_months", Integer, nullable=False),   # a certificate's validity
    Column("active", Boolean, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("code", name="uq_course_code"),
)

courseware = Table(
    "courseware", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("course_id", BigInteger, ForeignKey("course.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", String(10), nullable=False),           # markdown | pdf | video
    Column("title", String(200), nullable=False),
    Column("body", Text),                                 # Markdown text
    Column("url", String(500)),                           # PDF or video link
)

question = Table(
    "question", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("course_id", BigInteger, ForeignKey("course.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("options", Text, nullable=False),              # JSON list of strings
    Column("answer", Integer, nullable=False),            # index of the right option
    Column("active", Boolean, nullable=False),
)

course_requirement = Table(
    "course_requirement", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("course_id", BigInteger, ForeignKey("course.id"), nullable=False),
    Column("role", String(32), nullable=False),
    UniqueConstraint("course_id", "role", name="uq_course_requirement_course_id"),
)

exam_attempt = Table(
    "exam_attempt", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("course_id", BigInteger, ForeignKey("course.id"), nullable=False),
    Column("username", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("deadline_at", DateTime(timezone=True), nullable=False),
    Column("question_ids", Text, nullable=False),         # JSON list, in the order shown
    Column("option_orders", Text, nullable=False),        # JSON list of shuffled option orders
    Column("answers", Text),                              # JSON list of chosen original indices
    Column("submitted_at", DateTime(timezone=True)),
    Column("correct", Integer),
    Column("score_pct", Integer),
    Column("passed", Boolean),
    Column("late", Boolean),
)

certificate = Table(
    "certificate", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("attempt_id", BigInteger, ForeignKey("exam_attempt.id"), nullable=False),
    Column("course_id", BigInteger, ForeignKey("course.id"), nullable=False),
    Column("username", String(64), nullable=False),
    Column("holder_name", String(100), nullable=False),
    Column("code", String(32), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("revoked", Boolean, nullable=False),
    UniqueConstraint("code", name="uq_certificate_code"),
    UniqueConstraint("attempt_id", name="uq_certificate_attempt_id"),
)
