"""Writes of the activities module, by topic (DESIGN §2: a file past ~500 lines is a package)."""

from .enrolment import (
    ActivityInput,
    activity_create,
    enrolment_create,
    enrolment_withdraw,
    precheck_sku,
)
from .evaluation import (
    EvaluationResult,
    final_snapshots,
    judge,
    metric_label,
    metrics_evaluate,
    shop_exit,
    window_bounds,
)
from .incidents import incident_declare

__all__ = [
    "ActivityInput",
    "EvaluationResult",
    "activity_create",
    "enrolment_create",
    "enrolment_withdraw",
    "final_snapshots",
    "incident_declare",
    "judge",
    "metric_label",
    "metrics_evaluate",
    "precheck_sku",
    "shop_exit",
    "window_bounds",
]
