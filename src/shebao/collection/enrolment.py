"""Enrolment (参保登记) with its individual accounts: the registry records that a person is
insured in a scheme; a scheme with individual accounts (``core.schemes.INDIVIDUAL_SCHEMES``:
pension, medical) opens the person's account in the ledger at the same time, in the same
transaction — so a first contribution costs what any month's costs (the assessment no longer
opens accounts; it still would for an enrolment written by another path, as a safety net).

The registry (floor 3) cannot call the ledger (floor 4), so the use cases that enrol *and*
open live here, one floor above both:

* ``enrol``, ``start_employment``, ``request_hire``, ``confirm_hire``, ``import_employment``:
  the registry's use case, then the accounts of the enrolments it added (found set-based, by
  enrolment id above a mark taken first), in one transaction — nothing half-written;
* ``open_accounts(db, actor, region=None)``: the same for every enrolment of a region that
  has none yet (idempotent; one ``INSERT … SELECT`` from a staged id list per region × scheme
  on PostgreSQL) — what a bulk load (``devtools.synthetic_population``, ``shebao generate``)
  runs after writing enrolments directly.

The channels call these instead of the registry's.
"""
from __future__ import annotations

from shebao.core.actor import Actor
from shebao.core.schemes import INDIVIDUAL_SCHEMES
from shebao.db.uow import transaction
from shebao.ledger import service as ledger
from shebao.registry import hiring, importer
from shebao.registry import queries as registry_queries
from shebao.registry import service as registry


def _open(conn, actor: Actor, *, region: str | None = None, after_id: int = 0) -> dict:
    opened = {}
    for r, scheme, pids in registry_queries.enrolled_persons(conn, INDIVIDUAL_SCHEMES,
                                                             region=region, after_id=after_id):
        if len(pids):
            opened[f"{r}.{scheme}"] = ledger.open_individual_accounts(conn, actor, r, scheme,
                                                                      pids)
    return opened


def open_accounts(db, actor: Actor, *, region: str | None = None, after_id: int = 0) -> dict:
    """Open the individual accounts of every enrolled person of ``region`` (or all; only the
    enrolments with ids above ``after_id``) that has none; returns ``{"<region>.<scheme>":
    created}``."""
    with transaction(db) as conn:
        return _open(conn, actor, region=region, after_id=after_id)


def _with_accounts(db, actor: Actor, use_case, *args, **kw):
    with transaction(db) as conn:
        mark = registry_queries.last_enrolment_id(conn)
        out = use_case(conn, actor, *args, **kw)
        _open(conn, actor, after_id=mark)
        return out


def enrol(db, actor: Actor, *args, **kw) -> int:
    """``registry.service.enrol`` and the person's individual account of that scheme."""
    return _with_accounts(db, actor, registry.enrol, *args, **kw)


def start_employment(db, actor: Actor, *args, **kw) -> int:
    """``registry.service.start_employment`` (enrols in the employee schemes) and the accounts."""
    return _with_accounts(db, actor, registry.start_employment, *args, **kw)


def request_hire(db, actor: Actor, *args, **kw):
    """``registry.hiring.request_hire``; when it hires at once, the accounts too."""
    return _with_accounts(db, actor, hiring.request_hire, *args, **kw)


def confirm_hire(db, actor: Actor, *args, **kw):
    """``registry.hiring.confirm_hire`` and the accounts of the enrolments it opens."""
    return _with_accounts(db, actor, hiring.confirm_hire, *args, **kw)


def import_employment(db, actor: Actor, path, *, dry_run: bool = False):
    """``registry.importer.import_employment`` and the accounts of the enrolments of the file
    (none in a dry run: it writes nothing), in one transaction."""
    if dry_run:
        return importer.import_employment(db, actor, path, dry_run=True)
    return _with_accounts(db, actor, importer.import_employment, path)
