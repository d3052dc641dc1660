"""Hand-written reads for hot paths: several SELECTs in one round trip, rows turned into model
instances without the ORM's query compilation (the ingestion's prefetch, a request's
integration). Each statement is plain SQL with ``%s`` placeholders, the same on every database.
"""

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def select_sql(model: type[Model], where: str) -> str:
    """``SELECT`` every concrete column of ``model`` (in field order, as ``from_db`` takes them)
    ``WHERE where``."""
    qn = connection.ops.quote_name
    columns = ", ".join(qn(str(f.column)) for f in model._meta.concrete_fields)
    return f"SELECT {columns} FROM {qn(model._meta.db_table)} WHERE {where}"  # noqa: S608


def in_list(values: Sequence) -> str:
    """``(%s, %s, …)`` for ``values`` (not empty)."""
    return "(" + ", ".join(["%s"] * len(values)) + ")"


def read_many(reads: list[tuple[str, list]]) -> list[list[tuple]]:
    """Run ``reads`` (``(sql, params)`` each, all of them SELECTs) and return each one's rows.

    On PostgreSQL they go to the server as one multi-statement query, one round trip for all
    (the client-side binding cursor Django uses sends the text with its parameters merged);
    elsewhere one ``execute`` each.
    """
    if not reads:
        return []
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            out = []
            for sql, params in reads:
                cursor.execute(sql, params)
                out.append(cursor.fetchall())
            return out
        cursor.execute(";\n".join(sql for sql, _ in reads), [p for _, ps in reads for p in ps])
        out = [cursor.fetchall()]
        while cursor.cursor.nextset():
            out.append(cursor.fetchall())
    if len(out) != len(reads):  # pragma: no cover - a driver that answers fewer result sets
        raise RuntimeError(f"read_many: {len(reads)} statements, {len(out)} results")
    return out


def models_from_rows(model: type[Model], rows: list[tuple]) -> list:
    """Model instances from rows of ``select_sql(model, …)``, converted as the ORM converts
    them (``from_db_value`` and the backend's converters: JSON, SQLite's dates …)."""
    if not rows:
        return []
    fields = model._meta.concrete_fields
    converters = []
    for i, f in enumerate(fields):
        col = f.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if found:
            converters.append((i, col, found))
    names = [f.attname for f in fields]
    alias = connection.alias
    out = []
    for row in rows:
        values: Sequence = row
        if converters:
            values = list(row)
            for i, col, found in converters:
                value = values[i]
                for convert in found:
                    value = convert(value, col, connection)
                values[i] = value
        out.append(model.from_db(alias, names, values))
    return out
