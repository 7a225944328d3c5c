"""Printable statements as PDF (matplotlib, Agg; Chinese text with WenQuanYi Micro Hei)."""
from __future__ import annotations

import io
import os

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

_FONTS = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "DejaVu Sans"]
LINES_PER_PAGE = 40


# where Debian puts them (fonts-wqy-microhei, fonts-noto-cjk): registered by hand when
# matplotlib's font cache was built before the font was installed
_FONT_FILES = ["/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
               "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"]


def _family() -> list[str]:
    have = {f.name for f in font_manager.fontManager.ttflist}
    if not any(f in have for f in _FONTS[:2]):
        for path in _FONT_FILES:
            if os.path.exists(path):
                font_manager.fontManager.addfont(path)
        have = {f.name for f in font_manager.fontManager.ttflist}
    return [f for f in _FONTS if f in have] or ["DejaVu Sans"]


def text_pdf(title: str, header: list[str], rows: list[list[str]], footer: str) -> bytes:
    """A plain tabular document: title, one line per row, footer on the last page."""
    buf = io.BytesIO()
    fam = _family()
    pages = [rows[i:i + LINES_PER_PAGE] for i in range(0, max(len(rows), 1), LINES_PER_PAGE)]
    with PdfPages(buf, metadata={"Title": title, "Creator": "shebao"}) as pdf:
        for n, chunk in enumerate(pages, 1):
            fig = Figure(figsize=(8.27, 11.69))  # A4
            fig.text(0.07, 0.95, title, fontsize=14, family=fam)
            widths = [0.07, 0.22, 0.34, 0.56, 0.78]
            y = 0.91
            for x, h in zip(widths, header):
                fig.text(x, y, h, fontsize=9, family=fam)
            for row in chunk:
                y -= 0.02
                for x, cell in zip(widths, row):
                    fig.text(x, y, cell, fontsize=8.5, family=fam)
            if n == len(pages):
                fig.text(0.07, y - 0.04, footer, fontsize=10, family=fam)
            fig.text(0.5, 0.03, f"{n}/{len(pages)}", fontsize=8, family=fam, ha="center")
            pdf.savefig(fig)
    return buf.getvalue()
