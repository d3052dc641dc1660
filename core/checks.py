"""A rule check shown to a seller: what was measured, what is required, pass or fail.

Generic on purpose (no domain knowledge): the marketing modules' selectors return lists of
these for their opening / eligibility conditions (SPEC C-1, A-2, M-1, E-2, E-3).
The page shows the measured value beside the threshold, and under a failed condition a "How to
fix" line (``fix``, with a link to ``fix_url`` where one exists). Rule ids stay in code.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    code: str  # stable id of the condition, e.g. "c1b_positive_rate"
    label: str  # the condition in words
    passed: bool | None  # None: it cannot be measured right now
    measured: str  # the measured value, formatted
    required: str  # the threshold, formatted
    detail: str = ""  # why it failed, in the seller's words
    # What the seller can do about a failed (or unmeasurable) condition, and where, when a page
    # exists for it: every condition that can fail carries one (DESIGN §5).
    fix: str = ""
    fix_url: str = ""
    fix_link: str = ""  # the link's text

    @property
    def state(self) -> str:
        return "unknown" if self.passed is None else ("pass" if self.passed else "fail")


def all_passed(checks: list[Check]) -> bool:
    return all(c.passed is True for c in checks)
