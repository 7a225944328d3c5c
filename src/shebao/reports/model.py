"""Fund statement rules as plain data: which ledger movements are revenue, fiscal subsidy or
expense, and the identities a statement must satisfy. No SQLAlchemy here.

A fund is one region × scheme of the ledger. Its **fund balance** (基金结余) is the credit
balance of the equity-like accounts (``EQUITY``: the pooled fund, the individual accounts,
the fiscal-subsidy and late-fee income, less interest credited and expenses). Every ledger
entry balances within a region × scheme, so the fund balance also equals the **net assets**
(``ASSETS`` less ``LIABILITIES``); and over a period

    opening fund balance + revenue + fiscal subsidy − expense = closing fund balance

where each line is the net movement of its accounts. ``check`` verifies both identities to
the fen; a statement that does not tie out is never shown as if it did.
"""
from __future__ import annotations

from dataclasses import dataclass, field

EQUITY = ("pooled_fund", "individual", "fiscal_subsidy", "late_fee_income",
          "interest_credited", "expenses")
ASSETS = ("fund_bank", "bank_transit", "receivable_employer", "receivable_individual",
          "transfer_clearing")
LIABILITIES = ("benefits_payable", "suspense")

# statement lines: (line, side, title). side: revenue | subsidy | expense
LINES = (
    ("contributions", "revenue", "社会保险费收入 contributions"),
    ("late_fees", "revenue", "滞纳金收入 late fees"),
    ("interest", "revenue", "利息收入 interest (net)"),
    ("migrated_in", "revenue", "历史余额迁移转入 legacy balances migrated in"),
    ("transfers_in", "revenue", "转移收入 transfers in"),
    ("other_revenue", "revenue", "其他收入 other revenue"),
    ("fiscal_subsidy", "subsidy", "财政补贴收入 fiscal subsidy"),
    ("benefits", "expense", "社会保险待遇支出 benefits"),
    ("transfers_out", "expense", "转移支出 transfers out"),
    ("other_expenses", "expense", "其他支出 other expenses"),
)
LINE_SIDE = {name: side for name, side, _ in LINES}
LINE_TITLE = {name: title for name, _, title in LINES}


def is_transfer(source: str) -> bool:
    """Entries of inter-region transfers (mobility's relation transfers through the
    ``transfer_clearing`` accounts): money in is credited to the fund accounts, money out
    debited, so one (kind, source) movement carries both directions."""
    return source.split(":", 1)[0].startswith(("mobility", "transfer"))


def classify(kind: str, source: str) -> str | None:
    """The statement line of a movement on a fund account (None: not a fund account); for a
    transfer the line of its debits (``transfers_out``; its credits are ``transfers_in``)."""
    if kind not in EQUITY:
        return None
    src = source.split(":", 1)[0]
    if kind == "fiscal_subsidy":
        return "fiscal_subsidy"
    if kind == "late_fee_income":
        return "late_fees"
    if kind == "interest_credited" or src.startswith("ledger.interest") or src == "interest":
        return "interest"
    if kind == "expenses":
        return "other_expenses"
    if "migration" in src:           # legacy balances brought into shebao's books
        return "migrated_in"
    if src.startswith("collection"):
        return "contributions"
    if src.startswith(("payroll", "benefits", "indexation")):
        return "benefits"
    if is_transfer(src):
        return "transfers_out"
    return "other_revenue"


@dataclass
class FundStatement:
    region: str
    scheme: str
    start: str
    end: str
    opening: int                                      # fund balance before ``start``
    closing: int                                      # fund balance at ``end`` (ledger)
    net_assets: int                                   # assets − liabilities at ``end``
    lines: dict[str, int] = field(default_factory=dict)   # line → amount (revenue +, expense +)

    @property
    def revenue(self) -> int:
        return sum(v for k, v in self.lines.items() if LINE_SIDE[k] == "revenue")

    @property
    def subsidy(self) -> int:
        return sum(v for k, v in self.lines.items() if LINE_SIDE[k] == "subsidy")

    @property
    def expense(self) -> int:
        return sum(v for k, v in self.lines.items() if LINE_SIDE[k] == "expense")

    @property
    def surplus(self) -> int:
        """当期结余, with the subsidy."""
        return self.revenue + self.subsidy - self.expense

    @property
    def surplus_excluding_subsidy(self) -> int:
        return self.revenue - self.expense

    def check(self) -> list[str]:
        """The identities that fail (empty: the statement ties out to the ledger)."""
        out = []
        if self.opening + self.surplus != self.closing:
            out.append(f"opening {self.opening} + surplus {self.surplus} != closing "
                       f"{self.closing}")
        if self.net_assets != self.closing:
            out.append(f"net assets {self.net_assets} != fund balance {self.closing}")
        return out

    def as_json(self) -> dict:
        return {"region": self.region, "scheme": self.scheme, "from": self.start,
                "to": self.end, "opening": self.opening, "closing": self.closing,
                "net_assets": self.net_assets,
                "lines": [{"line": k, "side": s, "title": t, "amount": self.lines.get(k, 0)}
                          for k, s, t in LINES],
                "revenue": self.revenue, "subsidy": self.subsidy, "expense": self.expense,
                "surplus": self.surplus,
                "surplus_excluding_subsidy": self.surplus_excluding_subsidy,
                "ties_out": not self.check(), "differences": self.check()}


def equity_of(balances: dict[str, int]) -> int:
    """Fund balance (credit +) from normal-side balances of the chart's kinds: credit-normal
    kinds add, debit-normal ones (interest credited, expenses) subtract."""
    debit_normal = {"interest_credited", "expenses"}
    return sum(-v if k in debit_normal else v for k, v in balances.items() if k in EQUITY)


def net_assets_of(balances: dict[str, int]) -> int:
    return (sum(v for k, v in balances.items() if k in ASSETS)
            - sum(v for k, v in balances.items() if k in LIABILITIES))


def lines_of(movements) -> dict[str, int]:
    """line → amount from (kind, source, debits, credits) movements: revenue and subsidy lines
    are net credits, expense lines net debits; transfers are shown gross, what arrived from
    other regions as revenue (``transfers_in``: the credits) and what left as expense
    (``transfers_out``: the debits)."""
    out: dict[str, int] = {name: 0 for name, _, _ in LINES}
    for kind, source, debits, credits in movements:
        line = classify(kind, source)
        if line is None:
            continue
        if line == "transfers_out":
            out["transfers_in"] += credits
            out["transfers_out"] += debits
            continue
        net_credit = credits - debits
        out[line] += -net_credit if LINE_SIDE[line] == "expense" else net_credit
    return out


def variance(budget: dict[str, int], actual: dict[str, int]) -> list[dict]:
    """Budget vs final accounts per line: actual − budget and the execution rate (‰)."""
    rows = []
    for name, side, title in LINES:
        b, a = budget.get(name), actual.get(name, 0)
        rows.append({"line": name, "side": side, "title": title, "budget": b, "actual": a,
                     "difference": None if b is None else a - b,
                     "execution_permille": (a * 1000 // b) if b else None})
    return rows
