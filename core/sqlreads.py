"""Hand-written SQL for hot paths: several statements in one round trip, rows turned into
model instances without the ORM's query compilation (the ingestion's prefetch and inserts, a
request's integration, the coin checkout's locks). Each statement is plain SQL with ``%s``
placeholders, the same on every database.
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


def run_many(statements: list[tuple[str, list]]) -> list[list[tuple]]:
    """Run ``statements`` (``(sql, params)`` each) in order and return each one's rows (``[]``
    for a statement that returns none).

    On PostgreSQL they go to the server as one multi-statement query, one round trip for all
    (the client-side binding cursor Django uses sends the text with its parameters merged);
    elsewhere one ``execute`` each. A failing statement raises, and the ones after it do not
    run.
    """
    if not statements:
        return []
    out: list[list[tuple]] = []
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            for sql, params in statements:
                cursor.execute(sql, params)
                out.append(cursor.fetchall() if cursor.description is not None else [])
            return out
        cursor.execute(
            ";\n".join(sql for sql, _ in statements), [p for _, ps in statements for p in ps]
        )
        while True:
            out.append(cursor.fetchall() if cursor.description is not None else [])
            if not cursor.cursor.nextset():
                break
    if len(out) != len(statements):  # pragma: no cover - a driver that answers fewer results
        raise RuntimeError(f"run_many: {len(statements)} statements, {len(out)} results")
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
