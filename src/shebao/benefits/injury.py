"""Work injury (工伤保险条例, 2010): recognition → appraisal → benefits; pure rules.

* **Recognition** (工伤认定, arts. 17–20): the employer applies within
  ``injury.application_days[employer]`` days of the accident or diagnosis, the worker (or
  relatives, union) within ``[worker]``; a late employer bears the costs until it applies
  (art. 17), a late worker's application is not accepted. The decision is due 60 days after
  acceptance (15 when the facts are clear): the case's due date.
* **Appraisal** (劳动能力鉴定, arts. 21–28): grade 1–10 (or none) and the level of nursing
  dependence → one-off disability grant (months of own wage by grade), monthly disability
  allowance from the fund for grades 1–4 (art. 35; grades 5–6 are paid by the employer when no
  job is arranged, art. 36 — recorded, not paid by the fund), nursing allowance (art. 34).
  A review appraisal may be asked ``injury.review_after_months`` after the conclusion (art. 28).
* **Medical and care costs** (arts. 30, 32, 34; ``compute_costs``): of a recognised injury,
  the treatment costs inside the work-injury catalogues (诊疗项目、药品、住院服务标准) from the
  accident on (a late employer's days up to its application are its own, art. 17), the
  hospital food allowance per inpatient day (``injury.hospital_food_allowance_daily``), the
  assistive devices the appraisal committee confirmed up to their type's limit
  (``injury.assistive_device_limits``), all one-off reimbursements to the worker or the
  employer that advanced them; and the monthly nursing allowance by the confirmed level of
  dependence (``injury.nursing_allowance_rates`` × the area's average monthly wage).
* **Death** (art. 39): funeral grant (6 × the area's average monthly wage), dependants'
  pensions (40% spouse, 30% others, +10% orphan/lone elderly, capped at own wage), one-time
  death grant (20 × the national urban disposable income of the previous year).

Own wage (本人工资, art. 64) is clamped to [60%, 300%] of the area's average monthly wage.
"""
from __future__ import annotations

import datetime as dt

from shebao.core.errors import InputError, RuleError
from shebao.core.money import fen_to_yuan_str, to_fen
from shebao.core.periods import add_months
from shebao.rules.formulas import benefits as F
from shebao.rules.formulas import casework as C

from .claims import MONTHLY, ONCE, Computation, LineSpec, Params, fact, month_start

BASIS_GRANT = "工伤保险条例 第三十五–三十七条 (一次性伤残补助金)"
BASIS_ALLOWANCE = "工伤保险条例 第三十五条 (伤残津贴)"
BASIS_NURSING = "工伤保险条例 第三十四条 (生活护理费)"
BASIS_MEDICAL = "工伤保险条例 第三十条第一、三款 (工伤医疗费用)"
BASIS_FOOD = "工伤保险条例 第三十条第四款 (住院伙食补助费)"
BASIS_DEVICES = "工伤保险条例 第三十二条 (辅助器具)"
BASIS_FUNERAL = "工伤保险条例 第三十九条第一款第(一)项 (丧葬补助金)"
BASIS_DEPENDANTS = "工伤保险条例 第三十九条第一款第(二)项 (供养亲属抚恤金)"
BASIS_DEATH = "工伤保险条例 第三十九条第一款第(三)项 (一次性工亡补助金)"


def _done(c: Computation, p: Params, outcome: str | None = None) -> Computation:
    c.parameters = p.used
    c.outcome = outcome or ("granted" if c.eligible else "refused")
    return c


def compute_recognition(rules, region: str, facts: dict) -> Computation:
    """facts: accident_date, applied_on, applicant (employer | worker), work_related (the
    clerk's finding), facts_clear (15-day track)."""
    acc = fact(facts, "accident_date", dt.date)
    applied = fact(facts, "applied_on", dt.date)
    applicant = fact(facts, "applicant")
    if applicant not in ("employer", "worker"):
        raise InputError("applicant must be employer or worker", field="applicant",
                         value=applicant)
    work_related = fact(facts, "work_related", bool)
    p = Params(rules, region, acc)
    limits = p.get("injury.application_days")
    late_by = (applied - acc).days - int(limits[applicant])
    c = Computation("injury_recognition", True, facts=dict(facts))
    c.arithmetic.append(f"applied {(applied - acc).days} days after the accident; limit for "
                        f"the {applicant}: {limits[applicant]} days")
    if applied < acc:
        raise InputError("the application cannot precede the accident", field="applied_on")
    if late_by > 0 and applicant == "worker":
        c.eligible = False
        c.reasons.append(f"applied {late_by} days after the one-year limit (工伤保险条例 第十七条)")
        return _done(c, p, "refused")
    if late_by > 0:
        c.reasons.append(f"the employer applied {late_by} days late: it bears the injury costs "
                         f"until it applied (工伤保险条例 第十七条第四款)")
        c.facts["employer_bears_costs_until"] = applied.isoformat()
    if not work_related:
        c.eligible = False
        c.reasons.append("not a work injury under 工伤保险条例 第十四、十五条")
        return _done(c, p, "not_recognised")
    return _done(c, p, "recognised")


def own_wage(p: Params, own_fen: int) -> tuple[int, int, str]:
    avg = to_fen(p.get("wage.average_monthly", field="region"))
    b = p.get("injury.own_wage_bounds")
    used = int(F.clamp_fen([own_fen], [avg], b["min"], b["max"])[0])
    return used, avg, (f"own wage {fen_to_yuan_str(own_fen)} clamped to "
                       f"[{b['min']}, {b['max']}] × average {fen_to_yuan_str(avg)} "
                       f"→ {fen_to_yuan_str(used)}")


def compute_appraisal(rules, region: str, facts: dict) -> Computation:
    """facts: concluded_on (appraisal conclusion), grade (1–10 or null), own_wage_fen,
    nursing_level (1–3 or null)."""
    on = fact(facts, "concluded_on", dt.date)
    grade = facts.get("grade")
    own = fact(facts, "own_wage_fen", int)
    nursing = facts.get("nursing_level")
    p = Params(rules, region, on)
    c = Computation("injury_appraisal", True, facts=dict(facts))
    review = int(p.get("injury.review_after_months"))
    c.facts["review_from"] = add_months(on, review).isoformat()
    if grade is None:
        c.eligible = False
        c.reasons.append("no disability grade: no disability benefits (工伤保险条例 第三十五–三十七条)")
        return _done(c, p)
    lump = p.get("injury.disability_lump_sum_months")
    grade = fact(facts, "grade", int)
    if grade not in {int(k) for k in lump}:
        raise InputError(f"grade must be one of {sorted(int(k) for k in lump)}", field="grade")
    used, avg, line = own_wage(p, own)
    c.arithmetic.append(line)
    start = add_months(month_start(on), 1)
    months = C.grade_months(grade, lump)
    grant = C.months_of_wage_fen(used, months)
    c.arithmetic.append(f"grant: {months} months × {fen_to_yuan_str(used)} = "
                        f"{fen_to_yuan_str(grant)}")
    c.lines.append(LineSpec(ONCE, "disability_grant", "injury", grant, start, BASIS_GRANT))
    rates = p.get("injury.disability_allowance_rate")
    payer = p.get("injury.allowance_payer")
    min_wage = to_fen(p.get("wage.minimum_wage", field="region"))
    allowance = int(F.injury_allowance_fen([used], [grade], rates, [min_wage])[0])
    if allowance:
        who = payer.get(str(grade))
        c.arithmetic.append(f"allowance: {rates.get(grade)} × {fen_to_yuan_str(used)}, not "
                            f"below the minimum wage {fen_to_yuan_str(min_wage)} = "
                            f"{fen_to_yuan_str(allowance)} a month, paid by the {who}")
        if who == "fund":
            c.lines.append(LineSpec(MONTHLY, "disability_allowance", "injury", allowance, start,
                                    BASIS_ALLOWANCE))
        else:
            c.facts["employer_allowance_fen"] = allowance
    if nursing is not None:
        level = fact(facts, "nursing_level", int)
        nf = C.nursing_allowance_fen(avg, level, p.get("injury.nursing_allowance_rates"))
        c.arithmetic.append(f"nursing level {level}: {fen_to_yuan_str(nf)} a month")
        c.lines.append(LineSpec(MONTHLY, "nursing_allowance", "injury", nf, start,
                                BASIS_NURSING))
    return _done(c, p)


def compute_death(rules, region: str, facts: dict) -> Computation:
    """facts: death_date, own_wage_fen, claimant_person_id (receives the funeral and death
    grants), dependants: [{person_id, role: spouse|other, lone: bool}]."""
    death = fact(facts, "death_date", dt.date)
    own = fact(facts, "own_wage_fen", int)
    claimant = fact(facts, "claimant_person_id", int)
    deps = facts.get("dependants") or []
    if not isinstance(deps, list):
        raise InputError("dependants must be a list", field="dependants")
    p = Params(rules, region, death)
    c = Computation("injury_death", True, facts=dict(facts))
    used, avg, line = own_wage(p, own)
    c.arithmetic.append(line)
    start = add_months(month_start(death), 1)
    fm = int(p.get("injury.funeral_grant_months"))
    funeral = C.months_of_wage_fen(avg, fm)
    c.arithmetic.append(f"funeral grant: {fm} × {fen_to_yuan_str(avg)} = "
                        f"{fen_to_yuan_str(funeral)}")
    income = int(p.get("injury.national_urban_income"))
    mult = int(p.get("injury.death_grant_multiple"))
    grant = C.death_grant_fen(income, mult)
    c.arithmetic.append(f"death grant: {mult} × {income}.00 = {fen_to_yuan_str(grant)}")
    c.lines.append(LineSpec(ONCE, "funeral_grant", "injury", funeral, start, BASIS_FUNERAL,
                            payee_id=claimant))
    c.lines.append(LineSpec(ONCE, "death_grant", "injury", grant, start, BASIS_DEATH,
                            payee_id=claimant))
    roles = []
    for i, d in enumerate(deps):
        if not isinstance(d, dict) or d.get("role") not in ("spouse", "other"):
            raise InputError("each dependant needs role spouse or other",
                             field=f"dependants[{i}].role")
        roles.append((d["role"], bool(d.get("lone", False))))
    amounts, capped = C.dependants_pension_fen(used, roles, p.get("injury.dependant_rates"))
    for d, (role, lone), a in zip(deps, roles, amounts):
        pid = fact(d, "person_id", int)
        c.lines.append(LineSpec(MONTHLY, "dependant_pension", "injury", a, start,
                                BASIS_DEPENDANTS, payee_id=pid))
        c.arithmetic.append(f"dependant {pid} ({role}{', lone' if lone else ''}): "
                            f"{fen_to_yuan_str(a)} a month")
    if capped:
        c.arithmetic.append(f"dependants' pensions reduced pro rata to the cap "
                            f"{fen_to_yuan_str(used)} (largest remainder)")
    return _done(c, p)


def _item(d: dict, name: str, i: int, key: str, kind=None, **kw):
    """A fact of the i-th item of a list, its error naming ``name[i].key``."""
    try:
        return fact(d, key, kind, **kw)
    except InputError as exc:
        raise InputError(exc.reason, field=f"{name}[{i}].{key}") from None


def compute_costs(rules, region: str, facts: dict) -> Computation:
    """facts: accident_date and employer_bears_costs_until (from the recognition, added by
    the service), treatments: [{treated_on, catalogue_fen, outside_fen}], hospital_days,
    devices: [{type, cost_fen}], care_level (1–3) with care_confirmed_on, payee (person |
    employer: who advanced the costs) with employer_id."""
    acc = fact(facts, "accident_date", dt.date)
    p = Params(rules, region, acc)
    c = Computation("injury_costs", True, facts=dict(facts))
    payee = facts.get("payee") or "person"
    if payee not in ("person", "employer"):
        raise InputError("payee must be person or employer", field="payee", value=payee)
    to = {"payee_type": "employer", "payee_id": fact(facts, "employer_id", int)} \
        if payee == "employer" else {}
    until = fact(facts, "employer_bears_costs_until", dt.date, required=False)
    treatments = facts.get("treatments") or []
    devices = facts.get("devices") or []
    for name, v in (("treatments", treatments), ("devices", devices)):
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise InputError(f"{name} must be a list of objects", field=name)
    claimed_on = [_item(t, "treatments", i, "treated_on", dt.date)
                  for i, t in enumerate(treatments)]
    start = month_start(max([acc, *claimed_on]))
    medical, outside, employers = 0, 0, 0
    for i, (t, on) in enumerate(zip(treatments, claimed_on)):
        cat = _item(t, "treatments", i, "catalogue_fen", int)
        out = _item(t, "treatments", i, "outside_fen", int, required=False, default=0)
        if on < acc:
            raise InputError("a treatment cannot precede the accident",
                             field=f"treatments[{i}].treated_on", value=on.isoformat())
        if until is not None and on <= until:
            employers += cat
        else:
            medical += cat
        outside += out
    if treatments:
        c.arithmetic.append(f"treatment inside the catalogues: {fen_to_yuan_str(medical)}"
                            + (f"; {fen_to_yuan_str(employers)} up to {until.isoformat()} is "
                               f"the late employer's (art. 17)" if employers else "")
                            + (f"; outside the catalogues, not paid: {fen_to_yuan_str(outside)}"
                               if outside else ""))
        c.lines.append(LineSpec(ONCE, "injury_medical_costs", "injury", medical, start,
                                BASIS_MEDICAL, **to))
    days = fact(facts, "hospital_days", int, required=False, default=0)
    if days:
        daily = int(p.get("injury.hospital_food_allowance_daily", field="region"))
        food = C.per_day_fen(days, daily)
        c.arithmetic.append(f"hospital food allowance: {days} days × {daily}.00 = "
                            f"{fen_to_yuan_str(food)}")
        c.lines.append(LineSpec(ONCE, "hospital_food_allowance", "injury", food, start,
                                BASIS_FOOD, **to))
    if devices:
        limits = p.get("injury.assistive_device_limits")
        items = [(str(_item(d, "devices", i, "type")), _item(d, "devices", i, "cost_fen", int))
                 for i, d in enumerate(devices)]
        try:
            paid = C.capped_costs_fen(items, limits)
        except RuleError as exc:
            raise InputError(str(exc), field="devices") from None
        for (typ, cost), a in zip(items, paid):
            c.arithmetic.append(f"device {typ}: cost {fen_to_yuan_str(cost)}, limit "
                                f"{limits[typ]}.00 → {fen_to_yuan_str(a)}")
        c.lines.append(LineSpec(ONCE, "assistive_devices", "injury", sum(paid), start,
                                BASIS_DEVICES, **to))
    if facts.get("care_level") is not None:
        level = fact(facts, "care_level", int)
        on = fact(facts, "care_confirmed_on", dt.date)
        avg = to_fen(p.get("wage.average_monthly", on=on, field="region"))
        rates = p.get("injury.nursing_allowance_rates", on=on)
        if level not in {int(k) for k in rates}:
            raise InputError(f"care_level must be one of {sorted(int(k) for k in rates)}",
                             field="care_level", value=level)
        nf = C.nursing_allowance_fen(avg, level, rates)
        care_from = add_months(month_start(on), 1)
        c.facts["care_from"] = care_from.isoformat()
        c.arithmetic.append(f"nursing level {level}: {rates[level]} × average "
                            f"{fen_to_yuan_str(avg)} = {fen_to_yuan_str(nf)} a month from "
                            f"{care_from.isoformat()[:7]}")
        c.lines.append(LineSpec(MONTHLY, "nursing_allowance", "injury", nf, care_from,
                                BASIS_NURSING))
    c.lines = [ln for ln in c.lines if ln.amount_fen > 0]
    if not c.lines:
        c.eligible = False
        c.reasons.append("nothing the work-injury fund pays was claimed (工伤保险条例 第三十、"
                         "三十二、三十四条)")
    return _done(c, p)
