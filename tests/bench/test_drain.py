"""The bench harness's thread pool for hand-written baselines: every batch is handled once,
over the clients' own connections, and a failing batch fails the benchmark."""

import threading

import pytest
from django.db import connection

from bench.ingest import BenchError, drain_with_connections


def _url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_every_batch_is_handled_once_over_the_clients_connections():
    seen, conns, lock = [], set(), threading.Lock()

    def handle(conn, batch):
        with conn.cursor() as cur:
            cur.execute("SELECT %s::int", (batch,))
            (value,) = cur.fetchone()
        with lock:
            seen.append(value)
            conns.add(id(conn))

    seconds = drain_with_connections(
        url=_url(), batches=range(20), clients=3, handle=handle, what="test"
    )
    assert sorted(seen) == list(range(20))
    assert 1 <= len(conns) <= 3
    assert seconds >= 0


@pytest.mark.django_db(transaction=True)
def test_a_failing_batch_fails_the_run_with_its_error():
    def handle(conn, batch):
        if batch == 3:
            raise ValueError("bad batch")

    with pytest.raises(BenchError, match=r"^test failed: ValueError\('bad batch'\)$"):
        drain_with_connections(url=_url(), batches=range(5), clients=2, handle=handle, what="test")
