"""Rules of the mobile population, pure: what moves in a transfer, where the pension is claimed,
the employee ↔ resident bridge, medical continuity and the temporary account.

Plain ints (fen, months) and dates in, plain results out; every threshold comes in as an
argument (the callers read it from the parameters). The calculators (``shebao calc
claim_place`` …) and :mod:`shebao.mobility` call these same functions.

Sources: 国办发〔2009〕66号 (T66) arts. 4 and 6; 人社部发〔2014〕17号 (C17);
医保办发〔2021〕43号 (M43) — see rules.md §2 and rules-2.md §1.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from shebao.core import regions
from shebao.core.errors import InputError
from shebao.core.money import round_half_up

MONTHS_PER_YEAR = 12  # calendar fact: contribution years are months / 12


# --- what moves ----------------------------------------------------------------------------

def pooled_share_fen(base_totals_fen, rates) -> int:
    """Σ base × rate over the years counted, rounded once (T66 art. 4). ``rates`` are Decimals
    (the rate in force for each year; for a temporary account the higher of the employer's
    actual rate and the pooled-transfer rate)."""
    total = sum((Fraction(int(b)) * Fraction(Decimal(r)) for b, r in zip(base_totals_fen, rates)),
                Fraction(0))
    return int(round_half_up(total))


def temporary_rate(employer_rate: Decimal, pooled_rate: Decimal) -> Decimal:
    """A temporary account moves the employer's actual rate if above the pooled-transfer rate,
    else that rate (rules.md §2)."""
    return max(Decimal(employer_rate), Decimal(pooled_rate))


# --- temporary account (T66 art. 6) -----------------------------------------------------------

def age_on(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def needs_temporary_account(*, sex: str, birth_date: dt.date, enrol_on: dt.date, hukou: str,
                            place: str, ages: dict, returning_home: bool = False,
                            organisation_transfer: bool = False) -> bool:
    """A man ≥ ages['male'] or a woman ≥ ages['female'] enrolling in a province that is not
    the hukou province gets a temporary account; returning home or an organisation transfer
    moves the relation directly."""
    if sex not in ages:
        raise InputError(f"sex must be one of {sorted(ages)}", field="sex", value=sex)
    if returning_home or organisation_transfer:
        return False
    if regions.province(place) == regions.province(hukou):
        return False
    return age_on(birth_date, enrol_on) >= int(ages[sex])


# --- claim place (T66 art. 6) -----------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    """Contributions at one place: ``months`` paid there; ``temporary`` for a temporary-account
    place. Segments are given oldest first."""

    region: str
    months: int
    temporary: bool = False


@dataclass(frozen=True)
class ClaimPlace:
    region: str            # where the pension is claimed
    rule: str              # hukou | current | previous | hukou_consolidated
    relation_region: str   # where the relation is (the last non-temporary place)
    months_by_province: dict
    consolidate_from: tuple  # regions whose funds move to the claim place


def claim_place(hukou: str, segments: list[Segment], min_years: int) -> ClaimPlace:
    """Decide the claim place (rules-2.md §1.4):

        relation in the hukou province            → hukou place
        current place has ≥ min_years             → current place
        an earlier place has ≥ min_years          → the most recent such place
        otherwise                                 → hukou place (funds consolidated there)

    Years are cumulative per province; temporary-account places never qualify and never hold
    the relation."""
    if not segments:
        raise InputError("at least one place of contributions is needed", field="segments")
    months: dict[str, int] = {}
    for s in segments:
        if not s.temporary:
            p = regions.province(s.region)
            months[p] = months.get(p, 0) + int(s.months)
    relation = [s for s in segments if not s.temporary]
    if not relation:   # only temporary accounts: the relation stays with the hukou place
        return ClaimPlace(hukou, "hukou_consolidated", hukou, months,
                          tuple(dict.fromkeys(s.region for s in segments)))
    current = relation[-1].region
    need = min_years * MONTHS_PER_YEAR
    everywhere = tuple(dict.fromkeys(s.region for s in segments))

    def others(target_province):
        return tuple(r for r in everywhere if regions.province(r) != target_province)

    hukou_p = regions.province(hukou)
    if regions.province(current) == hukou_p:
        return ClaimPlace(current, "hukou", current, months, others(hukou_p))
    if months.get(regions.province(current), 0) >= need:
        return ClaimPlace(current, "current", current, months, others(regions.province(current)))
    for s in reversed(relation[:-1]):
        p = regions.province(s.region)
        if months.get(p, 0) >= need:
            return ClaimPlace(s.region, "previous", current, months, others(p))
    return ClaimPlace(hukou, "hukou_consolidated", current, months, others(hukou_p))


# --- employee ↔ resident bridge (C17) -----------------------------------------------------------

@dataclass(frozen=True)
class Bridge:
    direction: str               # resident_to_employee | employee_to_resident
    counted_months: int          # contribution months in the receiving scheme
    merged_account_fen: int      # the receiving scheme's account after the merge
    refund_fen: int              # overlap-period resident contributions refunded
    moved_fen: int               # the account moved from the other scheme


def bridge(*, employee_months: int, resident_months: int, employee_account_fen: int,
           resident_account_fen: int, min_employee_years: int, overlap_months: int = 0,
           overlap_refund_fen: int = 0) -> Bridge:
    """Employee years ≥ the threshold: resident → employee, the resident account merged in full
    (less the overlap refund), resident years not counted. Below it: employee → resident, the
    employee account merged in full and the employee years added to the resident years (a
    month in both counts once)."""
    if overlap_months > min(employee_months, resident_months):
        raise InputError("the overlap cannot exceed either scheme's months", field="overlap_months")
    if overlap_refund_fen > resident_account_fen:
        raise InputError("the overlap refund exceeds the resident account",
                         field="overlap_refund")
    if employee_months >= min_employee_years * MONTHS_PER_YEAR:
        moved = resident_account_fen - overlap_refund_fen
        return Bridge("resident_to_employee", employee_months, employee_account_fen + moved,
                      overlap_refund_fen, moved)
    return Bridge("employee_to_resident", resident_months + employee_months - overlap_months,
                  resident_account_fen + employee_account_fen, 0, employee_account_fen)


def account_pension_fen(account_fen: int, divisor: int) -> int:
    """Monthly account pension = account ÷ divisor, rounded once."""
    return int(round_half_up(int(account_fen), int(divisor)))


# --- medical relation (M43) -----------------------------------------------------------------

@dataclass(frozen=True)
class MedicalContinuity:
    continuous: bool
    waiting_months: int
    recognised_months: int       # months recognised at the new place


def medical_continuity(*, old_months: int, gap_months: int, max_gap_months: int,
                       waiting_months: int) -> MedicalContinuity:
    """A gap of at most ``max_gap_months`` may be back-paid: continuity kept, no waiting, the
    old place's months recognised. A longer gap starts a waiting period (the years already
    contributed are still recognised: SIL art. 32, 'years cumulative')."""
    if gap_months < 0:
        raise InputError("the gap cannot be negative", field="gap_months")
    if gap_months <= max_gap_months:
        return MedicalContinuity(True, 0, old_months)
    return MedicalContinuity(False, waiting_months, old_months)
