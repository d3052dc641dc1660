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
