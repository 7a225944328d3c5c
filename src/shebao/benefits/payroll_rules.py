"""Who the monthly pension payroll pays, and how: the payroll's rules as a pure function
(numpy, no database) — the readable, unit-tested twin of the SQL that ``payroll.run`` executes
per chunk (``payroll._CHUNK``). tests/service/benefits/test_payroll_twin.py runs the real
chunk on both databases and asserts the two agree person by person.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .model import _date            # a date, or a database's ISO text of one


@dataclass(frozen=True)
class PayrollLines:
    """One month's payroll over the awards given (aligned arrays, one row per award)."""
    person_id: np.ndarray
    in_run: np.ndarray              # bool: the award is paid or held this month
    payable: np.ndarray             # bool: a payment is written
    held: np.ndarray                # bool: in the run, but no bank account
    amount_fen: np.ndarray          # amount in force (as given)
    account_share_fen: np.ndarray   # paid out of the individual account


def payroll_lines(month: dt.date, person_id, amount_fen, account_part_fen, balance_fen,
                  has_bank, death_date, merged, certifications, paid_this_month,
                  start_month=None, suspensions=None) -> PayrollLines:
    """Who is paid for ``month`` and how, over a region's active awards: the pure twin of
    the payroll chunk's SQL (``payroll._CHUNK``; tests/service/benefits/
    test_payroll_twin.py checks the two agree person by person).

    An award is *in the run* unless
      * it starts after the month;
      * the person is merged into another record (the survivor is paid);
      * the person died before the month: a death in month M is paid for M and stopped
        from M+1 (the month rule is local: rules-2.md §5);
      * a failed living certification dated before the month is not followed by a passed
        one (any later date): not certified → suspend, certified later → resume
        (rules-2.md §5, 人社部发〔2015〕32号 art. 49);
      * the award is suspended for the month (``benefits.awards.suspend_awards``: from a
        month until resumed, ``suspensions`` per award a sequence of (from, to or None));
      * a live payment (computed, sent, paid) for the person and month exists: nobody is
        paid twice.
    Of those in the run, one without a bank account is *held*; one with a bank account and
    an amount > 0 is *payable*. The individual account pays first and the pooled fund once
    it is exhausted: account share = min(account part, max(balance, 0)), the balance being
    the ledger's individual account, stored credit-normal (negative = money in it).

    ``amount_fen``/``account_part_fen``: the award's amounts in force for the month;
    ``balance_fen``: the stored balance, 0 without an account; ``death_date``: a date or
    None; ``certifications``: per award, a sequence of (checked_on, passed);
    ``paid_this_month``: bool per award."""
    month = month.replace(day=1)
    pid = np.asarray(person_id, dtype=np.int64)
    amount = np.asarray(amount_fen, dtype=np.int64)
    part = np.asarray(account_part_fen, dtype=np.int64)
    balance = -np.asarray(balance_fen, dtype=np.int64)          # credit-normal → money in it
    bank = np.asarray(has_bank, dtype=bool)
    starts = [month] * len(pid) if start_month is None else start_month
    susp = [()] * len(pid) if suspensions is None else suspensions
    in_run = np.array([
        _date(s) <= month and not m and (d is None or _date(d) >= month)
        and not _suspended(c, month) and not paid
        and not any(_date(f) <= month and (t is None or _date(t) > month) for f, t in sp)
        for s, d, m, c, paid, sp in zip(starts, death_date, merged, certifications,
                                        paid_this_month, susp)], dtype=bool).reshape(len(pid))
    share = np.minimum(part, np.maximum(balance, 0))
    return PayrollLines(pid, in_run, in_run & bank & (amount > 0), in_run & ~bank, amount,
                        share)


def _suspended(certifications, month: dt.date) -> bool:
    """A failed certification before ``month`` that no later passed one resolves."""
    certs = [(_date(on), bool(ok)) for on, ok in certifications]
    return any(not ok and on < month and not any(ok2 and on2 > on for on2, ok2 in certs)
               for on, ok in certs)
