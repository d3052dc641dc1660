"""A lean ``bulk_create`` for the ingestion fast path.

Django's ``bulk_create`` spends most of its time compiling: ``prepare_value`` /
``get_db_prep_save`` per field per row (27 fields × 500 orders per batch). On PostgreSQL this
writes the same rows with one ``INSERT … SELECT … FROM json_populate_recordset(NULL::<table>,
%s) RETURNING id``: the rows as one JSON array of objects keyed by column (serialised in C by
``json``; PostgreSQL converts each value with the column's own type), values taken as the
model holds them (ints, strings, booleans, aware datetimes, dates, JSON). One parameter instead
of one array per column: adapting a list per column costs more in Python than the whole JSON
document. Any other database gets Django's ``bulk_create``. Rows come back in insertion order,
as ``bulk_create`` relies on too, and each object gets its primary key.

Only for models whose fields need no conversion beyond that (the fast path's own: orders,
lines, payments, idempotency records, order events) — not a general replacement: a model with
another kind of field is refused (``TypeError``).
"""

import json
from datetime import date
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from core.sqlreads import run_many

# Internal types whose values JSON carries as PostgreSQL's input function reads them
# (datetimes and dates as their ISO text through ``_default``, JSON fields as nested JSON).
_PLAIN = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "DateField",
        "DateTimeField",
        "ForeignKey",
        "IntegerField",
        "JSONField",
        "OneToOneField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


def _default(value):
    if isinstance(value, date):  # datetime too: ISO 8601 with its offset
        return value.isoformat()
    raise TypeError(f"insert_objects cannot write {type(value).__name__} values")


def insert_objects(objs: list[Model]) -> None:
    """Insert unsaved ``objs`` (all of one model) and set their primary keys."""
    write_many([objs])


class Rows(NamedTuple):
    """Rows of ``model`` to insert without building model instances: one dict per row, keyed by
    field attname (``order_id``, not ``order``); a field left out takes its default, as the
    model would. ``write_many`` returns their primary keys."""

    model: type[Model]
    rows: list[dict[str, Any]]


def write_many(steps: list) -> list[list[int]]:
    """Run ``steps`` in order, each one a list of unsaved objects of one model (inserted, their
    primary keys set), ``Rows`` (inserted), or a plain statement ``(sql, params)``; empty ones
    and ``None`` are skipped. Returns the new primary keys of each ``Rows`` step (empty ones
    too), in order. On PostgreSQL all of them in one round trip
    (``core.sqlreads.run_many``); elsewhere Django's ``bulk_create`` and one ``execute``
    each."""
    keys: dict[int, list[int]] = {i: [] for i, step in enumerate(steps) if isinstance(step, Rows)}
    todo = [
        (i, step)
        for i, step in enumerate(steps)
        if step and (not isinstance(step, Rows) or step.rows)
    ]
    if connection.vendor != "postgresql":
        for i, step in todo:
            if isinstance(step, Rows):
                objs = [step.model(**row) for row in step.rows]
                step.model.objects.bulk_create(objs)
                keys[i] = [obj.pk for obj in objs]
            elif isinstance(step, list):
                type(step[0]).objects.bulk_create(step)
            else:
                with connection.cursor() as cursor:
                    cursor.execute(*step)
        return list(keys.values())
    prepared = [
        (*_insert_sql(step), i, step) if isinstance(step, list | Rows) else (*step, i, None)
        for i, step in todo
    ]
    results = run_many([(sql, params) for sql, params, _i, _step in prepared])
    for (_sql, _params, i, step), rows in zip(prepared, results, strict=True):
        if isinstance(step, Rows):
            keys[i] = [pk for (pk,) in rows]
        elif isinstance(step, list):
            for obj, (pk,) in zip(step, rows, strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias
    return list(keys.values())


def _insert_sql(step: list[Model] | Rows) -> tuple[str, list]:
    """The PostgreSQL ``INSERT … FROM json_populate_recordset`` of a step, ids returned."""
    model = step.model if isinstance(step, Rows) else type(step[0])
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    odd = [f.name for f in fields if f.get_internal_type() not in _PLAIN]
    if odd:
        raise TypeError(f"insert_objects cannot write {model.__name__}.{odd[0]}")
    if isinstance(step, Rows):
        unknown = {name for row in step.rows for name in row} - {f.attname for f in fields}
        if unknown:
            raise TypeError(f"{model.__name__} has no field {sorted(unknown)[0]!r}")
        now = timezone.now()
        defaults = {
            # auto_now(_add): what save() would stamp
            f.attname: now
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            else f.get_default()
            for f in fields
        }
        columns = [(f.column, f.attname) for f in fields]
        data = [
            {
                column: row[attname] if attname in row else defaults[attname]
                for column, attname in columns
            }
            for row in step.rows
        ]
    else:
        stamped = [f for f in fields if f.attname in ("created_at", "updated_at")]
        for obj in step:
            for f in stamped:
                f.pre_save(obj, add=True)  # auto_now(_add): what save() would stamp
            # A FK assigned as an object saved after the assignment: take its pk now, as save()
            # does.
            obj._prepare_related_fields_for_save(operation_name="insert_objects")
        attnames = [(f.column, f.attname) for f in fields]
        data = [{column: getattr(obj, attname) for column, attname in attnames} for obj in step]
    rows = json.dumps(data, default=_default, separators=(",", ":"), ensure_ascii=False)
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    names = ", ".join(qn(str(f.column)) for f in fields)
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {names} "  # noqa: S608
        f"FROM json_populate_recordset(NULL::{table}, %s) RETURNING {qn(meta.pk.column)}"
    )
    return sql, [rows]
