"""Bulk import: ``shebao import persons|employers|employment|hukou FILE [--dry-run]``.

One function per kind; each validates every row first (collecting every problem with row,
column, value and reason), then — unless it is a dry run, which writes nothing at all —
writes the valid rows in one transaction with one audit record, and writes the rejected rows
with their reasons to ``<input>.errors.csv`` beside the input (the input is never touched).

Scope: the importer is given the acting account (the web and the CLI pass theirs) and checks
its region scope on every row, on insert and update, before anything is written; out-of-scope
rows are rejected like any other bad row (file, row, field, reason), in the dry run too. Every
created or changed person and employer gets its own audit row (fields, old → new values with
personal values masked, the run id and the file's hash), appended in bulk.

Idempotent: a row equal to what is stored is counted ``unchanged``; importing the same file
twice changes nothing. A person row whose citizen ID is registered with the same identity
(name, sex, birth date) but other contact data opens a new version (``updated``); a different
name for a registered ID is refused (a correction needs a clerk and a reason). New persons are
checked against the existing population by the dedup model before they are written: a probable
duplicate (≥ upper threshold) is rejected naming the existing record; a possible one (between
the thresholds) is written and queued for review.
"""
from __future__ import annotations

from .import_persons import import_hukou, import_persons
from .import_rows import ImportResult
from .import_work import import_employers, import_employment

__all__ = ["ImportResult", "import_persons", "import_employers", "import_employment",
           "import_hukou"]
