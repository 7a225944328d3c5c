"""Every unverified medical / resident parameter is listed in the parameters' README."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3] / "src" / "shebao" / "rules" / "parameters"
FAMILIES = ("medical.", "resident.", "contribution.flexible.medical",
            "service.items.medical.", "service.items.residents.")


def _unverified():
    for path in sorted(ROOT.rglob("*.yaml")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        conf = str((doc.get("metadata") or {}).get("confidence", ""))
        if name.startswith(FAMILIES) and ("unverified" in conf or "[M]" in conf):
            yield name, conf


def test_unverified_values_are_listed_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = list(_unverified())
    assert len(found) >= 10
    missing = [n for n, _ in found if f"`{n}`" not in readme]
    assert not missing, f"list these unverified parameters in {ROOT / 'README.md'}: {missing}"

