"""ledger: chart of accounts, idempotent requests, journal entries, append-only postings

Revision ID: 0003
Revises: 0002

What the database itself guarantees (not only the Python service):

* ``ledger_posting``, ``ledger_entry`` and ``ledger_request`` are append-only: UPDATE and
  DELETE are refused by triggers (and TRUNCATE on PostgreSQL).
* Every entry's postings sum to zero, there are ``n_postings`` (>= 2) of them, and they carry
  the entry's effective date.

  - PostgreSQL: a deferred constraint trigger on ``ledger_entry`` checks this at COMMIT, once
    per entry (so a batch entry with 100,000 postings is summed once, not once per row; it
    also catches an entry left with no postings at all); a statement-level trigger on
    ``ledger_posting`` (transition table, so it also fires for ``COPY``) refuses postings to
    an entry created by another transaction (an entry cannot be reopened once committed) or
    to an unknown account, and requires every entry it touched to be complete and balanced at
    the end of the statement — an entry's postings are written in one statement, so not even
    ``SET CONSTRAINTS … IMMEDIATE`` opens a window to add postings later.
  - SQLite has neither deferred nor statement triggers, so the order is inverted: postings
    are written first (their foreign key to the entry is DEFERRABLE INITIALLY DEFERRED), then
    the entry row "seals" them: a BEFORE INSERT trigger on ``ledger_entry`` refuses it unless
    its postings sum to zero and number ``n_postings``; a BEFORE INSERT trigger on
    ``ledger_posting`` refuses postings to an already sealed entry; and the deferred foreign
    key refuses, at COMMIT, any posting whose entry was never sealed.

* ``ledger_account.balance`` (debit-positive sum of the account's postings, kept by the
  service) may not go below zero on the account's normal side when ``no_negative`` is set
  (CHECK constraint): individual accounts and the fund bank account.
* An entry reverses at most one entry, which must exist; an entry is reversed at most once.
* Accounts are never deleted and only their balance may change (triggers), so a posting's
  account, checked when the posting is written, stays valid.
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

APPEND_ONLY = ("ledger_request", "ledger_entry", "ledger_posting")


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"

    op.create_table(
        "ledger_account",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(80), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("scheme", sa.String(24), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("person_id", sa.BigInteger, nullable=True),   # no FK: registry is separate
        sa.Column("normal_sign", sa.SmallInteger, nullable=False),
        sa.Column("no_negative", sa.Boolean, nullable=False),
        sa.Column("balance", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("code", name="uq_ledger_account_code"),
        sa.CheckConstraint("normal_sign IN (1, -1)", name="ck_ledger_account_normal_sign"),
        sa.CheckConstraint("(kind = 'individual') = (person_id IS NOT NULL)",
                           name="ck_ledger_account_person_only_individual"),
        sa.CheckConstraint("(NOT no_negative) OR balance * normal_sign >= 0",
                           name="ck_ledger_account_no_negative"),
    )
    op.create_index("ix_ledger_account_rsk", "ledger_account", ["region", "scheme", "kind"])
    op.create_index("ix_ledger_account_person", "ledger_account", ["person_id", "scheme"])

    op.create_table(
        "ledger_request",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key", name="uq_ledger_request_key"),
    )

    entry_cols = [
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.BigInteger, sa.ForeignKey("ledger_request.id"), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("region", sa.String(6), nullable=True),
        sa.Column("scheme", sa.String(24), nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("memo", sa.Text, nullable=True),
        sa.Column("reverses_id", sa.BigInteger, sa.ForeignKey("ledger_entry.id"), nullable=True),
        sa.Column("n_postings", sa.Integer, nullable=False),
        sa.UniqueConstraint("reverses_id", name="uq_ledger_entry_reverses_id"),
        sa.CheckConstraint("n_postings >= 2", name="ck_ledger_entry_two_postings"),
        sa.CheckConstraint("reverses_id IS NULL OR reverses_id <> id",
                           name="ck_ledger_entry_not_self_reversal"),
    ]
    if pg:
        # the transaction that created the entry: only it may add postings to it
        entry_cols.append(sa.Column("pg_xact", sa.BigInteger, nullable=False,
                                    server_default=sa.text("txid_current()")))
    else:
        entry_cols.append(sa.Column("pg_xact", sa.BigInteger, nullable=True))
    op.create_table("ledger_entry", *entry_cols)
    op.create_index("ix_ledger_entry_request", "ledger_entry", ["request_id"])
    op.create_index("ix_ledger_entry_effective", "ledger_entry", ["effective_date"])

    # SQLite: ordinary (cheap, C-level) foreign keys, the entry one deferred for sealing.
    # PostgreSQL: per-row RI checks would dominate a COPY of 100,000 postings, so the
    # statement-level trigger checks entries and accounts set-based instead (accounts can
    # never be deleted or re-keyed, entries never deleted: triggers below).
    fk = (lambda *a, **k: ()) if pg else (lambda *a, **k: (sa.ForeignKey(*a, **k),))
    op.create_table(
        "ledger_posting",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.BigInteger,
                  *fk("ledger_entry.id", deferrable=True, initially="DEFERRED"),
                  nullable=False),
        sa.Column("account_id", sa.BigInteger, *fk("ledger_account.id"), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.CheckConstraint("amount <> 0", name="ck_ledger_posting_nonzero"),
    )
    op.create_index("ix_ledger_posting_entry", "ledger_posting", ["entry_id"])
    op.create_index("ix_ledger_posting_account_date", "ledger_posting",
                    ["account_id", "effective_date"])

    if pg:
        _pg_triggers()
    else:
        _sqlite_triggers()


def _pg_triggers() -> None:
    # balances are updated in place: leave room on each page for HOT updates (no index
    # maintenance on a balance change)
    op.execute("ALTER TABLE ledger_account SET (fillfactor = 50)")
    op.execute("""
        CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
        BEGIN
          RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
        END $$ LANGUAGE plpgsql""")
    for table in APPEND_ONLY:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()")
    op.execute("""
        CREATE OR REPLACE FUNCTION ledger_check_entry() RETURNS trigger AS $$
        DECLARE n bigint; total numeric; bad_dates bigint;
        BEGIN
          SELECT count(*), coalesce(sum(amount), 0),
                 count(*) FILTER (WHERE effective_date <> NEW.effective_date)
            INTO n, total, bad_dates
            FROM ledger_posting WHERE entry_id = NEW.id;
          IF total <> 0 THEN
            RAISE EXCEPTION 'ledger entry % is unbalanced: its postings sum to % fen, not 0',
              NEW.id, total USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF n <> NEW.n_postings THEN
            RAISE EXCEPTION 'ledger entry % declares % postings but has %',
              NEW.id, NEW.n_postings, n USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF bad_dates <> 0 THEN
            RAISE EXCEPTION 'ledger entry %: % postings carry another effective date',
              NEW.id, bad_dates USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql""")
    op.execute("""
        CREATE CONSTRAINT TRIGGER ledger_entry_balanced AFTER INSERT ON ledger_entry
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_entry()""")
    op.execute("""
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
        END $$ LANGUAGE plpgsql""")
    op.execute("""
        CREATE TRIGGER ledger_posting_open_entry AFTER INSERT ON ledger_posting
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_posting_batch()""")
    op.execute("""
        CREATE OR REPLACE FUNCTION ledger_account_fixed() RETURNS trigger AS $$
        BEGIN
          RAISE EXCEPTION 'ledger_account %: only the balance may change; accounts are never deleted', OLD.code
            USING ERRCODE = 'integrity_constraint_violation';
        END $$ LANGUAGE plpgsql""")
    op.execute("""
        CREATE TRIGGER ledger_account_no_delete BEFORE DELETE ON ledger_account
        FOR EACH ROW EXECUTE FUNCTION ledger_account_fixed()""")
    op.execute("""
        CREATE TRIGGER ledger_account_identity BEFORE UPDATE ON ledger_account FOR EACH ROW
        WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.code IS DISTINCT FROM NEW.code
              OR OLD.region IS DISTINCT FROM NEW.region OR OLD.scheme IS DISTINCT FROM NEW.scheme
              OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.person_id IS DISTINCT FROM NEW.person_id
              OR OLD.normal_sign IS DISTINCT FROM NEW.normal_sign
              OR OLD.no_negative IS DISTINCT FROM NEW.no_negative)
        EXECUTE FUNCTION ledger_account_fixed()""")
    op.execute("CREATE TRIGGER ledger_account_no_truncate BEFORE TRUNCATE ON ledger_account "
               "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()")


def _sqlite_triggers() -> None:
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); "
                       f"END")
    op.execute("""
        CREATE TRIGGER ledger_account_no_delete BEFORE DELETE ON ledger_account
        BEGIN SELECT RAISE(ABORT, 'ledger_account: accounts are never deleted'); END""")
    op.execute("""
        CREATE TRIGGER ledger_account_identity BEFORE UPDATE OF id, code, region, scheme, kind,
        person_id, normal_sign, no_negative ON ledger_account
        WHEN OLD.id IS NOT NEW.id OR OLD.code IS NOT NEW.code OR OLD.region IS NOT NEW.region
          OR OLD.scheme IS NOT NEW.scheme OR OLD.kind IS NOT NEW.kind
          OR OLD.person_id IS NOT NEW.person_id OR OLD.normal_sign IS NOT NEW.normal_sign
          OR OLD.no_negative IS NOT NEW.no_negative
        BEGIN SELECT RAISE(ABORT, 'ledger_account: only the balance may change'); END""")
    # Postings first, then the entry row seals them (see the module docstring).
    op.execute("""
        CREATE TRIGGER ledger_posting_entry_sealed BEFORE INSERT ON ledger_posting
        WHEN EXISTS (SELECT 1 FROM ledger_entry WHERE id = NEW.entry_id)
        BEGIN SELECT RAISE(ABORT, 'ledger_posting: entry already sealed; postings precede their entry in one transaction'); END""")
    op.execute("""
        CREATE TRIGGER ledger_entry_balanced BEFORE INSERT ON ledger_entry
        WHEN NEW.id IS NULL
          OR (SELECT coalesce(sum(amount), 0) FROM ledger_posting WHERE entry_id = NEW.id) <> 0
        BEGIN SELECT RAISE(ABORT, 'ledger entry is unbalanced: its postings do not sum to 0'); END""")
    op.execute("""
        CREATE TRIGGER ledger_entry_count BEFORE INSERT ON ledger_entry
        WHEN (SELECT count(*) FROM ledger_posting WHERE entry_id = NEW.id) <> NEW.n_postings
        BEGIN SELECT RAISE(ABORT, 'ledger entry: number of postings differs from n_postings'); END""")
    op.execute("""
        CREATE TRIGGER ledger_entry_dates BEFORE INSERT ON ledger_entry
        WHEN EXISTS (SELECT 1 FROM ledger_posting WHERE entry_id = NEW.id
                     AND effective_date <> NEW.effective_date)
        BEGIN SELECT RAISE(ABORT, 'ledger entry: postings carry another effective date'); END""")


def downgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    for table in ("ledger_posting", "ledger_entry", "ledger_request", "ledger_account"):
        if pg:
            op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        else:
            op.execute(f"DROP TABLE IF EXISTS {table}")
    if pg:
        for fn in ("ledger_refuse_change", "ledger_check_entry", "ledger_check_posting_batch",
                   "ledger_account_fixed"):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}()")
