"""A rule check shown to a seller: what was measured, what is required, pass or fail.

Generic on purpose (no domain knowledge): the marketing modules' selectors return lists of
these for their opening / eligibility conditions (SPEC C-1, A-2, M-1, E-2, E-3).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    code: str  # stable id of the condition, e.g. "c1b_positive_rate"
    label: str  # the condition in words
    passed: bool | None  # None: it cannot be measured right now
    measured: str  # the measured value, formatted
    required: str  # the threshold, formatted
    detail: str = ""  # why it failed, or what to do

    @property
    def state(self) -> str:
        return "unknown" if self.passed is None else ("pass" if self.passed else "fail")


def all_passed(checks: list[Check]) -> bool:
    return all(c.passed is True for c in checks)
