"""Benefits bureau: pension determination, indexation and payroll.

``model`` and ``record`` hold the plain data and pure rules (the case state machine and its
computation, the contribution record, bank outcomes); ``determination``, ``indexation``,
``payroll`` (run, approve), ``payouts`` (files, returns, re-issue) and ``life_events`` (proof
of life, overpayments) hold the audited use cases; ``queries`` the reads for the channels,
behind ``access``. ``history`` is the one source of truth for a
person's contribution record (legacy ``pension_history`` ∪ the pension months shebao's
collection bureau assessed and collected in full, each month once, read through
``collection.queries``). The benefit formulas and calculators (pension, unemployment,
injury, maternity, transfer) are law and live under ``rules/``.
"""
