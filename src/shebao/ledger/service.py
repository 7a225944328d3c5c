"""The ledger's public API: what collection, payroll, transfers and the channels call.

Every writer takes ``db`` — an Engine (the function runs its own transaction and commits)
or a Connection (if it is already in a transaction the work joins it inside a SAVEPOINT, so a
refused request leaves nothing behind and the caller commits; otherwise the function begins
and commits: ``shebao.db.uow``) — and an :class:`~shebao.core.actor.Actor`, and writes one
audit record::

    chart.open_chart(db, actor, region, schemes=SCHEMES) -> int                # accounts created
    chart.open_individual_accounts(db, actor, region, scheme, person_ids) -> int
    posting.post_entry(db, actor, key, entry: EntryRequest) -> PostResult
    posting.post_batch(db, actor, key, batch: Batch, *, open_missing=False) -> PostResult
    posting.reverse_entry(db, actor, key, entry_id, *, effective_date=None, memo="") -> PostResult
    queries.get_account(db, code) -> Account
    queries.balance(db, code, *, as_of=None, recorded_before=None) -> int      # normal side, fen
    queries.account_balances(db, region, scheme, *, as_of=None) -> dict[str, int]
    queries.statement(db, actor, person_id, scheme, *, region=None, purpose=...) -> Statement
    interest.credit_interest(db, actor, region, scheme, year) -> InterestResult
    check.run_check(db, *, as_of=None) -> CheckReport

This module re-exports them under one name (``from shebao.ledger import service as ledger``).

Amounts are integer fen, **debit positive, credit negative** (``Line.debit``/``Line.credit``).
Balances returned to callers are on the account's *normal* side (an individual account with
1,000.00 yuan in it has balance 100000).

Idempotency: every write carries a ``key`` (see ``model.check_key``), stored unique in
``ledger_request`` with the SHA-256 of the request's content. Posting the same key with the
same content again returns the original entries (``PostResult.replayed``) and writes nothing;
the same key with different content raises :class:`ConflictError`. Derive batch keys from
what makes the request unique, e.g. ``f"collect:{run_id}:{region}:{period}:{chunk}"``.

Bad requests — unbalanced, unknown account, zero or float amounts, a forbidden negative
balance, a malformed key — raise ``InputError``/``InvariantError`` and write nothing.

Batch posting: one call, one transaction, one entry per :class:`BatchEntry` (the aggregated
entry of a region × scheme × run: a few chart lines plus one posting per person to the
individual accounts, given as int64 numpy arrays). PostgreSQL: the lines are copied
(``db.bulk.stage``: binary COPY built from numpy) into a temporary stage, and one ``INSERT …
SELECT`` per entry writes its postings, finding each person's individual account by index in
the same statement; the posting trigger (migration 0007) checks the entry from the
statement's rows and adds the per-account sums to the stored balances. SQLite: account ids
are looked up, postings go in with ``executemany`` and the service updates the balances
set-based. Writers take the actor's audit chain lock and then the ledger's lock *first*
(``chart._serialise``), so ledger writers never deadlock on account rows.
"""
from __future__ import annotations

from shebao.db.uow import reading, transaction

from .chart import open_chart, open_individual_accounts
from .model import INDIVIDUAL
from .posting import PostResult, post_batch, post_entry, reverse_entry
from .queries import (Account, Statement, StatementLine, account_balances, balance,
                      get_account, statement, statements)

__all__ = ["PostResult", "Account", "Statement", "StatementLine", "open_chart",
           "open_individual_accounts", "get_account", "post_entry", "post_batch",
           "reverse_entry", "balance", "account_balances", "statement", "statements",
           "transaction", "reading", "INDIVIDUAL"]
