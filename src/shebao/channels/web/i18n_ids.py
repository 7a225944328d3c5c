"""The message ids the web layer uses: ``_("…")`` in templates, ``msg("…")`` in pages, nav
labels, role/status names. Used by the catalogue-completeness test and to update the .po."""
from __future__ import annotations

import re
from importlib import resources

from shebao.core.schemes import PERSON_KINDS, SCHEMES
from shebao.medical.model import CATEGORIES, LEVELS, OFFSITE, PERSON_TYPES

_T = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)+)"|'((?:[^'\\]|\\.)+)')\s*\)""")
_PY = re.compile(r"""i18n_msg\(\s*request\s*,\s*"((?:[^"\\]|\\.)+)"\s*\)|_\(\s*"((?:[^"\\]|\\.)+)"\s*\)""")
_NAV = re.compile(r"""\(\s*"/[^"]*"\s*,\s*"([^"]+)"\s*,""")

EXTRA = ["citizen", "employer", "collection_clerk", "benefits_clerk", "inspector",
         "administrator", "system", "pending", "approved", "rejected",
         "pension.determination", "payroll.release", "Invalid input", "Forbidden", "Conflict",
         "Not found", "Error", "Bad request", "Rule of the domain broken",
         "No rule for this case", "Too many requests", "Account locked", "Login refused",
         "Not authenticated", "Method not allowed",
         # registry vocabularies shown in pages
         *SCHEMES, *PERSON_KINDS, "active",
         "suspended", "ended", "deceased", "emigrated", "merged", "closed", "sms", "app",
         "mail", "post", "wechat", "resignation", "dismissal", "contract_end", "bankruptcy",
         "mutual_agreement", "retirement", "death", "transfer", "other", "persons",
         "employers", "employment", "open", "incomplete", "ineligible", "computed",
         "submitted", "partial", "paid", "overpaid", "approve", "reject", "submit",
         "recompute", "assessed", "billed", "collected", "flexible", "released", "stopped",
         "counter enquiry", "registration", "contribution query", "benefit claim",
         "inspection", "correction requested by the person",
         # medical vocabularies shown by value (#16): claim status and kind, off-site
         # categories and sub-types, hospital levels, person types, the medical case items
         "settled", "inpatient", "outpatient", *OFFSITE, *LEVELS, *PERSON_TYPES,
         *(s for subs in CATEGORIES.values() for s in subs), "medical.manual_claim",
         "medical.offsite_registration", "awarded"]


def used_ids() -> set[str]:
    root = resources.files("shebao.channels.web")
    ids: set[str] = set(EXTRA)
    for path in _walk(root / "templates"):
        ids.update(m.group(1) or m.group(2) for m in _T.finditer(path.read_text(encoding="utf-8")))
    for path in _walk(root / "pages"):
        if path.name.endswith(".py"):
            text = path.read_text(encoding="utf-8")
            ids.update(g for m in _PY.finditer(text) for g in m.groups() if g)
            ids.update(m.group(1) for m in _NAV.finditer(text))
    return ids


def _walk(d):
    for p in d.iterdir():
        if p.is_dir():
            yield from _walk(p)
        else:
            yield p
