"""Charts of the monitoring platform as PNG bytes (matplotlib, Agg, Chinese labels in
WenQuanYi Micro Hei when installed): the projection's balance and payable months per scenario,
and the payable months of each region × fund."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

_FONT = "WenQuanYi Micro Hei"


def _setup() -> None:
    names = {f.name for f in font_manager.fontManager.ttflist}
    if _FONT not in names:          # installed after matplotlib built its font cache
        for path in font_manager.findSystemFonts():
            if "wqy-microhei" in path.lower():
                font_manager.fontManager.addfont(path)
        names = {f.name for f in font_manager.fontManager.ttflist}
    if _FONT in names:
        plt.rcParams["font.sans-serif"] = [_FONT, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def projection_png(projections, title: str = "") -> bytes:
    """Two panels: the balance (亿元) and the payable months per scenario."""
    _setup()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for p in projections:
        years = p.column("year")
        ax1.plot(years, [b / 100 / 1e8 for b in p.column("balance_fen")], label=p.scenario)
        ax2.plot(years, [float(m) if m is not None else None for m in p.column("payable_months")],
                 label=p.scenario)
    ax1.set_title("基金累计结余（亿元） fund balance, 100m yuan")
    ax2.set_title("可支付月数 payable months")
    for ax in (ax1, ax2):
        ax.grid(alpha=.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return _png(fig)


def warnings_png(rows) -> bytes:
    """Bars of the payable months per region × fund, coloured by level."""
    _setup()
    rows = [r for r in rows if r["indicator"] == "payable_months" and r["value"] is not None]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    colours = {"ok": "#4caf50", "watch": "#ff9800", "alert": "#f44336"}
    labels = [f"{r['region']} {r['fund']}" for r in rows]
    ax.bar(labels, [float(r["value"]) for r in rows],
           color=[colours.get(r["level"], "#9e9e9e") for r in rows])
    ax.set_title("可支付月数 payable months by region and fund")
    ax.tick_params(axis="x", rotation=30, labelsize=8)
    ax.grid(axis="y", alpha=.3)
    return _png(fig)
