"""Benefits bureau: pension determination and payroll, and the benefit calculators
(pension, unemployment, injury, maternity, transfer).

``formulas`` holds the vectorised, exact arithmetic (integer fen, rationals, rounded once per
part by ``core.money.round_half_up``); ``calculators`` registers the ``shebao calc`` entries;
``service`` (determination), ``payroll`` and ``bankreturns`` hold the audited use cases.
"""
