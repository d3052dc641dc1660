"""Print the mutation score per file after ``mutmut run`` (``make mutate``).

Reads mutmut's per-file results (``mutants/<file>.meta``). The score is killed / (every mutant
but the skipped ones): a mutant no test reaches counts as a survivor. Exit status 1 when a file
scores under ``--min`` (default 0: report only).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

# mutmut's exit codes (mutmut.stats.status_by_exit_code)
KILLED = {1, 3, 37}  # test failure, pytest internal error, caught by the type checker
TIMEOUT = {36, -24, 24, 152, 255}
NO_TESTS = {5, 33}
SKIPPED = {34}


def file_stats(meta: Path) -> Counter:
    codes = json.loads(meta.read_text())["exit_code_by_key"].values()
    stats: Counter = Counter()
    for code in codes:
        if code in KILLED or code in TIMEOUT:
            stats["killed"] += 1
        elif code in SKIPPED:
            stats["skipped"] += 1
        elif code in NO_TESTS:
            stats["no tests"] += 1
        elif code == 0:
            stats["survived"] += 1
        else:
            stats["other"] += 1
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--min", type=float, default=0.0, help="minimum score per file, in %%")
    parser.add_argument("--mutants", type=Path, default=Path("mutants"))
    args = parser.parse_args()
    metas = sorted(args.mutants.rglob("*.py.meta"))
    if not metas:
        print("No mutation results: run `make mutate` (mutmut run) first.")
        return 1
    print(f"{'file':<28} {'killed':>7} {'survived':>9} {'no tests':>9} {'score':>7}")
    failed = False
    total: Counter = Counter()
    for meta in metas:
        stats = file_stats(meta)
        counted = sum(stats.values()) - stats["skipped"]
        if not counted:
            continue
        total.update(stats)
        score = 100 * stats["killed"] / counted
        failed |= score < args.min
        name = str(meta.relative_to(args.mutants)).removesuffix(".meta")
        print(
            f"{name:<28} {stats['killed']:>7} {stats['survived'] + stats['other']:>9} "
            f"{stats['no tests']:>9} {score:>6.1f}%"
        )
    counted = sum(total.values()) - total["skipped"]
    if counted:
        print(
            f"{'all':<28} {total['killed']:>7} {total['survived'] + total['other']:>9} "
            f"{total['no tests']:>9} {100 * total['killed'] / counted:>6.1f}%"
        )
    print("Survivors: .venv/bin/mutmut results; one diff: .venv/bin/mutmut show <name>")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
