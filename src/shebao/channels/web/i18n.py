"""Chinese by default, English on request: Babel catalogues kept as ``.po`` and compiled in
memory at start-up (no build step, nothing generated in the repository).

Message ids are English; the ``.po`` files in ``locale/zh_CN/LC_MESSAGES/`` translate them
(``messages.po`` for the core pages, one ``<package>.po`` per bureau or platform, read together
in name order; a message id defined twice is an error). The language comes from the ``lang`` cookie (set by ``/lang/{code}``), default ``zh_CN``.
"""
from __future__ import annotations

import io
from decimal import Decimal
from functools import lru_cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.dates import format_date, format_datetime
from babel.support import NullTranslations, Translations

LANGS = ("zh_CN", "en")
DEFAULT = "zh_CN"


def _catalog(lang: str):
    """All ``.po`` files of the language merged into one catalogue."""
    folder = resources.files("shebao.channels.web") / "locale" / lang / "LC_MESSAGES"
    merged = None
    for path in sorted((p for p in folder.iterdir() if p.name.endswith(".po")),
                       key=lambda p: p.name):
        with path.open("rb") as f:
            part = read_po(f, locale=lang)
        if merged is None:
            merged = part
            continue
        for m in part:
            if not m.id:
                continue
            if m.id in merged:
                raise ValueError(f"{path.name}: message id {m.id!r} is already translated "
                                 "in another catalogue")
            merged[m.id] = m
    return merged


@lru_cache(maxsize=None)
def translations(lang: str) -> NullTranslations:
    if lang == "en":
        return NullTranslations()
    catalog = _catalog(lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def catalog_ids(lang: str = "zh_CN") -> set[str]:
    return {m.id for m in _catalog(lang) if m.id and m.string}


def pick(lang_cookie: str | None) -> str:
    return lang_cookie if lang_cookie in LANGS else DEFAULT


@lru_cache(maxsize=8192)
def _money(yuan: str, locale: str) -> str:
    # a page formats dozens of amounts, most of them repeated (the same contribution every
    # month); Babel's formatting is the costliest part of rendering them
    return format_currency(Decimal(yuan), "CNY", locale=locale)


class Fmt:
    """Formatting helpers bound to a locale, for templates."""

    def __init__(self, lang: str):
        self.locale = "zh_CN" if lang == "zh_CN" else "en_US"

    def money(self, amount) -> str:
        """Amount in yuan (Decimal/str) or fen (int) → ``¥1,234.50``."""
        if isinstance(amount, int):
            amount = Decimal(amount) / 100
        return _money(str(amount), self.locale)

    def number(self, n) -> str:
        return format_decimal(n, locale=self.locale)

    def date(self, d) -> str:
        return format_date(d, "long", locale=self.locale) if d else ""

    def datetime(self, d) -> str:
        return format_datetime(d, "yyyy-MM-dd HH:mm:ss", locale=self.locale) if d else ""
