"""``BulkWriter``: ``OrderRows`` inserted thousands at a time (COPY, executemany or bulk_create)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC
from operator import itemgetter

from django.db import connections, transaction
from django.db.models import JSONField, Model
from django.utils import timezone
from psycopg.types.json import Jsonb

from orders import events as order_events
from orders import stats
from orders.models import (
    Dispute,
    Feedback,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Refund,
    Review,
    Shipment,
    TrackingEvent,
)

from .plan import OrderPlan
from .rows import OrderRows, Row, build_order_rows


@dataclass
class WriteCounts:
    orders: int = 0
    lines: int = 0
    payments: int = 0
    shipments: int = 0
    tracking_events: int = 0
    refunds: int = 0
    disputes: int = 0
    reviews: int = 0
    feedback: int = 0
    order_events: int = 0

    def add(self, other: WriteCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class BulkWriter:
    """Insert ``OrderRows`` in bulk, one transaction per ``write``.

    ``method``: ``"copy"`` (PostgreSQL, psycopg 3 ``COPY … FROM STDIN``), ``"executemany"``
    (SQLite: one prepared INSERT run over all rows) or ``"orm"`` (``bulk_create`` in batches,
    any backend). The default is the fastest the connection supports. With COPY and
    executemany the order and shipment ids are drawn beforehand (from the PostgreSQL sequence,
    or past SQLite's ``MAX(id)`` inside the write transaction, which holds SQLite's single
    writer lock), so the children can be linked without reading ids back.
    """

    METHODS = ("copy", "executemany", "orm")

    def __init__(
        self, *, using: str = "default", method: str | None = None, batch_size: int = 2000
    ) -> None:
        self.using = using
        self.batch_size = batch_size
        vendor = connections[using].vendor
        default = {"postgresql": "copy", "sqlite": "executemany"}.get(vendor, "orm")
        self.method = method or default
        if self.method not in self.METHODS:
            raise ValueError(f"unknown method {self.method!r}")
        if self.method == "copy" and vendor != "postgresql":
            raise ValueError("COPY needs PostgreSQL")
        if self.method == "executemany" and vendor != "sqlite":
            raise ValueError("executemany with pre-drawn ids is written for SQLite")

    def write(
        self, chunk: Sequence[OrderRows], *, figures: stats.Deltas | None = None
    ) -> WriteCounts:
        """Insert ``chunk`` with its order event log rows, and ``figures`` (the daily-figure
        changes ``build_order_rows`` collected for it), in one transaction."""
        orders = [r.order for r in chunk]
        shipments = [r.shipment for r in chunk if r.shipment is not None]
        with transaction.atomic(using=self.using):
            # Parents first; their ids then go to the children. Rows an order event names by id
            # (refunds, disputes, reviews, feedback, tracking scans) get theirs drawn too.
            self._insert(Order, orders, parents=True)
            self._insert(Shipment, _linked(chunk, "shipment", "order_id", "order"), parents=True)
            counts = WriteCounts(orders=len(orders), shipments=len(shipments))
            for model, attr, count, named in (
                (OrderLine, "lines", "lines", False),
                (Payment, "payments", "payments", False),
                (Refund, "refunds", "refunds", True),
                (Dispute, "disputes", "disputes", True),
                (Review, "reviews", "reviews", True),
                (Feedback, "feedback", "feedback", True),
            ):
                rows = _linked(chunk, attr, "order_id", "order")
                self._insert(model, rows, parents=named)
                setattr(counts, count, len(rows))
            scans = _linked(chunk, "tracking", "shipment_id", "shipment")
            self._insert(TrackingEvent, scans, parents=True)
            counts.tracking_events = len(scans)
            log = _event_rows(chunk)
            self._insert(OrderEvent, log)
            counts.order_events = len(log)
            if figures is not None:
                stats.apply(figures)
        return counts

    # -- internals --

    def _insert(self, model: type[Model], rows: list[Row], *, parents: bool = False) -> None:
        if not rows:
            return
        now = timezone.now()
        stamped = {"created_at", "updated_at"} <= {f.attname for f in model._meta.fields}
        for row in rows:
            if stamped:
                row["created_at"] = row["updated_at"] = now
        if self.method == "orm":
            objs = [model(**row) for row in rows]
            model._default_manager.using(self.using).bulk_create(objs, batch_size=self.batch_size)
            if parents:
                for row, obj in zip(rows, objs, strict=True):
                    row["id"] = obj.pk
            return
        conn = connections[self.using]
        meta = model._meta
        fields = [f for f in meta.concrete_fields if parents or not f.primary_key]
        names = [f.attname for f in fields]
        table = conn.ops.quote_name(meta.db_table)
        columns = ", ".join(conn.ops.quote_name(f.column) for f in fields)
        # wrap_database_errors: COPY runs on the raw psycopg cursor; errors still surface as
        # django.db.IntegrityError & co., as bulk_create's would.
        with conn.wrap_database_errors, conn.cursor() as cursor:
            if parents:
                for row, pk in zip(rows, self._draw_ids(cursor, meta, len(rows)), strict=True):
                    row["id"] = pk
            json_names = [f.attname for f in fields if isinstance(f, JSONField)]
            if self.method == "copy":
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        for name in json_names:
                            row[name] = Jsonb(row[name])
                        copy.write_row([row[name] for name in names])
            else:
                adapt = _sqlite_datetime_adapter(conn)
                dt = [i for i, f in enumerate(fields) if f.get_internal_type() == "DateTimeField"]
                get = itemgetter(*names)
                params = []
                for row in rows:
                    for name in json_names:
                        row[name] = json.dumps(row[name])
                    values = list(get(row))
                    for i in dt:
                        values[i] = adapt(values[i])
                    params.append(values)
                marks = ", ".join(["%s"] * len(names))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", params)  # noqa: S608 - identifiers from model meta

    def _draw_ids(self, cursor, meta, n: int) -> list[int]:
        table = meta.db_table
        if self.method == "copy":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, meta.pk.column, n],
            )
            return [pk for (pk,) in cursor.fetchall()]
        # SQLite AUTOINCREMENT: never reuse an id, so start past both MAX(id) and the sequence.
        quoted = connections[self.using].ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX({meta.pk.column}), 0) FROM {quoted}")  # noqa: S608
        top = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        seq = cursor.fetchone()
        start = max(top, seq[0] if seq else 0) + 1
        return list(range(start, start + n))


def _sqlite_datetime_adapter(conn):
    """``ops.adapt_datetimefield_value`` with a fast path for UTC values into a UTC connection
    (what every generated timestamp is): the same text, a tenth of the cost."""
    adapt = conn.ops.adapt_datetimefield_value
    if conn.timezone_name != "UTC":
        return adapt

    def fast(value):
        if value is not None and value.tzinfo is UTC:
            return value.isoformat(" ")[:-6]  # str() of the naive value, without "+00:00"
        return adapt(value)

    return fast


def _linked(chunk: Sequence[OrderRows], attr: str, fk: str, parent_attr: str) -> list[Row]:
    """The ``attr`` rows of every plan in ``chunk``, their ``fk`` set to the parent's id."""
    out = []
    for r in chunk:
        value = getattr(r, attr)
        if not value:
            continue
        parent_id = getattr(r, parent_attr)["id"]
        for row in value if isinstance(value, list) else [value]:
            row[fk] = parent_id
            out.append(row)
    return out


def _event_rows(chunk: Sequence[OrderRows]) -> list[Row]:
    """The order event log rows of ``chunk``, ids of the rows they name filled in."""
    now = timezone.now()
    out = []
    for r in chunk:
        order = r.order
        for type_, at, payload, refs in r.events:
            data = {**payload, **{key: row["id"] for key, row in refs.items()}}
            event = order_events.new(
                type_,
                shop_id=order["shop_id"],
                order_id=order["id"],
                occurred_at=at,
                recorded_at=now,
                **data,
            )
            out.append(
                {
                    "type": event.type,
                    "shop_id": event.shop_id,
                    "order_id": event.order_id,
                    "occurred_at": event.occurred_at,
                    "created_at": event.created_at,
                    "payload": event.payload,
                }
            )
    return out


def write_plans(plans: Iterable[OrderPlan], *, writer: BulkWriter | None = None) -> WriteCounts:
    """Build and write ``plans`` with their daily figures and order events (one transaction)."""
    writer = writer or BulkWriter()
    figures = stats.Deltas()
    return writer.write([build_order_rows(p, figures) for p in plans], figures=figures)
