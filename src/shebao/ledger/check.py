"""Ledger invariants and the trial balance (``shebao ledger check``).

``run_check(db, *, since_entry=None, accounts=None) -> CheckReport``

Verified, set-based, each reporting the offending entries or accounts:

* ``entry_unbalanced``      an entry's postings do not sum to zero, or their number differs
                            from ``n_postings``, or is below two
* ``entry_mixes_funds``     an entry does not balance within one region × scheme
* ``posting_orphan``        a posting names an entry that does not exist
* ``posting_date``          a posting's effective date differs from its entry's
* ``balance_mismatch``      an account's stored balance differs from the sum of its postings
* ``forbidden_negative``    a no-negative account (individual, fund bank) is below zero
* ``reversal_dangling``     a reversal names an entry that does not exist
* ``reversal_mismatch``     a reversal is not the exact opposite of the entry it names
* ``trial_balance``         a region × scheme's postings do not sum to zero

``since_entry`` restricts the per-entry checks to entries with a larger id and the
per-account checks to the accounts those entries touched (or to ``accounts``, ids) — the
incremental form the simulation runs after every step; without them everything is checked.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text

from shebao.db.uow import reading


@dataclass
class CheckReport:
    violations: list[dict] = field(default_factory=list)
    trial_balance: list[dict] = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    def as_json(self) -> dict:
        return {"ok": self.ok, "counts": self.counts, "violations": self.violations,
                "trial_balance": self.trial_balance}


def _ids(name: str, ids) -> tuple[str, dict]:
    if ids is None:
        return "", {}
    ids = [int(i) for i in ids] or [-1]
    return f" AND {name} IN ({', '.join(str(i) for i in ids)})", {}


def run_check(db, *, since_entry: int | None = None, accounts=None,
              trial_balance: bool = True, as_of=None) -> CheckReport:
    """Verify the invariants; ``as_of`` dates the trial balance (postings effective on or
    before it), the invariants always cover everything recorded."""
    rep = CheckReport()
    v = rep.violations
    e_cond = " AND e.id > :since" if since_entry is not None else ""
    p_cond = " AND p.entry_id > :since" if since_entry is not None else ""
    prm = {"since": since_entry}
    with reading(db) as conn:
        if since_entry is not None and accounts is None:
            # incremental: the accounts the new entries touched
            accounts = list(conn.execute(text(
                "SELECT DISTINCT account_id FROM ledger_posting WHERE entry_id > :since"),
                prm).scalars())
        a_cond, _ = _ids("a.id", accounts)
        for r in conn.execute(text(
                "SELECT e.id, e.n_postings, count(p.id) AS n, coalesce(sum(p.amount), 0) AS s "
                "FROM ledger_entry e LEFT JOIN ledger_posting p ON p.entry_id = e.id "
                f"WHERE 1=1 {e_cond} GROUP BY e.id, e.n_postings "
                "HAVING coalesce(sum(p.amount), 0) <> 0 OR count(p.id) <> e.n_postings "
                "OR count(p.id) < 2 ORDER BY e.id"), prm):
            v.append({"invariant": "entry_unbalanced", "entry_id": r.id,
                      "detail": f"postings sum to {r.s} fen over {r.n} postings "
                                f"(declared {r.n_postings})"})
        for r in conn.execute(text(
                "SELECT p.entry_id, a.region, a.scheme, sum(p.amount) AS s FROM ledger_posting p "
                f"JOIN ledger_account a ON a.id = p.account_id WHERE 1=1 {p_cond} "
                "GROUP BY p.entry_id, a.region, a.scheme HAVING sum(p.amount) <> 0 "
                "ORDER BY p.entry_id"), prm):
            v.append({"invariant": "entry_mixes_funds", "entry_id": r.entry_id,
                      "detail": f"{r.region}/{r.scheme} postings sum to {r.s} fen"})
        for r in conn.execute(text(
                "SELECT p.entry_id, count(*) AS n FROM ledger_posting p "
                "LEFT JOIN ledger_entry e ON e.id = p.entry_id "
                f"WHERE e.id IS NULL {p_cond} GROUP BY p.entry_id ORDER BY p.entry_id"), prm):
            v.append({"invariant": "posting_orphan", "entry_id": r.entry_id,
                      "detail": f"{r.n} postings name a missing entry"})
        for r in conn.execute(text(
                "SELECT p.entry_id, count(*) AS n FROM ledger_posting p "
                "JOIN ledger_entry e ON e.id = p.entry_id "
                f"WHERE p.effective_date <> e.effective_date {p_cond} GROUP BY p.entry_id"), prm):
            v.append({"invariant": "posting_date", "entry_id": r.entry_id,
                      "detail": f"{r.n} postings carry another effective date than the entry"})
        for r in conn.execute(text(
                "SELECT e.id, e.reverses_id FROM ledger_entry e "
                "LEFT JOIN ledger_entry o ON o.id = e.reverses_id "
                f"WHERE e.reverses_id IS NOT NULL AND o.id IS NULL {e_cond}"), prm):
            v.append({"invariant": "reversal_dangling", "entry_id": r.id,
                      "detail": f"reverses entry {r.reverses_id}, which does not exist"})
        for r in conn.execute(text(
                "SELECT e.id, e.reverses_id, count(*) AS n FROM ("
                "  SELECT e.id AS rid, p.account_id, sum(p.amount) AS s FROM ledger_entry e "
                "  JOIN ledger_posting p ON p.entry_id = e.id OR p.entry_id = e.reverses_id "
                f"  WHERE e.reverses_id IS NOT NULL {e_cond} GROUP BY e.id, p.account_id "
                "  HAVING sum(p.amount) <> 0) x JOIN ledger_entry e ON e.id = x.rid "
                "GROUP BY e.id, e.reverses_id"), prm):
            v.append({"invariant": "reversal_mismatch", "entry_id": r.id,
                      "detail": f"is not the exact opposite of entry {r.reverses_id} "
                                f"({r.n} accounts differ)"})
        sums = ("SELECT account_id, sum(amount) AS s FROM ledger_posting "
                + ("" if accounts is None else
                   f"WHERE 1=1 {_ids('account_id', accounts)[0]} ") + "GROUP BY account_id")
        for r in conn.execute(text(
                "SELECT a.id, a.code, a.balance, a.normal_sign, a.no_negative, "
                f"coalesce(t.s, 0) AS s FROM ledger_account a LEFT JOIN ({sums}) t "
                f"ON t.account_id = a.id WHERE (a.balance <> coalesce(t.s, 0) OR (a.no_negative "
                f"AND (coalesce(t.s, 0) * a.normal_sign < 0 OR a.balance * a.normal_sign < 0))) "
                f"{a_cond} ORDER BY a.id")):
            if r.balance != r.s:
                v.append({"invariant": "balance_mismatch", "account": r.code,
                          "detail": f"stored balance {r.balance * r.normal_sign} fen, postings "
                                    f"sum to {r.s * r.normal_sign} fen"})
            if r.no_negative and (r.s * r.normal_sign < 0 or r.balance * r.normal_sign < 0):
                v.append({"invariant": "forbidden_negative", "account": r.code,
                          "detail": f"balance {r.s * r.normal_sign} fen on an account that "
                                    f"may not go negative"})
        if trial_balance:
            _trial_balance(conn, rep, as_of)
        if since_entry is not None and not trial_balance:
            rep.counts["violations"] = len(v)
            return rep
        rep.counts = dict(conn.execute(text(
            "SELECT (SELECT count(*) FROM ledger_entry) AS entries, "
            "(SELECT count(*) FROM ledger_posting) AS postings, "
            "(SELECT count(*) FROM ledger_account) AS accounts")).mappings().one())
    rep.counts["violations"] = len(v)
    return rep


def _trial_balance(conn, rep: CheckReport, as_of=None) -> None:
    cond = " AND p.effective_date <= :d" if as_of is not None else ""
    rows = conn.execute(text(
        "SELECT a.region, a.scheme, a.kind, a.normal_sign, count(DISTINCT a.id) AS accounts, "
        "coalesce(sum(CASE WHEN p.amount > 0 THEN p.amount END), 0) AS debits, "
        "coalesce(sum(CASE WHEN p.amount < 0 THEN -p.amount END), 0) AS credits "
        f"FROM ledger_account a LEFT JOIN ledger_posting p ON p.account_id = a.id{cond} "
        "GROUP BY a.region, a.scheme, a.kind, a.normal_sign "
        "ORDER BY a.region, a.scheme, a.kind"), {"d": as_of}).all()
    net: dict[tuple[str, str], int] = {}
    for r in rows:
        d, c = int(r.debits), int(r.credits)
        rep.trial_balance.append({"region": r.region, "scheme": r.scheme, "kind": r.kind,
                                  "accounts": int(r.accounts), "debits": d, "credits": c,
                                  "balance": (d - c) * r.normal_sign,
                                  "side": "debit" if r.normal_sign == 1 else "credit"})
        net[(r.region, r.scheme)] = net.get((r.region, r.scheme), 0) + d - c
    for (region, scheme), s in sorted(net.items()):
        if s != 0:
            rep.violations.append({"invariant": "trial_balance", "region": region,
                                   "scheme": scheme,
                                   "detail": f"debits exceed credits by {s} fen"})
