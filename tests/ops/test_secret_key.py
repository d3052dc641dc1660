"""DESIGN §7 and README "The two commands": one secret key for every process of the product.

`make run` generates ``var/secret_key`` once; the settings read it whenever DJANGO_SECRET_KEY
is unset or empty, so a management command typed later in another shell (§5.1) signs with the
key the running product uses. Production stays strict: with debug off, no variable and no key
file, web, worker and beat refuse to start (§5.3) — tested with the real processes.
"""

import secrets
import sys

import pytest

from .conftest import BASE_DIR, clean_env, run

SHOW = (
    "import json; from django.conf import settings as s; "
    "print(json.dumps({'key': s.SECRET_KEY, 'debug': s.DEBUG, 'var': str(s.VAR_DIR)}))"
)


def _settings(env):
    import json

    result = run([sys.executable, "-c", f"import django; django.setup(); {SHOW}"], env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def var_with_key(tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    key = secrets.token_urlsafe(50)
    (var / "secret_key").write_text(key + "\n")
    (var / "secret_key").chmod(0o600)
    return var, key


def test_settings_read_the_generated_key_file_when_no_variable_is_set(var_with_key):
    # given: the key `make run` generated, and a new shell with nothing set
    var, key = var_with_key
    # when
    seen = _settings(clean_env(SC_VAR_DIR=str(var)))
    # then: the same key, debug off
    assert seen == {"key": key, "debug": False, "var": str(var)}


def test_an_empty_variable_counts_as_unset_and_the_key_file_is_used(var_with_key):
    var, key = var_with_key
    seen = _settings(clean_env(SC_VAR_DIR=str(var), DJANGO_SECRET_KEY="", DJANGO_DEBUG=""))
    assert seen["key"] == key
    assert seen["debug"] is False


def test_the_variable_wins_over_the_key_file(var_with_key):
    var, _key = var_with_key
    seen = _settings(clean_env(SC_VAR_DIR=str(var), DJANGO_SECRET_KEY="from-the-environment"))
    assert seen["key"] == "from-the-environment"


def test_debug_with_an_empty_variable_gets_the_development_key(tmp_path):
    # given: the old .env.example (DJANGO_DEBUG=true, DJANGO_SECRET_KEY= empty), no key file
    env = clean_env(SC_VAR_DIR=str(tmp_path), DJANGO_DEBUG="true", DJANGO_SECRET_KEY="")
    # when the WSGI application is built
    result = run([sys.executable, "-c", "import sellercenter.wsgi"], env=env)
    # then it starts
    assert result.returncode == 0, result.stderr


def test_readme_commands_after_make_run_work_in_a_new_shell(var_with_key, manage):
    # given: the embedded product's var/ (key file, SQLite database), as `make run` leaves it
    var, _key = var_with_key
    env = clean_env(SC_VAR_DIR=str(var))
    assert manage("migrate", "--noinput", "-v0", env=env, timeout=300).returncode == 0
    # when the README's first command is typed in a new shell, with nothing set
    result = manage("integration_create", "ERP connector", env=env)
    # then it works (it encrypts the new secret with the product's key)
    assert result.returncode == 0, result.stderr
    assert "sck_" in result.stdout


def test_wsgi_refuses_without_a_key_naming_what_to_set(tmp_path):
    # given: debug off, DJANGO_SECRET_KEY empty, no key file (a production server)
    env = clean_env(SC_VAR_DIR=str(tmp_path), DJANGO_SECRET_KEY="", DJANGO_DEBUG="false")
    # when
    result = run([sys.executable, "-c", "import sellercenter.wsgi"], env=env)
    # then: it fails and says exactly why
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is unset or empty, DJANGO_DEBUG is off" in result.stderr
    assert str(tmp_path / "secret_key") in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["worker", "--loglevel=INFO", "--concurrency=1", "--pool=solo"],
        ["beat", "--loglevel=INFO"],
    ],
    ids=["worker", "beat"],
)
def test_celery_worker_and_beat_refuse_to_start_without_a_key(tmp_path, argv, pg_url, redis_url):
    # given: debug off, no key, a reachable database and broker (nothing else stops them)
    env = clean_env(
        SC_VAR_DIR=str(tmp_path), DJANGO_DEBUG="false", DATABASE_URL=pg_url, REDIS_URL=redis_url
    )
    extra = ["--schedule", str(tmp_path / "beat-schedule")] if argv[0] == "beat" else []
    # when the real process is started
    result = run(
        [str(BASE_DIR / ".venv/bin/celery"), "-A", "sellercenter", *argv, *extra],
        env=env,
        timeout=60,
    )
    # then it ends at once with status 1, naming the variable (it does not run tasks anyway)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "DJANGO_SECRET_KEY is unset or empty" in result.stdout + result.stderr
    assert "ready." not in result.stdout + result.stderr


def _security(env):
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DEBUG, s.ALLOWED_HOSTS, s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS]))"
    )
    import json

    result = run([sys.executable, "-c", code], env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_make_run_serves_plain_http_on_loopback_with_debug_off(var_with_key):
    # given: what bin/run-embedded exports
    var, _key = var_with_key
    env = clean_env(SC_VAR_DIR=str(var), DJANGO_DEBUG="false", SC_EMBEDDED_RUN="true")
    # then: debug off, loopback hosts, nothing that needs HTTPS
    assert _security(env) == [False, ["127.0.0.1", "localhost"], False, False, False, 0]


def test_without_make_run_debug_off_means_https_only(var_with_key):
    var, _key = var_with_key
    env = clean_env(SC_VAR_DIR=str(var), DJANGO_DEBUG="false")
    assert _security(env) == [False, [], True, True, True, 31536000]
