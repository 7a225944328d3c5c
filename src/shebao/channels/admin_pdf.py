"""Printable documents of the administration (#18), through ``pdf.text_pdf``: the monthly
statistical report and a training certificate. Used by the CLI and the web alike."""
from __future__ import annotations

from shebao.core.money import fen_to_yuan_str
from shebao.reports import export

from . import pdf


def monthly_pdf(rep: dict) -> bytes:
    export.fonts()
    header = ["险种", "参保人数", "征收", "待遇支出", "基金结余"]
    rows = [[r["scheme"], str(r["insured"] if r["insured"] is not None else ""),
             fen_to_yuan_str(r["collection"]), fen_to_yuan_str(r["benefits"]),
             fen_to_yuan_str(r["balance"])] for r in rep["rows"] + [rep["total"]]]
    return pdf.text_pdf(f"月度统计报表 {rep['region']} {rep['month']}", header, rows,
                        "数据取自基金总账，已与总账核对一致 (tied out to the ledger)")


def certificate_pdf(c: dict) -> bytes:
    export.fonts()
    rows = [["持证人 Holder", c["holder_name"]], ["账号 Account", c["username"]],
            ["课程 Course", f"{c['course_code']} {c['course_title']}"],
            ["发证日期 Issued", c["issued_on"].isoformat()],
            ["有效期至 Valid until", c["valid_until"].isoformat()],
            ["验证码 Verification code", c["code"]]]
    return pdf.text_pdf("培训合格证书 Training certificate", ["", ""], rows,
                        f"在 /verify?code={c['code']} 验证本证书 (verify this certificate)")
