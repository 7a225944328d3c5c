"""Decision notices (待遇决定书) of benefit cases, in Chinese and English: pure text.

    decision_notice(case, claim, lang, rules) -> Notice(title, lines)

A notice names the decision (granted / refused / recognised / upheld / changed), every
amount with its start, end and legal basis, the reasons of a refusal, and the applicant's
rights: administrative reconsideration within ``appeal.limits.reconsideration_days`` days or
a lawsuit within ``lawsuit_months`` months of receipt (行政复议法; 行政诉讼法 第四十六条).
The channels print it as a PDF (``channels/decision_pdf.py``); the case model's
``case.decided`` notice tells the applicant a decision was made.
"""
from __future__ import annotations

from dataclasses import dataclass

from shebao.core.periods import month_str

from .claims import lines_of

KIND_NAMES = {
    "unemployment": ("失业保险金", "unemployment benefit"),
    "injury_recognition": ("工伤认定", "work-injury recognition"),
    "injury_appraisal": ("工伤伤残待遇", "work-injury disability benefits"),
    "injury_costs": ("工伤医疗费用和生活护理费", "work-injury medical and care costs"),
    "injury_death": ("因工死亡待遇", "work-injury death benefits"),
    "maternity": ("生育津贴", "maternity allowance"),
    "survivors": ("丧葬补助金和抚恤金", "funeral grant and survivors' benefit"),
    "review": ("待遇决定复核", "review of a benefit decision"),
}
OUTCOMES = {
    "granted": ("准予", "granted"), "refused": ("不予支付", "refused"),
    "recognised": ("认定为工伤", "recognised as a work injury"),
    "not_recognised": ("不予认定为工伤", "not recognised as a work injury"),
    "upheld": ("维持原决定", "the decision is upheld"),
    "changed": ("变更原决定", "the decision is changed"),
}
LINE_NAMES = {
    "unemployment_benefit": ("失业保险金", "unemployment benefit"),
    "medical_premium": ("代缴职工医保费", "medical premium paid by the fund"),
    "disability_grant": ("一次性伤残补助金", "one-off disability grant"),
    "disability_allowance": ("伤残津贴", "disability allowance"),
    "nursing_allowance": ("生活护理费", "nursing allowance"),
    "injury_medical_costs": ("工伤医疗费", "work-injury medical costs"),
    "hospital_food_allowance": ("住院伙食补助费", "hospital food allowance"),
    "assistive_devices": ("辅助器具费用", "assistive devices"),
    "prenatal_check_subsidy": ("产前检查费补贴", "prenatal check subsidy"),
    "delivery_costs": ("生育医疗费(分娩)", "delivery medical costs"),
    "funeral_grant": ("丧葬补助金", "funeral grant"),
    "death_grant": ("一次性工亡补助金", "one-off death grant"),
    "dependant_pension": ("供养亲属抚恤金", "dependant's pension"),
    "maternity_allowance": ("生育津贴", "maternity allowance"),
    "survivors_benefit": ("抚恤金", "survivors' benefit"),
    "account_refund": ("个人账户余额继承", "individual account balance to heirs"),
    "back_pay": ("补发", "back pay"), "review_back_pay": ("复核补发", "back pay on review"),
}


@dataclass(frozen=True)
class Notice:
    title: str
    lines: list[str]


def decision_notice(case, claim: dict | None, lang: str, rules) -> Notice:
    """``case``: a ``cases.model.Case`` that is decided; ``claim``: its benefit claim (facts,
    computation) or None for a review."""
    zh = lang != "en"
    i = 0 if zh else 1
    kind = claim["kind"] if claim else "review"
    name = KIND_NAMES.get(kind, (kind, kind))[i]
    outcome = OUTCOMES.get(case.outcome or "", (case.outcome, case.outcome))[i]
    limits = rules.value("appeal.limits", case.region, case.decided_on or case.opened_on)
    days, months = limits["reconsideration_days"], limits["lawsuit_months"]
    decision = case.decision or {}
    comp = decision.get("computation") or decision
    out = [f"{'案件编号' if zh else 'Case'}: {case.id}",
           f"{'事项' if zh else 'Matter'}: {name}",
           f"{'决定日期' if zh else 'Decided on'}: {case.decided_on}",
           f"{'决定' if zh else 'Decision'}: {outcome}"]
    for ln in lines_of(comp):
        ln_name = LINE_NAMES.get(ln.code, (ln.code, ln.code))[i]
        amt = f"{ln.amount_fen // 100}.{ln.amount_fen % 100:02d}"
        when = (f"{'自' if zh else 'from'} {month_str(ln.start_month)}"
                + (f" {'至' if zh else 'until before'} {month_str(ln.end_month)}"
                   if ln.end_month else ""))
        per = ("每月" if zh else "a month") if ln.kind == "monthly" else \
            ("一次性" if zh else "once")
        out.append(f"- {ln_name}: {amt} {'元' if zh else 'yuan'} {per}, {when}; "
                   f"{'依据' if zh else 'basis'}: {ln.basis}")
    for r in comp.get("reasons", []) or []:
        out.append(f"{'理由' if zh else 'Reason'}: {r}")
    if case.decision_reason and not comp.get("reasons"):
        out.append(f"{'理由' if zh else 'Reason'}: {case.decision_reason}")
    out.append("")
    if zh:
        out.append(f"如不服本决定，可自收到本决定书之日起{days}日内依法申请行政复议，"
                   f"或者自收到之日起{months}个月内依法向人民法院提起行政诉讼。")
    else:
        out.append(f"If you disagree with this decision you may apply for administrative "
                   f"reconsideration within {days} days of receiving it, or bring an "
                   f"administrative lawsuit before the people's court within {months} months.")
    title = (f"社会保险待遇决定书 — {name}" if zh else f"Social insurance decision — {name}")
    return Notice(title, out)
