# Coin ledger rows are immutable in the database itself, not only in Python (DESIGN §3), as the
# shop balance ledger (shops 0002): an UPDATE or DELETE of a coin movement or entry raises,
# whoever sends it. PostgreSQL: SQLSTATE 23001 (restrict_violation) -> IntegrityError; SQLite:
# RAISE(ABORT) -> IntegrityError. TRUNCATE stays possible (test database flushes).
from django.db import migrations

TABLES = ("coins_coinmovement", "coins_coinentry")


def _pg_forward(table):
    return f"""
CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'coin ledger rows are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
"""


def _pg_reverse(table):
    return f"""
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
DROP FUNCTION IF EXISTS {table}_append_only();
"""


def _sqlite_forward(table):
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
    BEGIN SELECT RAISE(ABORT, 'coin ledger rows are append-only: UPDATE refused'); END;""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
    BEGIN SELECT RAISE(ABORT, 'coin ledger rows are append-only: DELETE refused'); END;""",
    ]


def _sqlite_reverse(table):
    return [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]


def _run(schema_editor, statements):
    for sql in statements:
        schema_editor.execute(sql, params=None)  # no placeholders: "%" is PL/pgSQL


def append_only_on(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            _run(schema_editor, [_pg_forward(table)])
        elif vendor == "sqlite":
            _run(schema_editor, _sqlite_forward(table))


def append_only_off(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            _run(schema_editor, [_pg_reverse(table)])
        elif vendor == "sqlite":
            _run(schema_editor, _sqlite_reverse(table))


class Migration(migrations.Migration):
    dependencies = [("coins", "0001_ledger")]

    operations = [migrations.RunPython(append_only_on, append_only_off)]
