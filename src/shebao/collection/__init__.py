"""Collection bureau: base declarations, the monthly five-in-one assessment, bills, collection
through commissioned banks (pain.008 out, camt.053/CSV in), reconciliation, arrears.

Modules: ``model`` (pure domain: amounts, the assessment's arithmetic, allocation of receipts,
late fees), ``tables``, ``declarations`` and ``bills`` (one audited action each), ``assess``
(the set-based, resumable monthly run), ``bank`` (files out and in), ``receipts`` (applying
a file's receipts: matching, writes, ledger postings), ``suspense`` (the clerk's queue),
``latefee``, ``reconcile``, ``arrears``; ``queries`` (the only way others read collection's
tables) and ``access`` (the scope checks the channels call first). The CLI is
``channels/cli/collection.py``; demo and bench data are in ``devtools``.

Design decisions (and why):

* **Accrual.** The assessment posts the receivable: Dr receivable_employer (employer and
  withheld employee shares) or receivable_individual (flexible workers, residents), Cr the
  pooled fund (one aggregated line per region × scheme × chunk) and Cr each person's
  individual account. Bank receipts settle the receivables (Dr bank_transit, Cr receivable)
  and the bank transfers them to the fund's special account (Dr fund_bank, Cr bank_transit).
  So "receivable vs collected vs posted" is three independent records that must agree, and
  outstanding receivables are the ledger balance. (Many agencies credit individual accounts
  only on payment — 欠费不记账; switching is a change of ``model.assessment_batch`` and
  ``receipts.apply_receipts`` only.)
* **Wide assessment rows.** One ``contribution`` row per person × payer × run with one
  column per (scheme, side, account): a million-person month is a million rows, not ten.
* **Differences, not overwrites.** Every run writes what differs from the sum of the
  earlier runs of the region × month; re-running writes nothing; a late declaration writes
  one row; the ledger gets exactly that difference.
* **Partial payments** fill a bill's lines in scheme order (pension, medical,
  unemployment, injury, maternity); money beyond the bill, or matching no bill, goes to
  the suspense account of ``collection.collection_account.suspense_scheme``.
"""
