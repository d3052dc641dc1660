"""One autocommitted PostgreSQL statement with work done while the server runs it.

``execute(sql, params, meanwhile)`` sends the statement on Django's own connection (libpq's
asynchronous API, ``psycopg.pq``), runs ``meanwhile()`` while the server executes and commits
it, then reads the result and returns the number of rows it changed. The result is always
read before ``execute`` returns — also when ``meanwhile`` raises — so the caller goes on only
after the statement committed, and the connection is left ready for the next query.

The dispatch engine marks a message 'sending' this way and builds the next message meanwhile:
the commit (a WAL flush) costs about as long as building and signing a message.

``sql`` uses ``%s`` placeholders (as Django's cursors); parameters are sent as text, so the SQL
casts what PostgreSQL cannot infer from its context. Statements run through here appear in
Django's query log like any other (query-count tests count them).
"""

from __future__ import annotations

import functools
import re
import select
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from django.db import DatabaseError
from django.db import connection as db
from psycopg import pq

_PLACEHOLDER = re.compile(r"%s")


def _text(value) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int | str | uuid.UUID):
        return str(value).encode("utf-8")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("A naive datetime cannot be sent.")
        return value.isoformat().encode("ascii")
    raise TypeError(f"Cannot send a {type(value).__name__} as a parameter.")


@functools.lru_cache(maxsize=64)
def _numbered(sql: str) -> bytes:
    n = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _m: f"${next(n)}", sql).encode("utf-8")


def execute(sql: str, params: Sequence, meanwhile: Callable[[], None] | None = None) -> int:
    """Run ``sql`` (one statement) with ``meanwhile()`` done while the server works on it;
    the rows it changed. ``DatabaseError`` when PostgreSQL refuses it."""
    db.ensure_connection()
    pg = db.connection.pgconn
    started = time.perf_counter()
    pg.send_query_params(_numbered(sql), [_text(p) for p in params])
    while pg.flush():  # 1: more to send (a non-blocking connection)
        select.select([], [pg.socket], [])
    try:
        if meanwhile is not None:
            meanwhile()
    finally:
        rows, error = _result(pg)
        if db.queries_logged:
            elapsed = time.perf_counter() - started
            db.queries_log.append({"sql": f"{sql} -- {list(params)!r}", "time": f"{elapsed:.3f}"})
    if error:
        raise DatabaseError(error)
    return rows


def _result(pg) -> tuple[int, str]:
    """Read every result of the statement: (rows changed, error message or "")."""
    rows, error = 0, ""
    while True:
        while pg.is_busy():
            select.select([pg.socket], [], [])
            pg.consume_input()
        res = pg.get_result()
        if res is None:
            return rows, error
        if res.status == pq.ExecStatus.COMMAND_OK:
            rows = int(res.command_tuples or 0)
        elif res.status == pq.ExecStatus.FATAL_ERROR:
            error = (res.error_message or b"").decode("utf-8", "replace").strip()
