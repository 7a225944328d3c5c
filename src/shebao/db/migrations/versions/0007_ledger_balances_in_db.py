"""ledger: PostgreSQL keeps the stored balances itself, and checks a statement's postings from
the statement's own rows

Revision ID: 0007
Revises: 0006

Until now the service added each batch's per-account sums to ``ledger_account.balance`` with
a second statement, and the posting trigger re-read every touched entry's postings from the
table. At a million individual accounts a month both were the largest costs of posting. Now
the statement-level trigger on ``ledger_posting`` (PostgreSQL):

* adds the statement's per-account sums to the stored balances (so the balance is kept by the
  database, not by each caller; the ``no_negative`` CHECK still refuses a forbidden negative)
  and refuses the statement if any account it names does not exist (the UPDATE found fewer
  accounts than the statement names);
* checks each touched entry from the statement's rows alone: created by this transaction,
  exactly ``n_postings`` rows summing to 0, all on the entry's effective date — and that no
  other statement wrote postings to it (an index probe on ``(entry_id, id)`` either side of
  the statement's id range).

The deferred constraint trigger (0003) still recounts every entry at COMMIT. SQLite is
unchanged: its service updates balances and its triggers seal entries (see 0003).
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_ledger_posting_entry", "ledger_posting")
    op.create_index("ix_ledger_posting_entry", "ledger_posting", ["entry_id", "id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    # The plan settings are the function's own: the touched accounts are probed through the
    # primary key in account order (a hash join would scan all of ledger_account each time).
    # The "other statement" probes compare (entry_id, id) as a row so that only the
    # (entry_id, id) index can answer them: with "p.id < x.lo" the planner may walk the primary
    # key over every earlier posting of the ledger.
    op.execute("""
        CREATE OR REPLACE FUNCTION ledger_check_posting_batch() RETURNS trigger
        SET enable_hashjoin = off SET enable_mergejoin = off SET work_mem = '64MB' SET jit = off
        AS $$
        DECLARE r record; n_acc bigint; n_upd bigint;
        BEGIN
          FOR r IN
            SELECT x.entry_id, x.n, x.s, x.lo, x.hi, e.id AS found,
                   e.n_postings, e.pg_xact = txid_current() AS open
              FROM (SELECT entry_id, count(*) AS n, sum(amount) AS s, min(id) AS lo,
                           max(id) AS hi, min(effective_date) AS d0, max(effective_date) AS d1
                      FROM new_rows GROUP BY entry_id) x
              LEFT JOIN ledger_entry e ON e.id = x.entry_id
             WHERE e.id IS NULL OR e.pg_xact <> txid_current() OR x.n <> e.n_postings
                OR x.s <> 0 OR x.d0 <> e.effective_date OR x.d1 <> e.effective_date
                OR EXISTS (SELECT 1 FROM ledger_posting p WHERE p.entry_id = x.entry_id
                           AND (p.entry_id, p.id) < (x.entry_id, x.lo))
                OR EXISTS (SELECT 1 FROM ledger_posting p WHERE p.entry_id = x.entry_id
                           AND (p.entry_id, p.id) > (x.entry_id, x.hi))
             LIMIT 1
          LOOP
            IF r.found IS NULL OR NOT r.open THEN
              RAISE EXCEPTION 'ledger_posting: entry % is closed or missing; postings are written with their entry, in its transaction', r.entry_id
                USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RAISE EXCEPTION 'ledger entry % is unbalanced, incomplete or written in two statements: this statement has % of % postings summing to % fen (an entry''s postings are written in one statement, on its effective date, and sum to 0)', r.entry_id, r.n, r.n_postings, r.s
              USING ERRCODE = 'integrity_constraint_violation';
          END LOOP;
          WITH d AS MATERIALIZED (
                 SELECT account_id, sum(amount) AS s FROM new_rows
                  GROUP BY account_id ORDER BY account_id),
               u AS (UPDATE ledger_account a SET balance = a.balance + d.s FROM d
                      WHERE a.id = d.account_id RETURNING 1)
          SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM u) INTO n_acc, n_upd;
          IF n_acc <> n_upd THEN
            RAISE EXCEPTION 'ledger_posting: % of the % accounts named do not exist', n_acc - n_upd, n_acc
              USING ERRCODE = 'foreign_key_violation';
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql""")


def downgrade() -> None:
    # back to 0003: the service kept the balances, the trigger re-read the entries
    op.drop_index("ix_ledger_posting_entry", "ledger_posting")
    op.create_index("ix_ledger_posting_entry", "ledger_posting", ["entry_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION_0003)


_FUNCTION_0003 = """
        CREATE OR REPLACE FUNCTION ledger_check_posting_batch() RETURNS trigger AS $$
        DECLARE bad bigint; n bigint; total numeric; declared bigint;
        BEGIN
          SELECT n.entry_id INTO bad
            FROM (SELECT DISTINCT entry_id FROM new_rows) n
            LEFT JOIN ledger_entry e ON e.id = n.entry_id
           WHERE e.id IS NULL OR e.pg_xact <> txid_current()
           LIMIT 1;
          IF FOUND THEN
            RAISE EXCEPTION 'ledger_posting: entry % is closed or missing; postings are written with their entry, in its transaction', bad
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          SELECT n.account_id INTO bad
            FROM (SELECT DISTINCT account_id FROM new_rows) n
            LEFT JOIN ledger_account a ON a.id = n.account_id
           WHERE a.id IS NULL
           LIMIT 1;
          IF FOUND THEN
            RAISE EXCEPTION 'ledger_posting: account % does not exist', bad
              USING ERRCODE = 'foreign_key_violation';
          END IF;
          -- an entry's postings arrive in one statement: after it, the entry is complete
          SELECT e.id, t.n, t.s, e.n_postings INTO bad, n, total, declared
            FROM (SELECT DISTINCT entry_id FROM new_rows) x
            JOIN ledger_entry e ON e.id = x.entry_id
            CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(sum(p.amount), 0) AS s
                                  FROM ledger_posting p WHERE p.entry_id = e.id) t
           WHERE t.s <> 0 OR t.n <> e.n_postings
           LIMIT 1;
          IF FOUND THEN
            RAISE EXCEPTION 'ledger entry % is unbalanced or incomplete after this statement: % of % postings summing to % fen (an entry''s postings are written in one statement and sum to 0)', bad, n, declared, total
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql"""
