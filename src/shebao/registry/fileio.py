"""Reading import files (CSV in UTF-8 or GB18030, XLSX) and writing error files.

Whole-file problems (unreadable encoding, unknown or missing columns, oversized file, an ID
column that Excel stored as numbers) raise :class:`InputError` naming the file; per-row
problems are collected by the importers as :class:`Problem` (row, column, value, reason).
Row numbers are the file's own: the header is row 1, the first data row is row 2.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from shebao.core import csvsafe
from shebao.core.errors import InputError

MAX_BYTES = 512 * 1024 * 1024     # 512 MiB
MAX_ROWS = 5_000_000


@dataclass
class Problem:
    row: int
    column: str
    value: object
    reason: str

    def as_json(self) -> dict:
        return {"row": self.row, "column": self.column, "value": _s(self.value),
                "reason": self.reason}

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column!r}, value {_s(self.value)!r}: {self.reason}"


def _s(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)


@dataclass
class Sheet:
    path: Path
    columns: list[str]                 # canonical names, in file order
    raw_header: list[str]
    rows: list[list[str | None]]       # cell text; None for empty
    row_numbers: list[int]             # the file's row number of each entry of ``rows``
    encoding: str
    sha256: str
    extra: dict = field(default_factory=dict)

    def records(self) -> list[dict]:
        cols = self.columns
        return [dict(zip(cols, r)) for r in self.rows]


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """Bytes → (text, encoding). UTF-8 (with or without BOM) first, then GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise InputError(f"has a UTF-8 byte-order mark but invalid UTF-8 at byte "
                             f"{exc.start + 3}", file=str(path)) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        guess = None
        try:
            from charset_normalizer import from_bytes

            best = from_bytes(data[:200_000]).best()
            guess = best.encoding if best else None
        except Exception:  # noqa: BLE001 - detection is only a hint for the message
            pass
        raise InputError(
            f"cannot be read as UTF-8 or GB18030 (invalid byte at offset {exc.start}"
            f"{'; looks like ' + guess if guess else ''}); save it as UTF-8 or GB18030",
            file=str(path)) from None


def _cell(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    s = str(v).strip()
    return s or None


def read_sheet(path, aliases: dict[str, str], required: set[str],
               numeric_unsafe: set[str] = frozenset()) -> Sheet:
    """Read a CSV or XLSX file and map its header to canonical column names.

    ``aliases`` maps every accepted header (lower-cased; English and Chinese) to a canonical
    name; any other header is refused. ``numeric_unsafe``: columns (IDs, accounts) that must
    not arrive as Excel numbers (digits beyond 15 are lost, the X check character too).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path))
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputError(f"file is {size // (1024 * 1024)} MiB; the limit is "
                         f"{MAX_BYTES // (1024 * 1024)} MiB — split it", file=str(path))
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise InputError("file is empty", file=str(path))
    suffix = path.suffix.lower()
    numeric_cells: list[tuple[int, int, object]] = []
    overlong: set[int] = set()
    row_numbers: list[int] = []
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any failure means "not a readable workbook"
            raise InputError(f"not a readable XLSX workbook ({exc.__class__.__name__})",
                             file=str(path)) from None
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header_cells = next(it, None) or ()
        raw_header = [_cell(h) or "" for h in header_cells]
        rows: list[list[str | None]] = []
        unsafe_idx = None
        for rn, r in enumerate(it, start=2):
            if unsafe_idx is None:
                unsafe_idx = [i for i, h in enumerate(raw_header)
                              if aliases.get(h.strip().lower()) in numeric_unsafe]
            if r is None or all(c is None for c in r):
                continue
            for i in unsafe_idx:
                if i < len(r) and isinstance(r[i], (int, float)) and not isinstance(r[i], bool):
                    numeric_cells.append((rn, i, r[i]))
            row_numbers.append(rn)
            rows.append([_cell(c) for c in r[:len(raw_header)]]
                        + [None] * max(0, len(raw_header) - len(r)))
            if len(rows) > MAX_ROWS:
                raise InputError(f"more than {MAX_ROWS} rows; split the file", file=str(path))
        wb.close()
        encoding = "xlsx"
    elif suffix in (".csv", ".txt", ""):
        text, encoding = decode(data, path)
        reader = csv.reader(io.StringIO(text, newline=""))
        raw_header = [h.strip() for h in next(reader, [])]
        rows = []
        for r in reader:
            if not r or all(not c.strip() for c in r):
                continue
            if len(r) > len(raw_header) and any(c.strip() for c in r[len(raw_header):]):
                overlong.add(reader.line_num)
            row_numbers.append(reader.line_num)
            rows.append([(c.strip() or None) for c in r[:len(raw_header)]]
                        + [None] * max(0, len(raw_header) - len(r)))
            if len(rows) > MAX_ROWS:
                raise InputError(f"more than {MAX_ROWS} rows; split the file", file=str(path))
    else:
        raise InputError(f"unsupported file type {suffix!r}: use .csv or .xlsx", file=str(path))
    if not raw_header or not any(raw_header):
        raise InputError("has no header row", file=str(path))
    columns = []
    for h in raw_header:
        key = h.strip().lower().lstrip("\ufeff")
        if key not in aliases:
            allowed = sorted(set(aliases.values()))
            raise InputError(f"unknown column {h!r}; expected columns: {', '.join(allowed)}",
                             file=str(path), field=h)
        columns.append(aliases[key])
    dup = {c for c in columns if columns.count(c) > 1}
    if dup:
        raise InputError(f"column(s) {sorted(dup)} given more than once", file=str(path))
    missing = required - set(columns)
    if missing:
        raise InputError(f"missing required column(s): {', '.join(sorted(missing))}",
                         file=str(path))
    if numeric_cells:
        rn, i, v = numeric_cells[0]
        raise InputError(
            f"column {raw_header[i]!r} holds numbers, not text ({len(numeric_cells)} cells, "
            f"first at row {rn}: {v!r}); Excel drops digits after the 15th and the X check "
            f"character — format the column as text and re-export", file=str(path),
            field=raw_header[i], row=rn)
    return Sheet(path, columns, raw_header, rows, row_numbers, encoding, sha,
                 {"overlong": overlong})


def error_file_path(path: Path) -> Path:
    return path.with_name(path.stem + ".errors.csv")


def write_error_file(sheet: Sheet, problems: list[Problem]) -> Path | None:
    """Rejected rows, with their reasons, beside the input (UTF-8 with BOM for Excel)."""
    out = error_file_path(sheet.path)
    if not problems:
        if out.exists():
            out.unlink()
        return None
    by_row: dict[int, list[Problem]] = {}
    for p in problems:
        by_row.setdefault(p.row, []).append(p)
    index = {rn: i for i, rn in enumerate(sheet.row_numbers)}
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csvsafe.writer(fh)
        w.writerow(["row", "column", "value", "reason", *sheet.raw_header])
        for rn in sorted(by_row):
            orig = sheet.rows[index[rn]] if rn in index else []
            ps = by_row[rn]
            w.writerow([rn, "; ".join(p.column for p in ps),
                        "; ".join(_s(p.value) for p in ps), "; ".join(p.reason for p in ps),
                        *[c if c is not None else "" for c in orig]])
    return out


def parse_date_cell(v: str | None) -> dt.date | None:
    """``2024-05-01``, ``2024/5/1``, ``20240501`` or ``2024年5月1日`` → date; raises ValueError."""
    if v is None:
        return None
    s = v.strip().replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-")
    if "T" in s:
        s = s.split("T", 1)[0]
    if len(s) == 8 and s.isdigit():
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    parts = s.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError("not a date (use YYYY-MM-DD)")
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise ValueError("not a real calendar date") from None
