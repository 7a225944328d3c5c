"""The one vocabulary of schemes, payers and accounts.

Every package names schemes, person kinds, payer types and ledger account kinds with these
words, in these orders (the orders matter: collection allocates a partial payment to the
schemes in ``COLLECTED_SCHEMES`` order). What the law says about a scheme — who pays it,
into which account, at what rate, from when — is data: the ``contribution.schemes``
parameter and the rate parameters under ``rules/parameters``; this module only fixes the
names.
"""
from __future__ import annotations

from .errors import InputError

# Every insurance scheme a person can be enrolled in and the ledger keeps a fund for.
SCHEMES = ("pension", "medical", "unemployment", "injury", "maternity",
           "resident_pension", "resident_medical")
# The five insurances of an employee ("五险"), assessed on the declared wage base.
EMPLOYEE_SCHEMES = ("pension", "medical", "unemployment", "injury", "maternity")
# What a flexibly employed person (灵活就业) may join.
FLEXIBLE_SCHEMES = ("pension", "medical")
# The resident schemes collection bills: the pension (a tier chosen per year) and medical (a
# fixed individual contribution per year, ``resident.medical_contribution``).
RESIDENT_SCHEME = "resident_pension"
RESIDENT_MEDICAL = "resident_medical"
# The schemes collection assesses and bills, in allocation priority order.
COLLECTED_SCHEMES = EMPLOYEE_SCHEMES + (RESIDENT_SCHEME, RESIDENT_MEDICAL)
# Schemes whose members hold one individual account each (个人账户); the resident pension's
# account is divided by 139 at award (国发〔2014〕8号).
INDIVIDUAL_SCHEMES = ("pension", "medical", "resident_pension")

# Person kinds (how a person is insured) and who pays for each.
PERSON_KINDS = ("employee", "flexible", "resident", "student")
PAYER_TYPES = {"E": "employer", "F": "flexible", "R": "resident"}
KIND_PAYER = {"employee": "E", "flexible": "F", "resident": "R"}

# The ledger's account kinds of one region × scheme (the chart), then the per-person one.
CHART_ACCOUNT_KINDS = ("pooled_fund", "fund_bank", "bank_transit", "receivable_employer",
                       "receivable_individual", "benefits_payable", "suspense",
                       "late_fee_income", "interest_credited", "transfer_clearing", "expenses",
                       "fiscal_subsidy", "fines_receivable", "fines_payable_treasury")
INDIVIDUAL_ACCOUNT = "individual"
ACCOUNT_KINDS = CHART_ACCOUNT_KINDS + (INDIVIDUAL_ACCOUNT,)


def check_scheme(scheme, field: str = "scheme") -> str:
    """``scheme`` if it is one of ``SCHEMES``; otherwise ``InputError`` naming ``field``."""
    if scheme not in SCHEMES:
        raise InputError(f"unknown scheme {scheme!r} (one of {', '.join(SCHEMES)})",
                         field=field, value=scheme)
    return scheme


__all__ = ["SCHEMES", "EMPLOYEE_SCHEMES", "FLEXIBLE_SCHEMES", "RESIDENT_SCHEME",
           "COLLECTED_SCHEMES", "RESIDENT_MEDICAL", "INDIVIDUAL_SCHEMES", "PERSON_KINDS", "PAYER_TYPES",
           "KIND_PAYER", "CHART_ACCOUNT_KINDS", "INDIVIDUAL_ACCOUNT", "ACCOUNT_KINDS",
           "check_scheme"]
