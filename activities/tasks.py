"""Beat work of the activities module (DESIGN §4): thin, each calls one service, safe to run
twice (two evaluations never overlap, and an exit is once per shop per natural day)."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def metrics_evaluate_task() -> dict:
    """Hourly (SPEC E-3): every shop's four metrics, their snapshots, and the forced exits
    (E-5) they decide. Returns the evaluation id, shops evaluated and shops exited."""
    result = services.metrics_evaluate()
    return {
        "evaluation": result.evaluation.pk,
        "shops": result.evaluation.shops,
        "exits": len(result.exits),
    }


@shared_task(acks_late=True)
def consistency_check_task() -> dict:
    """Every 15 minutes (SPEC E-6 layer 1): activity orders' prices and units against their
    enrolments. Two at once check each order once (SKIP LOCKED claim)."""
    result = services.consistency_check_all()
    return {"checked": result.checked, "issues": result.issues}


@shared_task(acks_late=True)
def reports_generate_task() -> dict:
    """Hourly (SPEC E-6 layer 3): review reports of ended activities, final 72 h after the end."""
    return {"reports": services.reports_generate()}


@shared_task(acks_late=True)
def snapshots_prune_task() -> dict:
    """Daily: metric snapshots past the retention, except the forced exits' evidence."""
    result = services.snapshots_prune()
    return {"snapshots": result.snapshots, "evaluations": result.evaluations}
