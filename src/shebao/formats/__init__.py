"""Bank file formats: bytes ⇄ plain records, with XSD validation. Imports no bureau.

``iso20022`` (schema validation), ``pain008`` (direct debits), ``pain001`` (credit transfers),
``camt053`` (account statements: credits received, payments booked or returned),
``receipts_csv`` and ``returns_csv`` (the banks' CSV alternatives). The bureaus map the
records to their own objects (collection: receipts; benefits: payment outcomes).
"""
