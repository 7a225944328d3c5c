import csv
import io

from shebao.core import csvsafe


def test_formula_cells_are_neutralised_and_numbers_kept():
    fh = io.StringIO()
    w = csvsafe.writer(fh)
    w.writerow(['=HYPERLINK("http://evil.example","x")', "=cmd|' /C calc'!A0", "+1+1", "-2+3",
                "@SUM(A1)", "\tx", "\rx", "张伟", "-12.50", "+3", "1000.00", 7, None])
    row = next(csv.reader(io.StringIO(fh.getvalue())))
    assert row[:7] == ["'=HYPERLINK(\"http://evil.example\",\"x\")", "'=cmd|' /C calc'!A0",
                       "'+1+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx"]
    assert row[7:] == ["张伟", "-12.50", "+3", "1000.00", "7", ""]
