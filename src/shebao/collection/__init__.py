"""Collection bureau: base declarations, the monthly five-in-one assessment, bills, collection
through commissioned banks (pain.008 out, camt.053/CSV in), reconciliation, arrears.

Modules: ``model`` (pure domain), ``tables``, ``service`` (declarations, bills: one audited
action each), ``assess`` (the set-based, resumable monthly run), ``bank`` (files out and in,
matching, ledger postings), ``reconcile``, ``arrears``, ``demo`` (``run_months``), ``cli``.
"""
