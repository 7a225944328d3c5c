"""Ledger: one double-entry ledger for every fund, enforced by the database.

See ``service`` for the API collection and payroll call, ``model`` for the request types,
``interest`` for annual crediting, ``check`` for the invariants (``shebao ledger check``).
"""
