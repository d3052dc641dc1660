"""Writes of the activities module, by topic (DESIGN §2: a file past ~500 lines is a package)."""

from .consistency import (
    CheckResult,
    activity_order_record,
    consistency_check,
    consistency_check_all,
)
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
from .incidents import IncidentInput, incident_declare, incident_validate
from .postmortem import (
    PostMortemInput,
    appeal_decide,
    appeal_due_at,
    appeal_open,
    evidence_files,
    postmortem_decide,
    postmortem_due_at,
    postmortem_file,
    postmortem_reopen,
)
from .pruning import PruneResult, snapshots_prune
from .report import reports_generate

__all__ = [
    "ActivityInput",
    "CheckResult",
    "EvaluationResult",
    "IncidentInput",
    "PostMortemInput",
    "PruneResult",
    "activity_create",
    "activity_order_record",
    "appeal_decide",
    "appeal_due_at",
    "appeal_open",
    "consistency_check",
    "consistency_check_all",
    "enrolment_create",
    "enrolment_withdraw",
    "evidence_files",
    "final_snapshots",
    "incident_declare",
    "incident_validate",
    "judge",
    "metric_label",
    "metrics_evaluate",
    "postmortem_decide",
    "postmortem_due_at",
    "postmortem_file",
    "postmortem_reopen",
    "precheck_sku",
    "reports_generate",
    "shop_exit",
    "snapshots_prune",
    "window_bounds",
]
