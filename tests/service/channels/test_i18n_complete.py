"""Every page and notice in Chinese (the default) and English (#17 point 5).

``test_i18n_cli`` checks that every message id the pages use has a Chinese translation. This
adds what that check cannot see:

- **no bare text in a template**: every visible word of every template goes through ``_()``
  (text outside ``{{ }}``/``{% %}``, ``<code>``, scripts and styles; brand and format names
  excepted), so a page cannot show English to a Chinese reader (or Chinese to an English one);
- **the vocabularies shown by value** (``_(c.status)``, ``_(doc)``): case statuses, the service
  catalogue's document codes and limit units, notice statuses and channels, the refusals of
  the notice preferences — a new document code in any bureau's catalogue item fails here until
  it is translated;
- **notices**: every template's subject and body are in the notices catalogue (and every
  template the source enqueues has texts: ``tests/unit/notices/test_templates_used.py``).
"""
import datetime as dt
import re
from importlib import resources

from shebao.cases import catalogue, model as case_model
from shebao.channels.web import i18n
from shebao.notices import preferences
from shebao.notices.render import catalogue_ids, render, used_ids as notice_ids
from shebao.rules import load_rules

TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
SKIP = re.compile(r"<script.*?</script>|<style.*?</style>|<code>.*?</code>|<!--.*?-->", re.S)
HTML = re.compile(r"<[^>]*>", re.S)
WORD = re.compile(r"[A-Za-z\u4e00-\u9fff][A-Za-z\u4e00-\u9fff .,'’:;!?()/-]*")
# not words of a language: the brand, the language switch's own names, format names and
# abbreviations used as such in Chinese offices too
NOT_TEXT = {"shebao 社保", "社保 shebao", "shebao", "社保", "English", "中文", "PDF", "CSV",
            "XLSX", "PNG", "QR", "Markdown", "FTE"}


def _bare_text(html: str) -> list[str]:
    text = HTML.sub(" ", SKIP.sub(" ", TAG.sub(" ", html)))
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    out = []
    for m in WORD.finditer(text):
        w = m.group(0).strip(" .,:;-/()")
        if w and w not in NOT_TEXT and not all(p in NOT_TEXT for p in w.split()):
            out.append(w)
    return out


def test_no_template_shows_text_outside_the_translation_function():
    root = resources.files("shebao.channels.web") / "templates"
    found = {}

    def walk(d):
        for p in d.iterdir():
            if p.is_dir():
                yield from walk(p)
            elif p.name.endswith(".html"):
                yield p
    for p in walk(root):
        bare = _bare_text(p.read_text(encoding="utf-8"))
        if bare:
            found[p.name] = bare
    assert not found, f"text not passed through _(): {found}"


def test_the_scanner_sees_bare_text():
    assert _bare_text('<p>{{ _("Saved") }} Hello</p><td>{{ x }}</td>') == ["Hello"]
    assert _bare_text("<p>已保存</p>") == ["已保存"]
    assert _bare_text('<code>citizen_id,wage</code><a title="x">{{ _("A") }}</a> PDF') == []


def _vocabularies() -> dict[str, set[str]]:
    rules = load_rules()
    docs, units = set(), set()
    for name in rules.names(catalogue.PREFIX):
        for region in ("national", "310000", "310104", "110000"):
            for on in (dt.date(2024, 1, 1), dt.date.today()):
                if rules.has(name, region, on):
                    v = rules.value(name, region, on)
                    docs.update(v.get("documents") or ())
                    units.add(v["limit_unit"])
    return {"case statuses": set(case_model.STATUSES), "documents": docs, "limit units": units,
            "notice statuses": {"pending", "sent", "failed", "cancelled"},
            "notice channels": {*preferences.CHANNELS, "portal"},
            "notice preference refusals": set(preferences.MESSAGES)}


def test_vocabularies_shown_by_value_are_translated():
    have = i18n.catalog_ids("zh_CN")
    missing = {k: sorted(v - have) for k, v in _vocabularies().items() if v - have}
    assert not missing, f"add these message ids to a .po under locale/zh_CN: {missing}"


def test_every_notice_renders_in_chinese_and_english():
    assert notice_ids() - catalogue_ids() == set()
    zh = render("case.received", {"case_id": 7, "name_zh": "失业保险金申领",
                                  "name_en": "Unemployment benefit claim",
                                  "due_on": "2026-12-18"}, "zh_CN")
    en = render("case.received", {"case_id": 7, "name_zh": "失业保险金申领",
                                  "name_en": "Unemployment benefit claim",
                                  "due_on": "2026-12-18"}, "en")
    assert zh.body == "您的申请 7（失业保险金申领）已受理，我们将于2026年12月18日前办结。"
    assert en.body == ("Your application 7 (Unemployment benefit claim) was received. "
                       "We will decide by December 18, 2026.")
