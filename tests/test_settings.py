"""Production settings pass Django's deployment checks, and models match their migrations.

Both run ``manage.py`` in a subprocess with production environment variables (the test
settings module is not involved), so they see exactly what a deployment sees.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def _database_url() -> str:
    """The PostgreSQL server the tests use (its main database, not the test copy)."""
    return os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sellercenter")


def _run_python(code: str, *, env_overrides: dict[str, str], tmp_path):
    return _manage(env_overrides=env_overrides, tmp_path=tmp_path, argv=["-c", code])


def _manage(
    *args: str, env_overrides: dict[str, str], tmp_path, argv: list[str] | None = None
) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        # Nothing from the test run or a developer's shell may leak into "production".
        if not key.startswith(("DJANGO_", "CELERY_", "SC_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "sellercenter.settings",
            "SC_VAR_DIR": str(tmp_path / "var"),
            **env_overrides,
        }
    )
    return subprocess.run(
        [sys.executable, *(argv or [str(BASE_DIR / "manage.py"), *args])],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": "sellercenter.example.com",
}


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    # given: production environment, a strong random secret
    env = {
        **PRODUCTION_ENV,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": _database_url(),
    }

    # when
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env_overrides=env, tmp_path=tmp_path
    )

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_servers_refuse_to_start_without_a_secret_key(tmp_path):
    # given: DEBUG off and no DJANGO_SECRET_KEY (DESIGN §7: no production default)
    env = {**PRODUCTION_ENV, "DATABASE_URL": _database_url()}

    # when: the WSGI application (what gunicorn loads) is built
    result = _run_python("import sellercenter.wsgi", env_overrides=env, tmp_path=tmp_path)

    # then: it fails, naming the variable to set
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY to a long random string" in result.stderr


def test_celery_processes_refuse_to_start_without_a_secret_key(settings, capsys):
    # given: no secret (tests/ops/test_secret_key.py starts the real worker and beat)
    from sellercenter.celery import _require_secret_key

    settings.SECRET_KEY = ""
    # then: the worker_init / beat_init receiver ends the process (Celery would only log an
    # exception and carry on), naming the variable
    with pytest.raises(SystemExit) as exc:
        _require_secret_key()
    assert exc.value.code == 1
    assert "DJANGO_SECRET_KEY is unset or empty" in capsys.readouterr().err


def test_migrations_need_no_secret_key(tmp_path):
    # given: DEBUG off and no secret, as on a build machine or a developer's shell
    env = {**PRODUCTION_ENV, "DATABASE_URL": _database_url()}

    # when
    result = _manage("makemigrations", "--check", "--dry-run", env_overrides=env, tmp_path=tmp_path)

    # then
    assert result.returncode == 0, result.stderr


PRODUCTION_SECURITY = {
    "DEBUG": False,
    "SECURE_SSL_REDIRECT": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "CELERY_TASK_ALWAYS_EAGER": False,  # DESIGN §4: tasks never silently run inline
}


def test_production_security_settings(tmp_path):
    # given
    env = {
        **PRODUCTION_ENV,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": _database_url(),
    }
    names = list(PRODUCTION_SECURITY)
    code = (
        "from django.conf import settings; "
        f"print(repr({{n: getattr(settings, n, False) for n in {names!r}}}))"
    )

    # when
    result = _manage("shell", "-c", code, env_overrides=env, tmp_path=tmp_path)

    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == repr(PRODUCTION_SECURITY)


def test_models_and_migrations_agree(tmp_path):
    # given: development settings on a throw-away SQLite file
    env = {"DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}"}

    # when
    result = _manage("makemigrations", "--check", "--dry-run", env_overrides=env, tmp_path=tmp_path)

    # then
    assert result.returncode == 0, "models changed without a migration:\n" + result.stdout
