"""The operator's path (README "Configuration", `.env.example`, docker-compose.yml, Makefile):
what the settings read is documented where an operator looks, `cp .env.example .env` changes
nothing, `.env` is honoured (SC_VAR_DIR included), and the broker gives a killed worker's task
to another worker within minutes (fault 8)."""

import ast
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

from .conftest import BASE_DIR, clean_env, run


def _settings_env_vars() -> set[str]:
    """Every variable ``sellercenter/settings.py`` reads through ``env…("NAME", …)``."""
    tree = ast.parse((BASE_DIR / "sellercenter" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        first, func = node.args[0], node.func
        target = func.value if isinstance(func, ast.Attribute) else func
        if (
            isinstance(target, ast.Name)
            and target.id == "env"
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)
        ):
            names.add(first.value)
    return names


def _readme_section(title: str) -> str:
    text = (BASE_DIR / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_settings_read_the_variables_this_test_knows_of():
    # guards the AST walk itself: a handful that must be found
    names = _settings_env_vars()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "SC_VAR_DIR", "CELERY_TASK_TIME_LIMIT"} <= names
    assert len(names) >= 20


def test_every_variable_the_settings_read_is_in_the_readme_configuration_table():
    table = _readme_section("Configuration")
    documented = set(re.findall(r"^\|[^|]*", table, flags=re.M))
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", "".join(documented)))
    missing = _settings_env_vars() - documented
    assert not missing, f"add to README's configuration table: {sorted(missing)}"


def test_every_variable_the_settings_read_is_in_env_example():
    text = (BASE_DIR / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    missing = _settings_env_vars() - listed
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_env_example_changes_nothing_when_copied_as_it_is():
    # every active line is NAME= (empty: the default), so `cp .env.example .env` is harmless
    lines = [
        line
        for line in (BASE_DIR / ".env.example").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]+=", line) for line in lines), lines


@pytest.fixture
def checkout(tmp_path):
    """A checkout of the project with its own ``.env`` (the settings read ``BASE_DIR/.env``):
    ``sellercenter/`` and ``manage.py`` copied, everything else linked."""
    root = tmp_path / "checkout"
    root.mkdir()
    for entry in BASE_DIR.iterdir():
        if entry.name in {"sellercenter", "manage.py", ".env", "var", ".git"}:
            continue
        (root / entry.name).symlink_to(entry)
    shutil.copytree(BASE_DIR / "sellercenter", root / "sellercenter")
    shutil.copy2(BASE_DIR / "manage.py", root / "manage.py")
    return root


SHOW = (
    "import sellercenter.wsgi, json; from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'var': str(s.VAR_DIR), "
    "'key_from_file': s.SECRET_KEY == s.SECRET_KEY_FILE.read_text().strip(), "
    "'hosts': s.ALLOWED_HOSTS, 'db': s.DATABASES['default']['ENGINE']}))"
)


def test_copied_env_example_keeps_the_defaults_and_the_server_starts(checkout, tmp_path):
    # given: `cp .env.example .env`, with SC_VAR_DIR filled in, and the key `make run` made
    var = tmp_path / "elsewhere"
    var.mkdir()
    (var / "secret_key").write_text("k" * 60)
    env_file = (
        (BASE_DIR / ".env.example").read_text().replace("\nSC_VAR_DIR=\n", f"\nSC_VAR_DIR={var}\n")
    )
    (checkout / ".env").write_text(env_file)
    # when the WSGI application is built in a new shell, from that checkout
    result = run([sys.executable, "-c", SHOW], env=clean_env(), cwd=checkout)
    # then it starts: SC_VAR_DIR from .env is honoured, the empty values took no default away
    assert result.returncode == 0, result.stderr
    import json

    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {
        "debug": False,
        "var": str(var),
        "key_from_file": True,
        "hosts": [],
        "db": "django.db.backends.sqlite3",
    }


def test_an_empty_secret_in_env_with_debug_off_names_the_real_cause(checkout, tmp_path):
    # given: a .env with DJANGO_SECRET_KEY= (empty) and debug off, and no key file
    (checkout / ".env").write_text(
        f"DJANGO_DEBUG=false\nDJANGO_SECRET_KEY=\nSC_VAR_DIR={tmp_path}\n"
    )
    # when
    result = run([sys.executable, "-c", "import sellercenter.wsgi"], env=clean_env(), cwd=checkout)
    # then
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is unset or empty, DJANGO_DEBUG is off" in result.stderr


# --- fault 8: the broker's visibility timeout ----------------------------------------------------


def test_fault8_a_killed_workers_task_is_redelivered_within_minutes_and_limits_fit_under():
    # DESIGN §4: minutes, not an hour; every hard time limit ends before it
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert 60 <= timeout <= 900
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT < timeout


def test_fault8_the_system_check_passes_with_the_defaults():
    call_command("check", "--fail-level", "ERROR")


def test_fault8_the_system_check_refuses_a_time_limit_past_the_visibility_timeout(
    manage, tmp_path, redis_url
):
    # given: a hard time limit longer than the visibility timeout
    env = clean_env(
        SC_VAR_DIR=str(tmp_path),
        REDIS_URL=redis_url,
        CELERY_BROKER_VISIBILITY_TIMEOUT="300",
        CELERY_TASK_TIME_LIMIT="360",
    )
    # when
    result = manage("check", env=env)
    # then
    assert result.returncode != 0
    assert "sellercenter.E001" in result.stderr
    assert "CELERY_TASK_TIME_LIMIT: hard time limit 360 s" in result.stderr


# --- docker-compose.yml -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def _app_env(compose, service):
    return compose["services"][service]["environment"]


def test_compose_needs_a_secret_key_and_has_no_public_fallback(compose):
    for name in ("migrate", "web", "worker", "beat"):
        value = _app_env(compose, name)["DJANGO_SECRET_KEY"]
        # ${VAR:?message}: compose refuses when unset OR empty
        assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?[^}]+\}", value), value


def test_compose_takes_connection_debug_and_email_settings_from_env(compose):
    env = _app_env(compose, "web")
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "DJANGO_DEBUG",
        "DJANGO_EMAIL_HOST",
        "DJANGO_EMAIL_PORT",
        "DJANGO_ALLOWED_HOSTS",
    ):
        assert str(env[name]).startswith("${" + name + ":-"), (name, env[name])


def test_compose_migrate_seeds_demo_data_only_on_request(compose):
    command = compose["services"]["migrate"]["command"]
    script = command if isinstance(command, str) else " ".join(command)
    assert "migrate --noinput" in script
    assert re.search(r'if \[ "\$\$SC_DEMO" = 1 \]; then python manage.py seed_demo', script)
    assert _app_env(compose, "migrate")["SC_DEMO"] == "${SC_DEMO:-0}"
    assert "createsuperuser" not in script


def test_compose_web_healthcheck_sends_an_allowed_host(compose):
    test = compose["services"]["web"]["healthcheck"]["test"]
    code = test[-1]
    assert "/healthz" in code
    assert "DJANGO_ALLOWED_HOSTS" in code
    assert "'Host'" in code


def test_compose_web_healthcheck_works_against_a_real_server_with_a_real_domain(
    live_server, settings
):
    # given: the app serves only a real domain (the healthcheck reads DJANGO_ALLOWED_HOSTS)
    settings.ALLOWED_HOSTS = ["sellercenter.example.com"]
    code = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    compose_code = code["services"]["web"]["healthcheck"]["test"][-1]
    compose_code = compose_code.replace("http://127.0.0.1:8000", live_server.url)
    env = clean_env(DJANGO_ALLOWED_HOSTS="sellercenter.example.com,www.example.com")
    # when the healthcheck's own command runs
    result = run([sys.executable, "-c", compose_code], env=env, timeout=30)
    # then it passes
    assert result.returncode == 0, result.stderr
    # and a request without that Host header would not have
    settings.ALLOWED_HOSTS = ["other.example.com"]
    assert run([sys.executable, "-c", compose_code], env=env, timeout=30).returncode != 0


def test_compose_worker_and_beat_have_healthchecks(compose):
    for name, node in (("worker", "celery@"), ("beat", "celerybeat@")):
        test = " ".join(compose["services"][name]["healthcheck"]["test"])
        assert "inspect ping" in test
        assert node in test
    assert "--enable-remote-control" in compose["services"]["beat"]["command"]


def test_compose_redis_keeps_its_data_and_images_are_pinned(compose):
    assert any(v.endswith(":/data") for v in compose["services"]["redis"]["volumes"])
    assert "redisdata" in compose["volumes"]
    for name in ("db", "redis", "mailpit"):
        image = compose["services"][name]["image"]
        assert not image.endswith(":latest"), image
        assert re.search(r":v?\d+\.\d+", image), image


def test_dockerfile_and_makefile_install_from_the_lock_file():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    makefile = (BASE_DIR / "Makefile").read_text()
    assert "pip install --require-hashes -r requirements/prod.txt" in dockerfile
    assert "install -q -r requirements/prod.txt" in makefile
    assert "install -q -r requirements/dev.txt" in makefile
    for group in ("prod", "dev"):
        lock = (BASE_DIR / "requirements" / f"{group}.txt").read_text()
        pins = re.findall(r"^([a-z0-9._-]+)==", lock, flags=re.M | re.I)
        assert {"django", "celery", "gunicorn", "whitenoise"} <= {p.lower() for p in pins}
        assert "--hash=sha256:" in lock


# --- Makefile and README commands ----------------------------------------------------------------


def test_make_help_lists_only_targets_that_exist_and_check_does_something():
    result = subprocess.run(
        ["make", "-s", "help"], cwd=BASE_DIR, capture_output=True, text=True, check=True
    )
    listed = re.findall(r"make (\S+)", result.stdout)
    assert {"run", "dev", "test", "check", "lock"} <= set(listed)
    dry = subprocess.run(
        ["make", "-n", "check", "VENV=.venv"], cwd=BASE_DIR, capture_output=True, text=True
    )
    assert "manage.py check" in dry.stdout


def test_readme_celery_commands_use_the_virtualenv():
    text = (BASE_DIR / "README.md").read_text()
    bare = re.findall(r"(?<![/\w])celery -A sellercenter", _readme_section("Docker Compose"))
    assert not bare, "write .venv/bin/celery in README commands"
    assert ".venv/bin/celery -A sellercenter worker" in text


# --- make run: the port is checked before the set-up -------------------------------------------


def test_make_run_refuses_a_busy_port_before_setting_anything_up(tmp_path):
    # given: something already listens on the port
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        # when
        result = run(
            [str(BASE_DIR / "bin" / "run-embedded")],
            env=clean_env(PORT=str(port), SC_VAR_DIR=str(tmp_path)),
            timeout=60,
        )
    # then: a clear message at once, and no set-up was done
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "make run PORT=8001" in result.stderr
    assert "Setting up" not in result.stdout
    assert not (tmp_path / "sellercenter.sqlite3").exists()
    assert time.monotonic() - started < 30


def test_the_embedded_broker_keeps_all_its_files_under_var(tmp_path):
    # given: the embedded default (no broker URL)
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps(s.CELERY_BROKER_TRANSPORT_OPTIONS))"
    )
    result = run([sys.executable, "-c", code], env=clean_env(SC_VAR_DIR=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    import json

    options = json.loads(result.stdout.strip().splitlines()[-1])
    # then: messages and kombu's exchange tables (default ./control) live under var/broker
    for name in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        assert options[name].startswith(str(tmp_path / "broker")), (name, options[name])
    # and the worker looks at the folder often enough to drain the demo's seeding backlog in
    # a minute or two, not kombu's 1 s per look (beat's first tasks ran 15 minutes late)
    assert options["polling_interval"] <= 0.2


def test_every_dependency_of_pyproject_is_pinned_in_its_lock_file():
    """A dependency added to pyproject.toml without `make lock` is missing on a fresh install
    (the Makefile installs from requirements/*.txt only): CI would be the first to notice."""
    import tomllib

    groups = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["dependency-groups"]

    def names(group: str) -> set[str]:
        out = set()
        for item in groups[group]:
            if isinstance(item, dict):
                out |= names(item["include-group"])
            else:
                name = re.split(r"[\s\[<>=!~;]", item, maxsplit=1)[0]
                out.add(re.sub(r"[-_.]+", "-", name).lower())
        return out

    for group in ("prod", "dev"):
        lock = (BASE_DIR / "requirements" / f"{group}.txt").read_text()
        pins = {
            re.sub(r"[-_.]+", "-", p).lower()
            for p in re.findall(r"^([a-z0-9._-]+)==", lock, flags=re.M | re.I)
        }
        assert names(group) - pins == set(), f"run `make lock`: requirements/{group}.txt"
