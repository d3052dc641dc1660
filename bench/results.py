"""Pure pieces of the harness: result entries, goals, the JSON file and the README table.

Nothing here touches a server, a database or the clock, so ``tests/bench/test_harness.py``
exercises it directly.

How ``met`` is computed (one rule, in :func:`compute_met`):

* an entry whose ``unit`` is a latency unit (``ms``), a count of lost items (``lost``) or a
  memory size (``MB``) carries an *absolute* goal: the goal bounds ``value``
  (``dashboard.p95_ms``: value <= 150; ``click.lost``: value <= 0;
  ``dispatch.worker_peak_rss_mb``: value < 300);
* every other goal bounds ``ratio`` = value / baseline (``ingest.events_per_s``: ratio >= 0.1);
* no goal: ``met`` is ``None``; a goal whose subject could not be measured (``None``): ``False``.
"""

from __future__ import annotations

import json
import math
import operator
import re
from dataclasses import asdict, dataclass
from pathlib import Path

# Units whose goals bound the value itself rather than the ratio to the baseline.
# ``lost``: answered clicks missing from PostgreSQL after the flush (the click benchmark: 0).
# ``MB``: a peak memory size (``dispatch.worker_peak_rss_mb``: under 300).
ABSOLUTE_GOAL_UNITS = frozenset({"ms", "lost", "MB"})

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_GOAL_RE = re.compile(r"^\s*(>=|<=|>|<)\s*([0-9]+(?:\.[0-9]+)?)\s*$")

README_BEGIN = "<!-- bench:results:begin -->"
README_END = "<!-- bench:results:end -->"
FIELDS = ("name", "unit", "value", "baseline", "ratio", "goal", "met")


class GoalError(ValueError):
    pass


def parse_goal(goal: str) -> tuple[str, float]:
    """``">=0.25"`` -> ``(">=", 0.25)``. Raises GoalError on anything else."""
    m = _GOAL_RE.match(goal or "")
    if not m:
        raise GoalError(f"goal {goal!r} is not of the form '>=X', '<=X', '>X' or '<X'")
    return m.group(1), float(m.group(2))


def goal_subject(unit: str) -> str:
    """Which field a goal bounds for an entry of this unit: ``"value"`` or ``"ratio"``."""
    return "value" if unit in ABSOLUTE_GOAL_UNITS else "ratio"


def compute_ratio(value: float | None, baseline: float | None) -> float | None:
    if value is None or baseline is None or baseline == 0:
        return None
    return value / baseline


def compute_met(
    *, unit: str, value: float | None, ratio: float | None, goal: str | None
) -> bool | None:
    if goal is None:
        return None
    op, bound = parse_goal(goal)
    subject = value if goal_subject(unit) == "value" else ratio
    if subject is None or (isinstance(subject, float) and math.isnan(subject)):
        return False
    return bool(_OPS[op](subject, bound))


@dataclass
class Entry:
    name: str
    unit: str
    value: float | None
    baseline: float | None = None
    ratio: float | None = None
    goal: str | None = None
    met: bool | None = None

    @classmethod
    def make(
        cls,
        name: str,
        unit: str,
        value: float | None,
        baseline: float | None = None,
        goal: str | None = None,
    ) -> Entry:
        ratio = compute_ratio(value, baseline)
        return cls(
            name=name,
            unit=unit,
            value=_round(value),
            baseline=_round(baseline),
            ratio=None if ratio is None else round(ratio, 4),
            goal=goal,
            met=compute_met(unit=unit, value=value, ratio=ratio, goal=goal),
        )

    def as_dict(self) -> dict:
        return asdict(self)


def _round(x: float | None) -> float | None:
    if x is None:
        return None
    return round(float(x), 3)


def to_json(entries: list[Entry]) -> str:
    return json.dumps([e.as_dict() for e in entries], indent=2) + "\n"


def validate_results(data: object) -> None:
    """Check the shape of a results document (a list of entries with exactly FIELDS)."""
    if not isinstance(data, list):
        raise ValueError("results must be a JSON list")
    for item in data:
        if not isinstance(item, dict) or tuple(item) != FIELDS:
            raise ValueError(f"bad entry {item!r}: keys must be {FIELDS}")
        if not isinstance(item["name"], str) or not isinstance(item["unit"], str):
            raise ValueError(f"bad entry {item!r}: name and unit are strings")
        for key in ("value", "baseline", "ratio"):
            if item[key] is not None and not isinstance(item[key], int | float):
                raise ValueError(f"bad entry {item!r}: {key} is a number or null")
        if item["goal"] is not None:
            parse_goal(item["goal"])
        expected = compute_met(
            unit=item["unit"], value=item["value"], ratio=item["ratio"], goal=item["goal"]
        )
        if item["met"] != expected:
            raise ValueError(f"bad entry {item!r}: met should be {expected}")


def write_results(path: Path, entries: list[Entry]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_json(entries))


# --- presentation -------------------------------------------------------------------------------


def fmt_number(x: float | None) -> str:
    if x is None:
        return "—"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:,.1f}"
    return f"{x:,.2f}"


def fmt_goal(e: Entry) -> str:
    if e.goal is None:
        return ""
    op, bound = parse_goal(e.goal)
    bound_s = f"{bound:g}"
    if goal_subject(e.unit) == "value":
        return f"value {op} {bound_s} {e.unit}"
    return f"ratio {op} {bound_s}"


def fmt_met(met: bool | None) -> str:
    return {True: "yes", False: "**NO**", None: ""}[met]


def markdown_table(entries: list[Entry]) -> str:
    rows = [
        "| benchmark | value | baseline | ratio | goal | met |",
        "|---|---:|---:|---:|---|---|",
    ]
    for e in entries:
        unit = f" {e.unit}" if e.unit else ""
        rows.append(
            f"| `{e.name}` | {fmt_number(e.value)}{unit} | "
            f"{fmt_number(e.baseline) + unit if e.baseline is not None else '—'} | "
            f"{fmt_number(e.ratio)} | {fmt_goal(e)} | {fmt_met(e.met)} |"
        )
    return "\n".join(rows)


def text_table(entries: list[Entry]) -> str:
    """The console table (plain text, aligned)."""
    header = ("benchmark", "value", "baseline", "ratio", "goal", "met")
    rows = [header]
    for e in entries:
        unit = f" {e.unit}" if e.unit else ""
        rows.append(
            (
                e.name,
                f"{fmt_number(e.value)}{unit}",
                f"{fmt_number(e.baseline)}{unit}" if e.baseline is not None else "—",
                fmt_number(e.ratio),
                fmt_goal(e),
                {True: "yes", False: "NO", None: ""}[e.met],
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for i, r in enumerate(rows):
        lines.append(
            "  ".join(
                c.ljust(w) if j in (0, 4, 5) else c.rjust(w)
                for j, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def rewrite_readme(text: str, section: str) -> str:
    """Replace what lies between the result markers with ``section`` (append both if absent)."""
    block = f"{README_BEGIN}\n{section.strip()}\n{README_END}"
    begin = text.find(README_BEGIN)
    end = text.find(README_END, begin + 1) if begin != -1 else -1
    if begin == -1 or end == -1:
        return text.rstrip("\n") + "\n\n" + block + "\n"
    return text[:begin] + block + text[end + len(README_END) :]
