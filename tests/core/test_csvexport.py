"""core.csvexport: formula-safe cells, a BOM, one line per row, streamed."""

import csv
import io
from decimal import Decimal

import pytest

from core.csvexport import csv_safe, response, stream


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Normal = fine", "Normal = fine"),
        ("a-b", "a-b"),
        ("", ""),
        (None, ""),
        (12, "12"),
        (-5, "-5"),
        (Decimal("-1.50"), "-1.50"),
        ("-5", "'-5"),
        (True, "True"),
    ],
)
def test_csv_cell_that_a_spreadsheet_would_run_is_text(value, safe):
    assert csv_safe(value) == safe


def test_csv_stream_is_a_bom_then_the_header_then_one_line_per_row():
    chunks = list(stream(["Name", "=bad"], [["a", 1], ["=cmd()", "x,y"]]))

    assert chunks[0] == "\ufeff"
    assert len(chunks) == 4  # one chunk per line: streamed
    rows = list(csv.reader(io.StringIO("".join(chunks[1:]))))
    assert rows == [["Name", "'=bad"], ["a", "1"], ["'=cmd()", "x,y"]]


def test_csv_response_is_a_streamed_attachment():
    r = response(["A"], iter([["1"]]), filename="x.csv")

    assert r.streaming
    assert r["Content-Type"] == "text/csv; charset=utf-8"
    assert r["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert b"".join(r.streaming_content).decode("utf-8") == "\ufeffA\r\n1\r\n"
