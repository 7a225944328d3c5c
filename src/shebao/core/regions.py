"""GB/T 2260 administrative division codes: structure, parents and names.

A code is six digits PP CC XX. The parent chain is structural (310104 → 310100 → 310000 →
national), which is what parameter inheritance and staff region scopes need; names come from
python-stdnum's bundled table of area codes when it knows them.
"""
from __future__ import annotations

import re
from functools import lru_cache

NATIONAL = "national"
_CODE = re.compile(r"^\d{6}$")


def is_region_code(code: str) -> bool:
    return code == NATIONAL or bool(_CODE.match(str(code)))


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
def _names() -> dict[str, str]:
    import importlib.resources as res

    names: dict[str, str] = {}
    try:
        text = res.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError):  # pragma: no cover - stdnum ships it
        return names
    for line in text.splitlines():
        if not line or line[0] == " " or line[0] == "#":
            continue
        code, _, rest = line.partition(" ")
        m = re.search(r'county="([^"]*)"', rest)
        p = re.search(r'prefecture="([^"]*)"', rest)
        pr = re.search(r'province="([^"]*)"', rest)
        label = "".join(x.group(1) for x in (pr, p, m) if x)
        names[code] = label
    return names


def name(code: str) -> str | None:
    if code == NATIONAL:
        return "全国"
    return _names().get(code)


def known(code: str) -> bool:
    return code == NATIONAL or code in _names()


def all_known_codes() -> list[str]:
    return sorted(_names())
