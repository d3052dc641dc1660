"""core.appendonly: the database refuses UPDATE and DELETE of a ledger's rows (DESIGN §3), on
PostgreSQL (the product's database) and on SQLite (the embedded ``make run`` default)."""

import sqlite3

import pytest
from django.db import IntegrityError, connection, transaction

from core.appendonly import statements_off, statements_on


@pytest.fixture
def pg_table(db):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE sc_test_ledger (id serial PRIMARY KEY, amount int)")
        cursor.execute("INSERT INTO sc_test_ledger (amount) VALUES (5)")
        for sql in statements_on("postgresql", "sc_test_ledger", "test rows"):
            cursor.execute(sql, None)
    return "sc_test_ledger"


@pytest.mark.parametrize(
    "sql", ["UPDATE sc_test_ledger SET amount = 6", "DELETE FROM sc_test_ledger"]
)
def test_postgresql_refuses_changes_with_the_rows_name(pg_table, sql):
    # when a row is changed or removed, whoever sends it
    with pytest.raises(IntegrityError) as refused, transaction.atomic(), connection.cursor() as c:
        c.execute(sql)
    # then the refusal names the rows and the operation
    op = sql.split()[0]
    assert f"test rows are append-only: {op} refused" in str(refused.value)
    with connection.cursor() as cursor:
        cursor.execute("SELECT amount FROM sc_test_ledger")
        assert cursor.fetchall() == [(5,)]


def test_postgresql_appends_and_truncates_and_the_triggers_come_off(pg_table):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO sc_test_ledger (amount) VALUES (7)")
        cursor.execute("TRUNCATE sc_test_ledger")
        cursor.execute("INSERT INTO sc_test_ledger (amount) VALUES (8)")
        for sql in statements_off("postgresql", "sc_test_ledger"):
            cursor.execute(sql, None)
        cursor.execute("UPDATE sc_test_ledger SET amount = 9")
        cursor.execute("SELECT amount FROM sc_test_ledger")
        assert cursor.fetchall() == [(9,)]


def _sqlite_ledger():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE ledger (id integer PRIMARY KEY, amount int)")
    db.execute("INSERT INTO ledger (amount) VALUES (5)")
    for sql in statements_on("sqlite", "ledger", "test rows"):
        db.execute(sql)
    return db


@pytest.mark.parametrize(
    ("sql", "op"), [("UPDATE ledger SET amount = 6", "UPDATE"), ("DELETE FROM ledger", "DELETE")]
)
def test_sqlite_refuses_changes_with_the_rows_name(sql, op):
    db = _sqlite_ledger()
    with pytest.raises(sqlite3.IntegrityError, match=f"^test rows are append-only: {op} refused$"):
        db.execute(sql)
    db.execute("INSERT INTO ledger (amount) VALUES (7)")
    assert db.execute("SELECT amount FROM ledger ORDER BY id").fetchall() == [(5,), (7,)]


def test_sqlite_triggers_come_off_for_a_flush():
    db = _sqlite_ledger()
    for sql in statements_off("sqlite", "ledger"):
        db.execute(sql)
    db.execute("DELETE FROM ledger")
    assert db.execute("SELECT count(*) FROM ledger").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone() == (
        0,
    )


def test_other_databases_get_no_statements():
    assert statements_on("mysql", "ledger", "rows") == []
    assert statements_off("mysql", "ledger") == []
