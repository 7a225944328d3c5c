"""Pure model of a benefit claim's computation: the lines an award will pay.

Every benefit (unemployment, work injury, maternity, survivors) computes the same shape from
the facts of its case (``unemployment.compute``, ``injury.compute_*``, ``maternity.compute``,
``survivors.compute``):

    Computation(eligible, reasons, lines, arithmetic, parameters, facts)

A **line** is one thing the award pays: ``monthly`` (an amount each month from ``start_month``
until ``end_month``, exclusive; None = until stopped) or ``once`` (a one-off amount payable in
the first payroll from ``start_month``), from a scheme's fund (``pooled_fund``, or the
deceased's ``individual`` account for a refund to heirs), to a payee (the award's person, or
another registered person: a dependant, an heir; ``fund`` = a transfer to another scheme's
fund, e.g. the medical premium the unemployment fund pays), with its legal basis. The decision
stores the computation as JSON (every input, every parameter with its reference, the
arithmetic) and the award is created from it on approval.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from shebao.core.errors import InputError, RuleError
from shebao.core.money import fen_to_yuan_str

MONTHLY, ONCE = "monthly", "once"
KINDS = ("unemployment", "injury_recognition", "injury_appraisal", "injury_costs",
         "injury_death", "maternity", "survivors")
ITEM_OF_KIND = {"unemployment": "benefit.unemployment",
                "injury_recognition": "benefit.injury_recognition",
                "injury_appraisal": "benefit.injury_appraisal",
                "injury_costs": "benefit.injury_costs",
                "injury_death": "benefit.injury_benefits",
                "maternity": "benefit.maternity",
                "survivors": "benefit.survivors"}
SCHEME_OF_KIND = {"unemployment": "unemployment", "injury_recognition": "injury",
                  "injury_appraisal": "injury", "injury_costs": "injury",
                  "injury_death": "injury",
                  "maternity": "maternity", "survivors": "pension"}


@dataclass(frozen=True)
class LineSpec:
    kind: str                      # monthly | once
    code: str                      # what it is: unemployment_benefit, disability_grant, ...
    scheme: str                    # the fund that pays
    amount_fen: int
    start_month: dt.date
    basis: str                     # legal basis of this line
    end_month: dt.date | None = None
    payee_type: str = "person"     # person | fund
    payee_id: int | None = None    # person id (None: the award's person) or the fund's scheme
    fund_account: str = "pooled_fund"   # pooled_fund | individual

    def as_json(self) -> dict:
        d = asdict(self)
        d["start_month"] = self.start_month.isoformat()
        d["end_month"] = self.end_month.isoformat() if self.end_month else None
        d["amount"] = fen_to_yuan_str(self.amount_fen)
        return d

    @staticmethod
    def from_json(d: dict) -> "LineSpec":
        return LineSpec(d["kind"], d["code"], d["scheme"], int(d["amount_fen"]),
                        dt.date.fromisoformat(d["start_month"]), d["basis"],
                        dt.date.fromisoformat(d["end_month"]) if d.get("end_month") else None,
                        d.get("payee_type", "person"), d.get("payee_id"),
                        d.get("fund_account", "pooled_fund"))


@dataclass
class Computation:
    kind: str
    eligible: bool
    reasons: list[str] = field(default_factory=list)     # why not eligible / notes
    lines: list[LineSpec] = field(default_factory=list)
    arithmetic: list[str] = field(default_factory=list)
    parameters: list[dict] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    outcome: str | None = None      # granted | refused | recognised | not_recognised

    def as_json(self) -> dict:
        return {"kind": self.kind, "eligible": self.eligible, "reasons": list(self.reasons),
                "outcome": self.outcome or ("granted" if self.eligible else "refused"),
                "lines": [ln.as_json() for ln in self.lines],
                "arithmetic": list(self.arithmetic), "parameters": list(self.parameters),
                "facts": {k: (v.isoformat() if isinstance(v, dt.date) else v)
                          for k, v in self.facts.items()}}

    @property
    def total_once_fen(self) -> int:
        return sum(ln.amount_fen for ln in self.lines if ln.kind == ONCE)

    @property
    def monthly_fen(self) -> int:
        return sum(ln.amount_fen for ln in self.lines if ln.kind == MONTHLY)


def lines_of(decision: dict | None) -> list[LineSpec]:
    return [LineSpec.from_json(d) for d in (decision or {}).get("lines", [])]


class Params:
    """Resolves parameters of one computation and remembers them (value + reference)."""

    def __init__(self, rules, region: str, on: dt.date):
        self.rules, self.region, self.on, self.used = rules, region, on, []

    def get(self, name: str, *, on: dt.date | None = None, field: str = "date"):
        try:
            r = self.rules.lookup(name, self.region, on or self.on)
        except RuleError as exc:
            raise InputError(f"{name} is not available for {self.region} on "
                             f"{on or self.on}: {exc}", field=field) from None
        j = r.as_json()
        if j not in self.used:
            self.used.append(j)
        return r.value


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def fact(facts: dict, name: str, kind=None, *, required: bool = True, default=None):
    """A fact of the claim, type-checked; InputError naming it."""
    v = facts.get(name, default)
    if v is None:
        if required:
            raise InputError(f"the claim needs {name}", field=name)
        return default
    if kind is dt.date:
        if isinstance(v, dt.date):
            return v
        try:
            return dt.date.fromisoformat(str(v)[:10])
        except ValueError:
            raise InputError(f"{name} must be a date (YYYY-MM-DD)", field=name, value=v) from None
    if kind is bool:
        if not isinstance(v, bool):
            raise InputError(f"{name} must be true or false", field=name, value=v)
        return v
    if kind is int:
        if isinstance(v, bool) or not isinstance(v, int):
            try:
                v = int(str(v))
            except ValueError:
                raise InputError(f"{name} must be a whole number", field=name,
                                 value=v) from None
        if v < 0:
            raise InputError(f"{name} must not be negative", field=name, value=v)
        return v
    return v
