"""Beat work of the coin module (DESIGN §4): thin, each calls one service, safe to run twice."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def coins_expire_task() -> int:
    """Daily (C-6): expire due lots, release their reservations. Returns coins expired."""
    return services.lots_expire()


@shared_task(acks_late=True)
def coins_reconcile_task() -> bool:
    """Nightly (C-5): prove the ledger sums to every cached balance. True when it does."""
    return services.ledger_reconcile().ok


@shared_task(acks_late=True)
def coins_grade_task() -> int:
    """Monthly (C-10): store last month's coin-activity grade of every shop with an account.
    Safe to run twice (one row per shop and month). Returns how many shops were graded."""
    return services.grades_compute()
