"""A benefit decision notice (``benefits.notices.decision_notice``) printed as a PDF."""
from __future__ import annotations

import textwrap

from .pdf import text_pdf

WIDTH = 60          # characters a line on A4 at the notice's font size (CJK counts double)


def _wrap(line: str) -> list[str]:
    width = WIDTH // 2 if any(ord(ch) > 0x2e80 for ch in line) else WIDTH + 30
    return textwrap.wrap(line, width) or [""]


def notice_pdf(notice) -> bytes:
    rows = [[part] for line in notice.lines for part in _wrap(line)]
    return text_pdf(notice.title, [], rows[:-1] if len(rows) > 1 else rows,
                    rows[-1][0] if len(rows) > 1 else "")
