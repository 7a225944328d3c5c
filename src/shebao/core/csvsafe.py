"""CSV files that clerks open in a spreadsheet (import error files, bill exports).

A text cell starting with ``=``, ``+``, ``-``, ``@``, TAB or CR is read by spreadsheets as a
formula (``=HYPERLINK(…)``, ``=cmd|…``), so such cells get a leading ``'``. Plain numbers
(``-12.50``) stay as they are: amount columns must remain numbers. Bank files (``formats/``)
are machine-read and do not use this.
"""
from __future__ import annotations

import csv
import re

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def cell(value):
    """``value`` made safe to open in a spreadsheet; non-text values pass unchanged."""
    if (isinstance(value, str) and value.startswith(_FORMULA_START)
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


class _Writer:
    def __init__(self, fh, **kw):
        self._w = csv.writer(fh, **kw)

    def writerow(self, row):
        return self._w.writerow([cell(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(fh, **kw) -> _Writer:
    """``csv.writer`` whose text cells are neutralised by :func:`cell`."""
    return _Writer(fh, **kw)
