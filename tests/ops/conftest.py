"""Helpers for the operator's-path tests: processes started the way an operator starts them
(a new shell: no test settings, nothing from the test run's environment)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def clean_env(**overrides: str) -> dict[str, str]:
    """A new shell's environment: nothing of Django's, Celery's or ours leaks from the tests."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "SC_", "DATABASE_URL", "REDIS_URL"))
    }
    env["DJANGO_SETTINGS_MODULE"] = "sellercenter.settings"
    env.update(overrides)
    return env


def run(argv, *, env, cwd=BASE_DIR, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def manage():
    """``manage(*args, env=…)``: ``python manage.py …`` in a new shell."""

    def _manage(*args, env, cwd=BASE_DIR, timeout=120):
        return run([sys.executable, "manage.py", *args], env=env, cwd=cwd, timeout=timeout)

    return _manage


@pytest.fixture
def pg_url():
    """The PostgreSQL server of the test run (its main database, not the test copy)."""
    return os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sellercenter")


@pytest.fixture
def redis_url():
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
