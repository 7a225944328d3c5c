"""GB/T 2260 administrative division codes: structure, parents and names.

A code is six digits PP CC XX. The parent chain is structural (310104 → 310100 → 310000 →
national), which is what parameter inheritance and staff region scopes need; names come from
python-stdnum's bundled table of area codes when it knows them.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .errors import InputError

NATIONAL = "national"
_CODE = re.compile(r"^\d{6}$")


def is_region_code(code: str) -> bool:
    return code == NATIONAL or bool(_CODE.match(str(code)))


def check_region(region, field: str = "region") -> str:
    """``region`` if it is a six-digit GB/T 2260 code of a known division (not ``national``,
    not padded, not a number); otherwise ``InputError`` naming ``field``. The one region
    check: ledger accounts, bills, registry records and scope filters all use it."""
    if not isinstance(region, str) or not _CODE.match(region):
        raise InputError(f"region {region!r} is not a six-digit GB/T 2260 code", field=field,
                         value=region)
    if not known(region):
        raise InputError(f"region {region} is not a known GB/T 2260 code", field=field,
                         value=region)
    return region


def parent(code: str) -> str | None:
    """The next region up, or None above national."""
    if code == NATIONAL:
        return None
    if not _CODE.match(code):
        raise ValueError(f"not a GB/T 2260 region code: {code!r}")
    if code[4:] != "00":
        return code[:4] + "00"
    if code[2:4] != "00":
        return code[:2] + "0000"
    return NATIONAL


def lineage(code: str) -> list[str]:
    """The code and every ancestor, nearest first, ending with ``national``."""
    out = [code]
    while (p := parent(out[-1])) is not None:
        out.append(p)
    return out


def within(code: str, scope: str) -> bool:
    """True when ``code`` lies in the subtree rooted at ``scope`` (a staff member's scope)."""
    return scope in lineage(code)


def province(code: str) -> str:
    return code[:2] + "0000"


@lru_cache(maxsize=1)
def _table() -> dict[str, tuple[str, bool]]:
    """code → (full name, still in use), from python-stdnum's bundled GB/T 2260 table.

    The file lists a province line ("31 province=…") followed by indented four-digit
    prefecture/county lines ("  0104 county=…"); names prefixed "[1983-2000]" are retired
    codes, kept because old citizen IDs still carry them.
    """
    import importlib.resources as res

    table: dict[str, tuple[str, bool]] = {}
    text = res.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    prov, pname = None, ""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if not line.startswith(" "):
            prov, _, rest = line.partition(" ")
            m = re.search(r'province="([^"]*)"', rest)
            pname = m.group(1) if m else ""
            table[prov + "0000"] = (pname, True)
            continue
        code4, _, rest = line.strip().partition(" ")
        m = re.search(r'county="([^"]*)"', rest)
        if not m or prov is None:
            continue
        raw = m.group(1)
        span = re.match(r"\[(\d*)-(\d*)\]", raw)
        in_use = not (span and span.group(2))
        label = re.sub(r"^\[[^\]]*\]", "", raw)
        code = prov + code4
        if code in table and table[code][1] and not in_use:
            continue  # a current name wins over a retired one for the same code
        if label in ("市辖区", "县", "省直辖县级行政区划"):
            continue  # summary rows of a prefecture, not places
        full = label if label.startswith(pname) else pname + label
        table[code] = (full, in_use)
    return table


def name(code: str) -> str | None:
    if code == NATIONAL:
        return "全国"
    entry = _table().get(code)
    return entry[0] if entry else None


def known(code: str) -> bool:
    return code == NATIONAL or code in _table()


def all_known_codes(current_only: bool = False) -> list[str]:
    return sorted(c for c, (_, in_use) in _table().items() if in_use or not current_only)


def county_codes(current_only: bool = True) -> dict[str, str]:
    """County-level codes (not ending in 00) → names: what a citizen ID's area part is."""
    return {c: n for c, (n, in_use) in _table().items()
            if not c.endswith("00") and (in_use or not current_only)}
