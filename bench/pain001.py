"""pain.001.001.09 for N payments: built and XSD-validated, streamed vs the one-string builder
it replaced (the baseline, copied below unchanged), in the same run.

    .venv/bin/python bench/pain001.py --payments 1000000 [--file-max 20000]

Each variant runs in a fresh child process (peak resident memory = its VmHWM) on the same
synthetic columns (1M distinct end-to-end ids and accounts, Chinese names, amounts in fen):

* ``baseline``: the earlier ``formats.pain001.build`` — the whole document as one string,
  parsed into a tree and validated against the XSD, then written;
* ``streamed``: ``formats.pain001.write_file`` — a block of 20,000 payments at a time, a
  column at a time, written and fed to a validating pull parser that drops each payment once
  checked; one file per ``--file-max`` payments, as ``benefits.payouts.release`` writes them
  (``--file-max 0``: one file for all).

Both are checked to produce the same bytes (sha256 of the first file). Prints the figures and
writes them to ``bench/results/pain001.json``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import loadavg, save  # noqa: E402

CREATED = dt.datetime(2025, 11, 1, 8, 0, 0)
DAY = dt.date(2025, 11, 5)


def columns(n: int):
    e2e = [f"PY123-310104-2025-11-{i}" for i in range(n)]
    names = [("张三丰", "李四", "王五", "欧阳娜娜", "赵六")[i % 5] for i in range(n)]
    banks = [("中国工商银行上海分行", "中国建设银行", "中国农业银行")[i % 3] for i in range(n)]
    accounts = [f"6222{i:015d}" for i in range(n)]
    amounts = [150_000 + (i * 7919) % 750_000 for i in range(n)]
    return e2e, names, banks, accounts, amounts


def _t(s) -> str:
    return escape(str(s if s is not None else ""))


def baseline_build(msg_id, debtor, execution_date, e2e, names, banks, accounts, amounts_fen,
                   remittance, created):
    """formats/pain001.build before streaming (commit 86fd311), unchanged."""
    from shebao.core.money import fen_to_yuan_str
    from shebao.formats.iso20022 import validate
    from shebao.formats.pain001 import NS
    n = len(e2e)
    ctrl = fen_to_yuan_str(sum(int(a) for a in amounts_fen))
    head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NS}"><CstmrCdtTrfInitn>'
            f'<GrpHdr><MsgId>{_t(msg_id)}</MsgId><CreDtTm>{created.strftime("%Y-%m-%dT%H:%M:%S")}'
            f'</CreDtTm><NbOfTxs>{n}</NbOfTxs><CtrlSum>{ctrl}</CtrlSum><InitgPty><Nm>'
            f'{_t(debtor.name)}</Nm></InitgPty></GrpHdr>'
            f'<PmtInf><PmtInfId>{_t(msg_id)}</PmtInfId><PmtMtd>TRF</PmtMtd><NbOfTxs>{n}</NbOfTxs>'
            f'<CtrlSum>{ctrl}</CtrlSum><ReqdExctnDt><Dt>{execution_date.isoformat()}</Dt>'
            f'</ReqdExctnDt><Dbtr><Nm>{_t(debtor.name)}</Nm></Dbtr><DbtrAcct><Id><Othr><Id>'
            f'{_t(debtor.account)}</Id></Othr></Id><Ccy>CNY</Ccy></DbtrAcct><DbtrAgt><FinInstnId>'
            f'<Nm>{_t(debtor.bank_name)}</Nm></FinInstnId></DbtrAgt>')
    rmt = _t(remittance)
    parts = [head]
    for ref, nm, bank, acct, amt in zip(e2e, names, banks, accounts, amounts_fen):
        parts.append(
            f'<CdtTrfTxInf><PmtId><EndToEndId>{_t(ref)}</EndToEndId></PmtId><Amt>'
            f'<InstdAmt Ccy="CNY">{fen_to_yuan_str(int(amt))}</InstdAmt></Amt><CdtrAgt>'
            f'<FinInstnId><Nm>{_t(bank)}</Nm></FinInstnId></CdtrAgt><Cdtr><Nm>{_t(nm)}</Nm>'
            f'</Cdtr><CdtrAcct><Id><Othr><Id>{_t(acct)}</Id></Othr></Id></CdtrAcct><Purp><Cd>PENS'
            f'</Cd></Purp><RmtInf><Ustrd>{rmt}</Ustrd></RmtInf></CdtTrfTxInf>')
    parts.append("</PmtInf></CstmrCdtTrfInitn></Document>\n")
    data = "".join(parts).encode("utf-8")
    validate(data, "pain.001.001.09")
    return data


def _peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _child(variant, n, file_max, out, q):
    from shebao.formats import pain001
    debtor = pain001.Debtor("社会保险基金支出户", "31050161393600000001", "中国建设银行上海分行")
    cols = columns(n)
    step = file_max or n
    t0 = time.perf_counter()
    shas, size = [], 0
    for part, i in enumerate(range(0, n, step), start=1):
        sl = [c[i:i + step] for c in cols]
        path = Path(out) / f"{variant}-{part}.pain.001.xml"
        if variant == "baseline":
            data = baseline_build(f"M-{part}", debtor, DAY, *sl, "养老金 2025-11", CREATED)
            path.write_bytes(data)
            shas.append(hashlib.sha256(data).hexdigest())
            size += len(data)
            del data
        else:
            info = pain001.write_file(path, f"M-{part}", debtor, DAY, *sl, "养老金 2025-11",
                                      CREATED)
            shas.append(info["sha256"])
            size += info["bytes"]
        path.unlink()
    q.put({"seconds": time.perf_counter() - t0, "files": len(shas), "bytes": size,
           "sha256_first": shas[0], "sha256_all": hashlib.sha256("".join(shas).encode()).hexdigest(),
           "peak_rss_mib": round(_peak_mib(), 1)})


def run(variant, n, file_max, out) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(variant, n, file_max, out, q))
    p.start()
    res = q.get()
    p.join()
    if p.exitcode:
        raise SystemExit(f"{variant} failed ({p.exitcode})")
    return res


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--payments", type=int, default=100_000)
    ap.add_argument("--file-max", type=int, default=20_000,
                    help="payments per file (benefits.payouts.FILE_MAX_TX); 0 = one file")
    args = ap.parse_args(argv)
    before = loadavg()
    figures = {}
    with tempfile.TemporaryDirectory(prefix="pain001_bench_") as out:
        for variant in ("baseline", "streamed"):
            r = run(variant, args.payments, args.file_max, out)
            figures[variant] = r
            print(f"{variant:9s}: {args.payments:,} payments in {r['files']} file(s), "
                  f"{r['bytes'] / 1e6:,.0f} MB built + XSD-validated in {r['seconds']:.2f} s "
                  f"({args.payments / r['seconds']:,.0f}/s), peak RSS {r['peak_rss_mib']:.0f} MiB",
                  flush=True)
    same = figures["baseline"]["sha256_all"] == figures["streamed"]["sha256_all"]
    speed = figures["baseline"]["seconds"] / figures["streamed"]["seconds"]
    print(f"same bytes: {same}; streamed/baseline: x{speed:.2f} faster, memory "
          f"{figures['baseline']['peak_rss_mib']:.0f} → {figures['streamed']['peak_rss_mib']:.0f} "
          f"MiB; load average before {before} after {loadavg()}", flush=True)
    figures.update(payments=args.payments, file_max=args.file_max, same_bytes=same,
                   speedup=round(speed, 2))
    save("pain001", figures, load_before=before)
    if not same:
        raise SystemExit("streamed output differs from the baseline's")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
