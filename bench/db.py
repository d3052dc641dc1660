"""The bench database: created and dropped through the ``postgres`` maintenance database.

A small ``bench_meta`` table (not a Django model) remembers what the database was seeded
with, so ``--keep-db`` can reuse it (seeding 1,000,000 orders takes minutes).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def db_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


def _conninfo(url: str) -> str:
    # psycopg takes postgres:// URLs as they are.
    return url


def exists(server_url: str, name: str) -> bool:
    with psycopg.connect(_conninfo(db_url(server_url, "postgres")), autocommit=True) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            is not None
        )


def create(server_url: str, name: str) -> None:
    with psycopg.connect(_conninfo(db_url(server_url, "postgres")), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop(server_url: str, name: str) -> None:
    with psycopg.connect(_conninfo(db_url(server_url, "postgres")), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def read_meta(url: str) -> dict:
    """What ``bench_meta`` says about the seeding ({} when the table is absent)."""
    with psycopg.connect(url, autocommit=True) as conn:
        present = conn.execute("SELECT to_regclass('public.bench_meta') IS NOT NULL").fetchone()[0]
        if not present:
            return {}
        rows = conn.execute("SELECT key, value FROM bench_meta").fetchall()
    return {k: json.loads(v) for k, v in rows}


def write_meta(url: str, **values) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)"
        )
        for k, v in values.items():
            conn.execute(
                "INSERT INTO bench_meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (k, json.dumps(v)),
            )


def vacuum_analyze(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
