"""Notice texts per language: English message ids, Chinese (the default) from the Babel
catalogue ``notices/locale/zh_CN/LC_MESSAGES/notices.po``, compiled in memory.

A template code (what ``outbox.enqueue(template=...)`` names) maps to a subject and a body
with ``{placeholders}`` filled from the notice's data. Values are formatted for the language:
keys ending in ``_fen`` are money (integer fen), keys ending in ``_on``, ``_until``, ``_by``
or ``_date`` are dates (ISO text or date); a pair ``<key>_zh`` / ``<key>_en`` gives ``<key>``
in the notice's language (``name_zh``/``name_en`` of a service item → ``{name}``). A placeholder the data lacks renders as an empty string, never an error:
a notice is always deliverable. A code not listed here renders the generic text, and the
i18n test fails on any code enqueued in the source that is not listed.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from babel.support import NullTranslations, Translations

LANGS = ("zh_CN", "en")
DEFAULT_LANG = "zh_CN"

# code -> (subject, body): English message ids
TEMPLATES: dict[str, tuple[str, str]] = {
    "case.received": (
        "Application received",
        "Your application {case_id} ({name}) was received. We will decide by {due_on}."),
    "case.decided": (
        "Decision on your application",
        "A decision was made on your application {case_id}: {outcome}. {reason}"),
    "case.documents_requested": (
        "Documents needed for your application",
        "Your application {case_id} needs more documents: {missing}."),
    "contribution.statement": (
        "Your yearly social insurance statement",
        "Your personal rights statement for {year} is ready in the portal: {months} months "
        "contributed in the year."),
    "arrears.notice": (
        "Contributions overdue",
        "On {as_of_date}, contributions of {amount_fen} ({bills} bills) were overdue; the late "
        "fee so far is {late_fee_fen}. The late fee accrues daily until paid."),
    "payment.made": (
        "Payment made",
        "{benefit}: {amount_fen} was paid on {paid_on}."),
    "certification.due": (
        "Living certification due",
        "Please complete your living certification by {due_on} so that your pension "
        "continues."),
    # mobility (#15): the living-certification cycle
    "certification.resumed": (
        "Pension resumed",
        "Your living certification of {certified_on} was recorded. Your pension is paid again "
        "from {resumed_from}; {back_pay_months} suspended months are paid back."),
    "certification.suspended": (
        "Pension suspended",
        "Your living certification was not renewed in time: your pension is suspended from "
        "{suspended_from}. Certify in the portal, with the e-card or at a counter and it is "
        "paid again, with the suspended months paid back."),
    # benefits (#13): a benefit claim decided; the decision notice (PDF) is in the portal
    "benefit.decision": (
        "Decision on your benefit claim",
        "A decision was made on your benefit claim {case_id}: {outcome}. The decision notice "
        "is in the portal."),
    # supervision (#14): arrears enforcement, the credit blacklist, inspection decisions
    "supervision.arrears.notice": (
        "Notice to pay contribution arrears",
        "Case {case_id}: please pay the arrears of {outstanding} yuan and the late fee of "
        "{late_fee} yuan by {pay_by}."),
    "supervision.arrears.instalments": (
        "Instalment agreement on contribution arrears",
        "Case {case_id}: your instalment agreement was recorded. Please pay each instalment "
        "when due."),
    "supervision.arrears.enforcement": (
        "Arrears referred for enforcement",
        "Case {case_id}: the arrears were not paid and the case was referred for "
        "enforcement."),
    "supervision.blacklist.prior_notice": (
        "Prior notice of listing for serious dishonesty",
        "You may be listed for serious dishonesty ({ground}). You may object until "
        "{objection_until}."),
    "supervision.blacklist.listed": (
        "Listed for serious dishonesty",
        "You were listed for serious dishonesty ({ground}) until {listed_until}."),
    "supervision.blacklist.not_listed": (
        "Not listed",
        "After review you were not listed ({ground}). {reason}"),
    "supervision.blacklist.removed": (
        "Removed from the list",
        "You were removed from the list of serious dishonesty ({ground}). {reason}"),
    "supervision.decision": (
        "Decision of the social insurance inspection",
        "A decision was made in inspection case {case_id}: {outcome}. Remedies: {appeal}."),
    # cards (#17, cards/service.py): the card's lifecycle, to its holder
    "card.issued": (
        "Your social security card is ready",
        "Your social security card {card_no} has been made. Collect it and activate it."),
    "card.activated": (
        "Social security card activated",
        "Your social security card {card_no} is active; the e-card is available in the portal."),
    "card.lost": (
        "Social security card reported lost",
        "Your social security card {card_no} was reported lost and is frozen; its e-card codes "
        "no longer work. Apply for a replacement in the portal or at a counter."),
    "card.bank_linked": (
        "Bank function linked",
        "The bank function of your social security card {card_no} is linked to {bank_name}."),
}
# values of these keys are words to translate (a case's outcome)
WORDS = ("granted", "refused", "rejected", "approved", "paid", "withdrawn", "recover",
         "back_assess", "list", "no_violation", "recognised", "not_recognised", "upheld",
         "changed")
TRANSLATED_KEYS = ("outcome",)
GENERIC = ("New notice", "You have a new notice ({template}). Please sign in to the portal.")


@dataclass(frozen=True)
class Rendered:
    lang: str
    subject: str
    body: str


def _catalogue_path():
    return (resources.files("shebao.notices") / "locale" / "zh_CN" / "LC_MESSAGES"
            / "notices.po")


@lru_cache(maxsize=None)
def translations(lang: str) -> NullTranslations:
    if lang != "zh_CN":
        return NullTranslations()
    with _catalogue_path().open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def catalogue_ids() -> set[str]:
    """Message ids the Chinese catalogue translates (non-empty)."""
    with _catalogue_path().open("rb") as f:
        return {m.id for m in read_po(f, locale="zh_CN") if m.id and m.string}


def used_ids() -> set[str]:
    return {s for pair in (*TEMPLATES.values(), GENERIC) for s in pair} | set(WORDS)


def pick_lang(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


@lru_cache(maxsize=None)
def _locale(lang: str) -> Locale:
    return Locale.parse("zh_CN" if lang == "zh_CN" else "en_US")


@lru_cache(maxsize=None)
def _texts(template: str, lang: str) -> tuple[str, str]:
    tr = translations(lang)
    subject, body = TEMPLATES.get(template, GENERIC)
    return tr.gettext(subject), tr.gettext(body)


@lru_cache(maxsize=None)
def _money_affixes(lang: str) -> tuple[str, str]:
    """Babel's CNY pattern for the locale around the number (zh_CN ``¥…``, en ``CN¥…``)."""
    sample = format_currency(Decimal("1.00"), "CNY", locale=_locale(lang))
    head, _, tail = sample.partition("1.00")
    return head, tail


def money(fen: int, lang: str) -> str:
    """Integer fen as Babel writes CNY in ``lang`` (both locales group by 3 with ``,`` and
    use ``.``), without Babel's per-call pattern parsing: the worker formats every notice."""
    head, tail = _money_affixes(lang)
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{head}{yuan:,}.{cents:02d}{tail}"


class _Blank(dict):
    def __missing__(self, key):
        return ""


def _format_value(key: str, value, lang: str, locale: Locale):
    if value is None:
        return ""
    if key.endswith("_fen") and isinstance(value, int) and not isinstance(value, bool):
        return money(value, lang)
    if key.endswith(("_on", "_date", "_until", "_by")) and value:
        d = value if isinstance(value, dt.date) else None
        if d is None:
            try:
                d = dt.date.fromisoformat(str(value)[:10])
            except ValueError:
                return value
        return format_date(d, "long", locale=locale)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value


def render(template: str, data: dict | None, lang: str | None) -> Rendered:
    """Subject and body of a notice in ``lang`` (zh_CN default, en)."""
    lang = pick_lang(lang)
    locale = _locale(lang)
    subject, body = _texts(template, lang)
    values = _Blank({k: _format_value(k, v, lang, locale) for k, v in (data or {}).items()})
    tr = translations(lang)
    for k in TRANSLATED_KEYS:
        if values.get(k) in WORDS:
            values[k] = tr.gettext(values[k])
    suffix = "_zh" if lang == "zh_CN" else "_en"
    for k in list(values):
        if k.endswith(suffix):
            values.setdefault(k[:-3], values[k])
    values.setdefault("template", template)
    return Rendered(lang, subject.format_map(values), body.format_map(values))
