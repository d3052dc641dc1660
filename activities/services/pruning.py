"""Pruning of the hourly metric snapshots (about 10,000 rows an hour at full size).

Kept: every snapshot of the last ``ACTIVITIES_SNAPSHOT_RETENTION_DAYS`` natural days (the
monitor, the threshold preview, the E-5 "yesterday" and the E-8 re-enrolment streak read only
those), and for ever the two snapshots each forced exit points at (its evidence and its replay
from raw orders), with their evaluations (the registry numbers and incidents they applied).
Set-based: one ``DELETE`` per batch, then one for the evaluations left without a snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from core import clock

from .. import rules

BATCH = 50_000

PRUNE_SNAPSHOTS_SQL = """
DELETE FROM activities_metricsnapshot WHERE id IN (
    SELECT s.id FROM activities_metricsnapshot s
    WHERE s.day < %(before)s
      AND NOT EXISTS (SELECT 1 FROM activities_activityexit x WHERE x.snapshot_id = s.id)
      AND NOT EXISTS (SELECT 1 FROM activities_activityexit x WHERE x.previous_id = s.id)
    ORDER BY s.id
    LIMIT %(batch)s
)
"""

PRUNE_EVALUATIONS_SQL = """
DELETE FROM activities_evaluation
WHERE day < %(before)s
  AND NOT EXISTS (
      SELECT 1 FROM activities_metricsnapshot s
      WHERE s.evaluation_id = activities_evaluation.id
  )
"""


@dataclass(frozen=True)
class PruneResult:
    before: object  # the first natural day kept
    snapshots: int
    evaluations: int


def snapshots_prune(*, now: datetime | None = None, batch: int = BATCH) -> PruneResult:
    """Delete the snapshots older than the retention (except the exits'), in batches of
    ``batch`` rows, each its own transaction; then the evaluations left empty."""
    now = now or clock.now()
    before = clock.natural_day(now) - timedelta(days=rules.snapshot_retention_days())
    snapshots = 0
    while True:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(PRUNE_SNAPSHOTS_SQL, {"before": before, "batch": batch})
            n = cur.rowcount
        snapshots += n
        if n < batch:
            break
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(PRUNE_EVALUATIONS_SQL, {"before": before})
        evaluations = cur.rowcount
    return PruneResult(before=before, snapshots=snapshots, evaluations=evaluations)
