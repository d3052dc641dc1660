"""``make mutate`` runs the tests in a copy of the project (mutants/): the copy must hold every
app Django loads, and the configured test files must exist (pyproject.toml [tool.mutmut])."""

import tomllib
from pathlib import Path

from django.apps import apps
from django.conf import settings

BASE = Path(settings.BASE_DIR)
CONFIG = tomllib.loads((BASE / "pyproject.toml").read_text())["tool"]["mutmut"]


def _top(path: str) -> str:
    return path.strip("/").split("/")[0]


def test_every_project_app_is_copied_into_the_mutation_tree():
    # given: the apps that live in this repository
    local = {
        Path(app.path).relative_to(BASE).parts[0]
        for app in apps.get_app_configs()
        if Path(app.path).is_relative_to(BASE) and ".venv" not in Path(app.path).parts
    }

    # when
    copied = {_top(p) for p in CONFIG["also_copy"]} | {_top(p) for p in CONFIG["source_paths"]}

    # then
    assert local - copied == set(), "add the new app to [tool.mutmut] also_copy"


def test_every_mutated_file_and_its_tests_exist():
    # then
    for path in CONFIG["source_paths"] + CONFIG["pytest_add_cli_args_test_selection"]:
        assert (BASE / path).exists(), path
    for path in CONFIG["also_copy"]:
        assert (BASE / path).exists(), path


def test_every_modules_rule_file_is_mutated():
    # DESIGN §8: the mutation run covers each module's rules.py (its SPEC numbers and guards)
    rule_files = {p.relative_to(BASE).as_posix() for p in BASE.glob("*/rules.py")}
    assert rule_files - set(CONFIG["source_paths"]) == set(), "add it to [tool.mutmut]"
