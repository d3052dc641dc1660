"""Append-only tables, enforced by the database itself (DESIGN §3: ledger rows are immutable
whoever sends the UPDATE or DELETE — the ORM, raw SQL, an admin action, a shell).

PostgreSQL: a ``BEFORE UPDATE OR DELETE`` trigger raising SQLSTATE 23001 (restrict_violation),
which Django raises as ``IntegrityError``. TRUNCATE stays possible (test database flushes,
``seed_demo --flush``). SQLite (the embedded ``make run`` default): two ``RAISE(ABORT)``
triggers, also an ``IntegrityError``; SQLite has no TRUNCATE, so a flush turns them off for its
own transaction (``triggers_off`` / ``triggers_on``).

A migration makes tables append-only with ``append_only_operation(tables, what)``.
"""

from collections.abc import Sequence

from django.db import migrations


def _pg_on(table: str, what: str) -> list[str]:
    return [
        f"""
CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{what} are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
"""
    ]


def _pg_off(table: str) -> list[str]:
    return [
        f"""
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
DROP FUNCTION IF EXISTS {table}_append_only();
"""
    ]


def _sqlite_on(table: str, what: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
    BEGIN SELECT RAISE(ABORT, '{what} are append-only: {op} refused'); END;"""
        for op in ("UPDATE", "DELETE")
    ]


def _sqlite_off(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_{op};" for op in ("update", "delete")]


def statements_on(vendor: str, table: str, what: str) -> list[str]:
    """The SQL making ``table`` append-only on ``vendor`` (none for other databases)."""
    if vendor == "postgresql":
        return _pg_on(table, what)
    if vendor == "sqlite":
        return _sqlite_on(table, what)
    return []


def statements_off(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return _pg_off(table)
    if vendor == "sqlite":
        return _sqlite_off(table)
    return []


def _execute(schema_editor, statements: list[str]) -> None:
    for sql in statements:
        schema_editor.execute(sql, params=None)  # no placeholders: "%" is PL/pgSQL


def append_only_operation(tables: Sequence[str], what: str) -> migrations.RunPython:
    """A migration operation making ``tables`` append-only; ``what`` names their rows in the
    refusal ("coin ledger rows" → "coin ledger rows are append-only: DELETE refused")."""

    def forward(apps, schema_editor):
        for table in tables:
            _execute(schema_editor, statements_on(schema_editor.connection.vendor, table, what))

    def backward(apps, schema_editor):
        for table in tables:
            _execute(schema_editor, statements_off(schema_editor.connection.vendor, table))

    return migrations.RunPython(forward, backward)
