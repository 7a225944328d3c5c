"""Benefits bureau: pension determination and payroll, and the benefit calculators
(pension, unemployment, injury, maternity, transfer).

``formulas`` holds the vectorised, exact arithmetic (integer fen, rationals, rounded once per
part by ``core.money.round_half_up``); ``calculators`` registers the ``shebao calc`` entries;
``determination``, ``indexation`` and ``payroll`` (with ``camt053`` for bank returns) hold the
audited use cases. ``history`` is the one source of truth for a person's contribution record
(legacy ``pension_history`` ∪ the pension months shebao's collection bureau assessed and
collected in full, each month once); ``demo`` is the pension stage of ``shebao demo``.
"""
