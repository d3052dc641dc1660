# Seller Center — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Django 6 needs Python >= 3.12: the first interpreter of 3.13 / 3.12 that really runs.
PYTHON ?= $(shell for p in python3.13 python3.12 python3 \
	$$(ls -d $$HOME/.pyenv/versions/3.1[23]*/bin/python3 /usr/local/bin/python3.1[23] 2>/dev/null); do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sellercenter
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=
# Tests run in parallel (pytest-xdist), one worker per CPU; TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= auto

.PHONY: help run dev test bench mutate lint fmt check lock migrate seed messages clean python

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "Seller Center needs Python 3.12 or newer (Django 6), and none was found."; \
	  echo "Install one, e.g. 'apt-get install python3.12 python3.12-venv' (Debian/Ubuntu),"; \
	  echo "'brew install python@3.12' (macOS) or 'pyenv install 3.12', then run make again,"; \
	  echo "or name it: make run PYTHON=/path/to/python3.12"; exit 1; fi

# Installs come from the lock files (exact versions with hashes); `make lock` refreshes them.
$(VENV)/.prod: requirements/prod.txt | python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=25.1"
	$(PIP) install -q -r requirements/prod.txt
	@touch $@

$(VENV)/.dev: requirements/dev.txt $(VENV)/.prod
	$(PIP) install -q -r requirements/dev.txt
	@touch $@

run: $(VENV)/.prod  ## run the product as production does (gunicorn, debug off) on SQLite + a file broker, demo data loaded
	@HOST=$(HOST) PORT=$(PORT) bin/run-embedded

dev: $(VENV)/.prod  ## the same with Django's autoreloading debug server (DJANGO_DEBUG=true)
	@HOST=$(HOST) PORT=$(PORT) bin/run-embedded --dev

test: $(VENV)/.dev  ## set up, lint, type-check, and run the whole test suite on PostgreSQL + Redis
	@bin/ensure-chromium
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/ruff format --check --quiet .
	$(VENV)/bin/mypy
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: $(VENV)/.dev  ## run the benchmarks (PostgreSQL + Redis; see bench/README.md)
	@command -v wrk >/dev/null 2>&1 || bin/apt-install wrk
	$(PY) -m bench $(BENCH_ARGS)

# Mutation testing (not part of `make test`): the files and their tests are [tool.mutmut] in
# pyproject.toml. A fresh run each time (a few minutes); MUTATE_MIN=90 fails under 90% a file.
MUTATE_MIN ?= 0
mutate: $(VENV)/.dev  ## mutation-test core/ and the rule files, print the score per file
	rm -rf mutants mutmut-run.log
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  $(VENV)/bin/mutmut run > mutmut-run.log 2>&1 || { tail -n 40 mutmut-run.log; exit 1; }
	$(PY) tests/mutation_report.py --min $(MUTATE_MIN)

lint: $(VENV)/.dev  ## ruff lint + format check, migrations check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

check: $(VENV)/.prod  ## Django system checks (incl. task time limits vs broker timeout), migrations check
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run

lock: $(VENV)/.dev  ## re-resolve requirements/*.txt from pyproject.toml (UPGRADE=1: newest allowed)
	for group in prod dev; do \
	  $(VENV)/bin/uv pip compile --quiet --group pyproject.toml:$$group --generate-hashes \
	    --universal --python-version 3.12 --no-annotate --no-header $(if $(UPGRADE),--upgrade) \
	    -o requirements/$$group.txt || exit 1; done

fmt: $(VENV)/.dev  ## format and autofix
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: $(VENV)/.prod  ## apply migrations to the configured database
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py migrate

seed: $(VENV)/.prod  ## load demo data into an empty database
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py seed_demo --if-empty

messages: $(VENV)/.dev  ## refresh and compile the Simplified Chinese translations
	DJANGO_DEBUG=1 $(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=bench
	DJANGO_DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

clean:  ## remove the embedded database, broker files and the virtualenv
	rm -rf var $(VENV)
