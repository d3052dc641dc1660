"""DESIGN §7 operations: /healthz (the process answers) and /readyz (database, migrations,
broker), as a load balancer, Docker or Kubernetes asks them."""

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from sellercenter import views
from sellercenter.celery import app as celery_app


def test_healthz_answers_without_touching_the_database(client):
    # given: no database access allowed (pytest-django raises on any query without a db mark)
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_healthz_does_not_accept_post(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_is_ok_when_database_migrations_and_broker_are(client, monkeypatch):
    # given: a real database with every migration applied and the Redis broker
    monkeypatch.setattr(views, "_MIGRATED", False)
    # when
    response = client.get("/readyz")
    # then
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "broker": "ok"},
    }


@pytest.mark.django_db
def test_readyz_names_unapplied_migrations(client, monkeypatch):
    # given: the database forgets one applied migration (rolled back after the test)
    monkeypatch.setattr(views, "_MIGRATED", False)
    MigrationRecorder(connection).migration_qs.filter(app="orders").order_by("-id")[
        :1
    ].get().delete()
    # when
    response = client.get("/readyz")
    # then
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["failed"] == ["migrations"]
    assert body["checks"]["migrations"].startswith("1 migration(s) not applied")
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_readyz_names_an_unreachable_broker(client, monkeypatch):
    # given: a broker URL nothing listens on
    monkeypatch.setattr(views, "_MIGRATED", True)
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    # when
    response = client.get("/readyz")
    # then
    body = response.json()
    assert response.status_code == 503
    assert body["failed"] == ["broker"]
    assert body["checks"]["broker"].startswith("broker unreachable")
    assert body["checks"]["database"] == "ok"


def test_a_request_error_is_logged_once(tmp_path):
    """DESIGN §7: each error logged once — under debug too, where Django adds its own console
    handler to the "django" logger, besides the root one."""
    import sys

    from .conftest import clean_env, run

    code = (
        "import logging, django; django.setup(); "
        "logging.getLogger('django.request').error('boom-once')"
    )
    for debug in ("true", "false"):
        env = clean_env(SC_VAR_DIR=str(tmp_path), DJANGO_DEBUG=debug, DJANGO_SECRET_KEY="k" * 50)
        result = run([sys.executable, "-c", code], env=env)
        assert result.returncode == 0, result.stderr
        assert result.stderr.count("boom-once") == 1, (debug, result.stderr)
