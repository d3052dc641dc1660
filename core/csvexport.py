"""Streamed CSV exports, safe to open in a spreadsheet.

``csv_safe`` neutralises formula injection (OWASP "CSV injection"): a cell that a spreadsheet
would read as a formula — starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return —
gets a leading apostrophe, so it is shown as text and never run; a number the code itself
computed (int, float, Decimal) is written as it is, so ``-5`` stays a number. ``stream`` yields
a UTF-8 byte order mark (Excel then reads Chinese text right), the header and each row as CSV
lines, one at a time: with a ``StreamingHttpResponse`` and a queryset ``.iterator()`` memory
stays flat.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

from django.http import StreamingHttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class _Echo:
    """A file-like object whose ``write`` returns the line: ``csv.writer`` then yields rows."""

    def write(self, value: str) -> str:
        return value


def stream(header: Sequence[object], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow([csv_safe(v) for v in header])
    for row in rows:
        yield writer.writerow([csv_safe(v) for v in row])


def response(
    header: Sequence[object], rows: Iterable[Sequence[object]], *, filename: str
) -> StreamingHttpResponse:
    """A streamed CSV download named ``filename``."""
    r = StreamingHttpResponse(stream(header, rows), content_type="text/csv; charset=utf-8")
    r["Content-Disposition"] = f'attachment; filename="{filename}"'
    r["Cache-Control"] = "private, no-store"
    return r
