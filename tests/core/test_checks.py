"""core.checks: the rule checks a seller sees (SPEC C-1, A-2, M-1, E-2, E-3)."""

import dataclasses

import pytest

from core.checks import Check, all_passed


def _check(passed, **extra) -> Check:
    return Check(code="c", label="L", passed=passed, measured="1", required="2", **extra)


@pytest.mark.parametrize(("passed", "state"), [(True, "pass"), (False, "fail"), (None, "unknown")])
def test_state_names_pass_fail_and_unknown(passed, state):
    # then
    assert _check(passed).state == state


def test_detail_defaults_to_empty_and_a_check_is_immutable():
    # given
    check = _check(True)

    # then
    assert check.detail == ""
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.passed = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], True),
        ([True], True),
        ([True, True], True),
        ([True, False], False),
        ([True, None], False),  # a condition that cannot be measured is not passed
        ([None], False),
        ([False], False),
    ],
)
def test_all_passed_only_when_every_check_is_measured_and_passed(states, expected):
    # then
    assert all_passed([_check(s) for s in states]) is expected
