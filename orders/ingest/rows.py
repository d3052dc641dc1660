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

from django.db import connection
from django.db.models import Model

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
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    odd = [f.name for f in fields if f.get_internal_type() not in _PLAIN]
    if odd:
        raise TypeError(f"insert_objects cannot write {model.__name__}.{odd[0]}")
    stamped = [f for f in fields if f.attname in ("created_at", "updated_at")]
    for obj in objs:
        for f in stamped:
            f.pre_save(obj, add=True)  # auto_now(_add): what save() would stamp
        # A FK assigned as an object saved after the assignment: take its pk now, as save() does.
        obj._prepare_related_fields_for_save(operation_name="insert_objects")
    attnames = [(f.column, f.attname) for f in fields]
    rows = json.dumps(
        [{column: getattr(obj, attname) for column, attname in attnames} for obj in objs],
        default=_default,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    names = ", ".join(qn(f.column) for f in fields)
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {names} "  # noqa: S608
        f"FROM json_populate_recordset(NULL::{table}, %s) RETURNING {qn(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [rows])
        pks = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
