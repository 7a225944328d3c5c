"""Law as data: dated, regional parameters (YAML), a strict loader, vectorised formulas and
the calculators built on them. Code never holds a literal rate: it asks the rules.

    from shebao.rules import load_rules
    rules = load_rules()
    rules.value("contribution.pension.employer_rate", "310104", date(2025, 8, 1))  # Decimal("0.16")
    rules.lookup(...)  # the same with unit, region inherited from, effective date, reference
"""
from .loader import Resolved, Rules, load_rules, load_tree

__all__ = ["Resolved", "Rules", "load_rules", "load_tree"]
