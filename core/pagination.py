"""Keyset ("seek") pagination for big tables.

``OFFSET n`` makes the database walk and throw away ``n`` rows, so page 4,000 of a shop's
million orders costs as much as reading them all — hence the old 10,000-row cap. A keyset page
starts where the last one ended instead: ``WHERE (placed_at, id) < (:last_placed, :last_id)
ORDER BY placed_at DESC, id DESC LIMIT 26`` is one index range scan at any depth.

The price: no "page 37 of 40000" — only first / previous / next. The cursor is the sort key
of the row at the page's edge, handed to the browser as an opaque token (``?after=`` or
``?before=``). A token is data from the outside: it is decoded through each model field's own
validation (range of integers, valid datetimes, no NUL bytes), and a bad one gives the first
page, never a 500. Tampering gains nothing: the queryset is already scoped to the shop.

The ordering must end in a unique column (``id``) so rows with equal sort keys are neither
skipped nor repeated, and all its columns go the same direction (a row-value comparison
``(a, b) < (x, y)``, which PostgreSQL serves from a matching index).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet

# Row-value comparison (a, b) < (x, y): Django's own lookups for composite keys; they fall
# back to the equivalent OR chain on a backend without row values.
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

AFTER = "after"
BEFORE = "before"
MAX_CURSOR_LENGTH = 1024


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class KeysetPage:
    object_list: list
    has_next: bool
    has_previous: bool
    next_cursor: str | None  # ?after= for the next page
    previous_cursor: str | None  # ?before= for the previous page; None: the first page

    def __iter__(self) -> Iterator:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


class KeysetPaginator:
    """Pages of ``queryset`` in its own ``order_by`` (or ``ordering``), ``per_page`` rows each.

    ``paginator.get_page(request.GET)`` reads ``after`` / ``before``; ``page(after=…)`` /
    ``page(before=…)`` take the tokens directly. Each page is one query (``per_page + 1`` rows:
    the extra row only tells whether there is a next page).
    """

    def __init__(
        self, queryset: QuerySet, *, per_page: int, ordering: Sequence[str] | None = None
    ) -> None:
        ordering = tuple(str(o) for o in (ordering or queryset.query.order_by))
        if not ordering:
            raise ValueError("keyset pagination needs an ordering ending in a unique column")
        descending = {o.startswith("-") for o in ordering}
        if len(descending) != 1:
            raise ValueError(f"all columns of a keyset ordering go one direction: {ordering}")
        self.descending = descending.pop()
        self.columns = tuple(o.lstrip("-") for o in ordering)
        model = queryset.model
        self.fields = [
            model._meta.pk if c == "pk" else model._meta.get_field(c) for c in self.columns
        ]
        if not (self.fields[-1].primary_key or self.fields[-1].unique):
            raise ValueError(f"the last column of a keyset ordering must be unique: {ordering}")
        self.queryset = queryset.order_by(*ordering)
        self.per_page = per_page

    # --- cursors ---------------------------------------------------------------------------

    def _cursor_of(self, obj) -> str:
        values = []
        for field in self.fields:
            value = getattr(obj, field.attname)
            values.append(value.isoformat() if isinstance(value, date | datetime) else value)
        raw = json.dumps(values, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, token: str) -> tuple[Any, ...]:
        """The sort-key values in ``token``; ``InvalidCursor`` for anything malformed."""
        if not token or len(token) > MAX_CURSOR_LENGTH:
            raise InvalidCursor("empty or overlong cursor")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            values = json.loads(raw)
        except (binascii.Error, ValueError, UnicodeDecodeError) as e:
            raise InvalidCursor("not a cursor") from e
        if not isinstance(values, list) or len(values) != len(self.fields):
            raise InvalidCursor("cursor of another ordering")
        out = []
        for field, value in zip(self.fields, values, strict=True):
            if value is None or isinstance(value, dict | list | bool | float):
                raise InvalidCursor("unexpected value in cursor")
            if isinstance(value, str) and "\x00" in value:
                raise InvalidCursor("NUL byte in cursor")
            try:
                python = field.to_python(value)
                field.run_validators(python)  # integers in the column's range, max_length
            except (ValidationError, TypeError, ValueError, OverflowError) as e:
                raise InvalidCursor("value out of range") from e
            if isinstance(python, datetime) and python.tzinfo is None:
                raise InvalidCursor("naive datetime in cursor")
            out.append(python)
        return tuple(out)

    # --- pages -----------------------------------------------------------------------------

    def _seek(self, qs: QuerySet, values: tuple, *, forward: bool) -> QuerySet:
        lhs = Tuple(*(F(c) for c in self.columns))
        # Forward in a descending list means smaller keys; backward, larger ones.
        smaller = forward == self.descending
        lookup = TupleLessThan if smaller else TupleGreaterThan
        return qs.filter(lookup(lhs, values))

    def page(self, *, after: str | None = None, before: str | None = None) -> KeysetPage:
        """The page after the ``after`` cursor, before the ``before`` cursor, or the first."""
        n = self.per_page
        values: tuple[Any, ...] | None = None
        if before:
            try:
                values = self.decode(before)
            except InvalidCursor:
                return self.page()
            reverse = [f"-{c}" if not self.descending else c for c in self.columns]
            rows = list(
                self._seek(self.queryset, values, forward=False).order_by(*reverse)[: n + 1]
            )
            has_previous = len(rows) > n
            rows = rows[:n][::-1]
            return KeysetPage(
                object_list=rows,
                has_next=True,
                has_previous=has_previous,
                next_cursor=self._cursor_of(rows[-1]) if rows else None,
                previous_cursor=self._cursor_of(rows[0]) if rows and has_previous else None,
            )
        qs = self.queryset
        values = None
        if after:
            try:
                values = self.decode(after)
            except InvalidCursor:
                values = None
        if values is not None:
            qs = self._seek(qs, values, forward=True)
        rows = list(qs[: n + 1])
        has_next = len(rows) > n
        rows = rows[:n]
        return KeysetPage(
            object_list=rows,
            has_next=has_next,
            has_previous=values is not None,
            next_cursor=self._cursor_of(rows[-1]) if rows and has_next else None,
            # A page reached with ``after`` goes back through its first row; when that row is
            # the list's first, the previous page is simply empty and links to the start.
            previous_cursor=self._cursor_of(rows[0]) if rows and values is not None else None,
        )

    def get_page(self, params: Mapping[str, str]) -> KeysetPage:
        """The page a query string asks for (``?after=`` / ``?before=``)."""
        return self.page(after=params.get(AFTER) or None, before=params.get(BEFORE) or None)


def capped_count(queryset: QuerySet, cap: int) -> tuple[int, bool]:
    """``(count, capped)``: the rows of ``queryset``, counted up to ``cap`` only.

    A list's total is a display, not a way to navigate (keyset pages need none): counting a
    LIMITed subquery bounds that work on a filter that still matches millions.
    """
    n = queryset.order_by().values("pk")[: cap + 1].count()
    return min(n, cap), n > cap
