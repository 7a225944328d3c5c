"""Exports of the reports: XLSX workbooks (openpyxl) and PNG charts (matplotlib, Agg, Chinese
text in WenQuanYi Micro Hei). Money is written as yuan with two decimals from integer fen —
the fen are exact in the workbook's numbers (no float arithmetic before the division)."""
from __future__ import annotations

import io
import os
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from . import model  # noqa: E402

_FONT_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",)
_FONTS = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "DejaVu Sans"]
MONEY = ("collection", "subsidy", "benefits", "surplus", "balance")


def fonts() -> list[str]:
    """The font families to draw Chinese with (registers WenQuanYi Micro Hei from its file when
    matplotlib's font cache predates the font package)."""
    for f in _FONT_FILES:
        if os.path.exists(f):
            try:
                font_manager.fontManager.addfont(f)
            except (OSError, RuntimeError):
                pass
    have = {f.name for f in font_manager.fontManager.ttflist}
    return [f for f in _FONTS if f in have] or ["DejaVu Sans"]


def yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(int(fen)).scaleb(-2)


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def monthly_xlsx(report: dict) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = report["month"]
    ws.append([f"月度统计报表 {report['region']} {report['month']}"])
    ws.append(["险种 scheme", "参保人数 insured", "征收 collection", "财政补贴 subsidy",
               "待遇支出 benefits", "当期结余 surplus", "基金结余 balance"])
    for r in report["rows"] + [report["total"]]:
        ws.append([r["scheme"], r["insured"]] + [yuan(r[c]) for c in MONEY])
    for row in ws.iter_rows(min_row=3, min_col=3):
        for cell in row:
            cell.number_format = "#,##0.00"
    return _save(wb)


def statement_xlsx(st: dict, variance: list[dict] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "fund statement"
    ws.append([f"基金收支表 {st['region']} {st['scheme']} {st['from']} – {st['to']}"])
    ws.append(["项目 line", "类别 side", "金额 amount (元)"])
    ws.append(["期初结余 opening balance", "", yuan(st["opening"])])
    for ln in st["lines"]:
        ws.append([ln["title"], ln["side"], yuan(ln["amount"])])
    ws.append(["当期结余 surplus", "", yuan(st["surplus"])])
    ws.append(["不含财政补贴 surplus excl. subsidy", "", yuan(st["surplus_excluding_subsidy"])])
    ws.append(["期末结余 closing balance", "", yuan(st["closing"])])
    ws.append(["净资产 net assets", "", yuan(st["net_assets"])])
    ws.append(["与总账核对 ties out to the ledger", "", "yes" if st["ties_out"] else "NO"])
    if variance:
        vs = wb.create_sheet("budget vs final")
        vs.append(["项目 line", "预算 budget", "决算 actual", "差额 difference", "执行率 ‰"])
        for v in variance:
            vs.append([v["title"], yuan(v["budget"]), yuan(v["actual"]),
                       yuan(v["difference"]), v["execution_permille"]])
    return _save(wb)


def series_png(series: list[dict], title: str) -> bytes:
    """Collection, benefits (bars) and the fund balance (line) by month, in yuan."""
    fam = fonts()
    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot(1, 1, 1)
    months = [s["month"] for s in series]
    x = range(len(months))
    ax.bar([i - 0.2 for i in x], [s["collection"] / 100 for s in series], width=0.4,
           label="征收 collection")
    ax.bar([i + 0.2 for i in x], [s["benefits"] / 100 for s in series], width=0.4,
           label="待遇支出 benefits")
    ax2 = ax.twinx()
    ax2.plot(list(x), [s["balance"] / 100 for s in series], color="black", marker="o",
             label="基金结余 balance")
    ax.set_xticks(list(x))
    ax.set_xticklabels(months, rotation=45, fontsize=7, family=fam)
    ax.set_title(title, family=fam)
    ax.legend(loc="upper left", prop={"family": fam, "size": 8})
    ax2.legend(loc="upper right", prop={"family": fam, "size": 8})
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


__all__ = ["fonts", "monthly_xlsx", "statement_xlsx", "series_png", "yuan", "model"]
