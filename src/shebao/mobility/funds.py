"""What a transfer moves, and its two ledger entries (one at each end).

The old place builds the information sheet (信息表) from the person's contribution record
(``benefits.history.history_rows``: legacy history ∪ the months shebao collected) and the
ledger: the individual account in full, and from pooling 12% (``transfer.pooled_rate``; for a
temporary account the higher of the employer's actual rate and it) of the actual bases of the
years from 1998 at that place, rounded once (``rules.formulas.mobility``).

Ledger: money between regions passes through each region's ``transfer_clearing`` account
(``ledger.model``: every entry balances within each region × scheme).

    old place (transfer out):  Dr individual(person)  account
                               Dr pooled_fund         pooled
                               Cr transfer_clearing   account + pooled      (owed to the new place)
    new place (record in):     Dr transfer_clearing   account + pooled      (due from the old place)
                               Cr individual(person)  account
                               Cr pooled_fund         pooled

After both, the two clearing balances cancel (−X at the old place, +X at the new); the bank
settlement between the two funds' accounts clears them (a follow-up: ``fund_bank`` entries when
the money arrives).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from shebao.benefits import determination
from shebao.benefits.history import history_rows
from shebao.core import regions
from shebao.core.errors import ConflictError, InputError, RuleError
from shebao.core.money import round_half_up
from shebao.core.schemes import INDIVIDUAL_SCHEMES
from shebao.db.uow import now
from shebao.ledger import service as ledger
from shebao.ledger.model import EntryRequest, Line, account_code
from shebao.ledger.queries import account_ids
from shebao.rules import load_rules
from shebao.rules.formulas import mobility as F

from . import model

POOLED_FROM_YEAR_PARAM = "transfer.pooled_rate"
EMPLOYER_RATE_PARAM = "contribution.pension.employer_rate"


@dataclass
class Sheet:
    """The information sheet (信息表) of a transfer: the periods at the old place, what moves."""

    scheme: str                      # the scheme the funds leave
    from_region: str
    months: int = 0
    base_total_fen: int = 0          # Σ bases of the years counted for pooling
    pooled_fen: int = 0
    account_fen: int = 0
    temporary: bool = False
    periods: list = field(default_factory=list)
    years: list = field(default_factory=list)   # [year, base_total_fen, rate]
    parameters: list = field(default_factory=list)
    scheme_in: str | None = None     # the scheme they arrive in, when it differs (a bridge)
    direction: str | None = None     # a bridge: employee_to_resident | resident_to_employee

    def as_json(self) -> dict:
        return asdict(self)


def _account_balance(conn, region: str, scheme: str, person_id: int) -> int:
    code = account_code(region, scheme, "individual", person_id)
    if not account_ids(conn, [code]):
        return 0
    return ledger.balance(conn, code)


def pension_sheet(conn, person_id: int, from_region: str, *, temporary: bool) -> Sheet:
    """The sheet of a pension transfer out of ``from_region`` (its province's periods)."""
    rules = load_rules()
    prov = regions.province(from_region)
    periods, _unpaid = history_rows(conn, [person_id])[person_id]
    here = [p for p in periods if regions.province(p.region) == prov]
    sheet = Sheet("pension", from_region, temporary=temporary)
    by_year: dict[int, int] = {}
    for p in here:
        sheet.months += p.months
        sheet.periods.append(p.as_json())
        if p.base_total_fen is not None and p.kind == "paid":
            y = p.period_start.year
            by_year[y] = by_year.get(y, 0) + int(p.base_total_fen)
    bases, rates, used = [], [], {}
    for y in sorted(by_year):
        on = dt.date(y, 1, 1)
        try:
            r = rules.lookup(POOLED_FROM_YEAR_PARAM, "national", on)
        except RuleError:
            continue                      # before 1998: no pooled transfer
        rate = r.value
        used[r.name + str(r.effective_from)] = r.as_json()
        if temporary:
            er = rules.lookup(EMPLOYER_RATE_PARAM, from_region, on)
            used[er.name + str(er.effective_from)] = er.as_json()
            rate = F.temporary_rate(er.value, r.value)
        bases.append(by_year[y])
        rates.append(rate)
        sheet.years.append([y, by_year[y], str(rate)])
    sheet.base_total_fen = sum(bases)
    sheet.pooled_fen = F.pooled_share_fen(bases, rates)
    sheet.account_fen = _account_balance(conn, from_region, "pension", person_id)
    sheet.parameters = list(used.values())
    return sheet


def bridge_sheet(conn, person_id: int, from_region: str) -> Sheet:
    """Bridging the two pension schemes at the claim place (人社部发〔2014〕17号): with fewer
    employee years than ``mobility.bridge_min_employee_years`` the employee account moves in
    full into the resident scheme (no pooled share) and the employee months are added to the
    resident years; with at least that many, the resident pension account (the ledger's
    ``resident_pension`` individual account the residents bureau credits) moves in full into the
    employee account and the resident years are not counted. (A month paid in both schemes is
    refunded from the resident account first — art. 8; months in both are not identified here,
    so the whole resident account moves and the clerk refuses the step where there are any.)"""
    rules = load_rules()
    periods, _unpaid = history_rows(conn, [person_id])[person_id]
    months = sum(p.months for p in periods)
    on = now().date()
    years = rules.lookup("mobility.bridge_min_employee_years", from_region, on)
    b = F.bridge(employee_months=months, resident_months=0,
                 employee_account_fen=_account_balance(conn, from_region, "pension", person_id),
                 resident_account_fen=_account_balance(conn, from_region, "resident_pension",
                                                       person_id),
                 min_employee_years=int(years.value))
    if b.direction == "employee_to_resident":
        s = Sheet("pension", from_region, months=months, account_fen=b.moved_fen,
                  scheme_in="resident_pension", direction=b.direction)
    else:
        if b.moved_fen == 0:
            raise ConflictError(f"{months} employee months reach {years.value} years, and the "
                                "person has no resident pension account to move")
        s = Sheet("resident_pension", from_region, months=months, account_fen=b.moved_fen,
                  scheme_in="pension", direction=b.direction)
    s.periods = [p.as_json() for p in periods]
    s.parameters = [years.as_json()]
    return s


def schemes_of(kind: str, sheet: dict | None) -> tuple[str, str]:
    """(the scheme the funds leave, the scheme they arrive in) of a transfer: the kind's, or,
    for a bridge, the direction its sheet decided."""
    if kind == "bridge" and sheet and sheet.get("scheme_in"):
        return sheet["scheme"], sheet["scheme_in"]
    return model.SCHEME[kind], model.SCHEME_IN[kind]


def medical_sheet(conn, person_id: int, from_region: str, months: int | None) -> Sheet:
    """Medical: the account balance moves; the months are recognised (M43)."""
    s = Sheet("medical", from_region, months=int(months or 0))
    s.account_fen = _account_balance(conn, from_region, "medical", person_id)
    return s


def _lines(region: str, scheme: str, person_id: int, account: int, pooled: int, out: bool):
    clearing = account_code(region, scheme, "transfer_clearing")
    if scheme not in INDIVIDUAL_SCHEMES:      # a scheme without personal accounts: its pool
        account, pooled = 0, account + pooled
    pool = account_code(region, scheme, "pooled_fund")
    total = account + pooled
    side = Line.debit if out else Line.credit
    other = Line.credit if out else Line.debit
    lines = [other(clearing, total)]
    indiv = account_code(region, scheme, "individual", person_id) if account else None
    if account:
        lines.append(side(indiv, account))
    if pooled:
        lines.append(side(pool, pooled))
    return tuple(lines)


def post_out(conn, actor, transfer_id: int, region: str, scheme: str, person_id: int,
             account: int, pooled: int, on: dt.date) -> int | None:
    """The old place's entry: the account and the pooled share leave for the clearing account."""
    if account + pooled == 0:
        return None
    ledger.open_chart(conn, actor, region, schemes=(scheme,))
    res = ledger.post_entry(conn, actor, f"mobility:{transfer_id}:out", EntryRequest(
        on, _lines(region, scheme, person_id, account, pooled, True), source="mobility",
        memo=f"transfer {transfer_id} out"))
    return res.entry_id


def post_in(conn, actor, transfer_id: int, region: str, scheme: str, person_id: int,
            account: int, pooled: int, on: dt.date) -> int | None:
    """The new place's entry: from the clearing account into the person's account and pool."""
    if account + pooled == 0:
        return None
    ledger.open_chart(conn, actor, region, schemes=(scheme,))
    if account and scheme in INDIVIDUAL_SCHEMES:
        ledger.open_individual_accounts(conn, actor, region, scheme, [person_id])
    res = ledger.post_entry(conn, actor, f"mobility:{transfer_id}:in", EntryRequest(
        on, _lines(region, scheme, person_id, account, pooled, False), source="mobility",
        memo=f"transfer {transfer_id} in"))
    return res.entry_id


def claim_place_of(conn, person_id: int, hukou: str, on: dt.date, temporary_regions=()) -> dict:
    """Where the person claims the pension (T66 art. 6), from their contribution record: the
    periods grouped into consecutive stays per province (oldest first), a stay in a province
    where the person kept a temporary account (``temporary_regions``) marked temporary."""
    rules = load_rules()
    periods, _unpaid = history_rows(conn, [person_id])[person_id]
    temp = {regions.province(r) for r in temporary_regions}
    segments: list[F.Segment] = []
    for p in sorted(periods, key=lambda p: p.period_start):
        prov = regions.province(p.region)
        if segments and regions.province(segments[-1].region) == prov:
            last = segments[-1]
            segments[-1] = F.Segment(last.region, last.months + p.months, last.temporary)
        else:
            segments.append(F.Segment(p.region, p.months, prov in temp))
    years = rules.lookup("mobility.claim_place_min_years", hukou, on)
    cp = F.claim_place(hukou, segments, int(years.value))
    return {"claim_region": cp.region, "rule": cp.rule, "relation_region": cp.relation_region,
            "consolidate_from": list(cp.consolidate_from),
            "months_by_province": cp.months_by_province,
            "segments": [{"region": s.region, "months": s.months, "temporary": s.temporary}
                         for s in segments], "parameters": [years.as_json()]}


def record_history(conn, actor, t: dict, sheet: dict) -> int:
    """The periods of a sheet from another installation become the person's contribution
    history here (``benefits.determination.record_history``; kept by region, so the claim
    place and the pension see where each year was paid). A legacy period partly superseded
    there keeps the share of its base total of the months it still counts (rounded once)."""
    rows = []
    for i, p in enumerate(sheet.get("periods") or []):
        months, index = int(p.get("months") or 0), int(p.get("index_months") or 0)
        if not 1 <= months <= 12:
            raise InputError("a period of 1 to 12 months", field=f"sheet.periods[{i}].months")
        base = p.get("base_total_fen")
        if base is not None and index and index != months:
            base = int(round_half_up(int(base) * months, index))
        try:
            start = dt.date.fromisoformat(str(p.get("period_start"))[:10])
        except ValueError:
            raise InputError("YYYY-MM-DD", field=f"sheet.periods[{i}].period_start") from None
        rows.append({"region": p.get("region"), "period_start": start, "months": months,
                     "base_total_fen": base, "kind": p.get("kind", "paid")})
    if not rows:
        return 0
    return determination.record_history(
        conn, actor, t["person_id"], rows,
        source=f"transfer {t['peer_ref']} from installation {t['peer']}")
