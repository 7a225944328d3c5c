"""Ledger: one double-entry ledger for every fund, enforced by the database.

``service`` is the public API (one name for what collection, payroll and the channels call);
behind it ``chart`` opens accounts, ``posting`` posts, reverses and keys requests,
``queries`` reads accounts, balances and statements (also for other packages); ``model``
holds the request types, ``interest`` annual crediting, ``check`` the invariants
(``shebao ledger check``).
"""
