"""Beat work of the affiliate module (DESIGN §4): thin, each calls one service, safe to run
twice (claims with SKIP LOCKED, a Redis lock, or idempotent inserts)."""

from celery import shared_task

from . import services
from .services import clicks


@shared_task(acks_late=True)
def affiliate_clicks_flush_task() -> int:
    """Every few seconds (A-4): the Redis click buffer into PostgreSQL. Returns clicks written."""
    return clicks.flush()


@shared_task(acks_late=True)
def affiliate_pre_issue_task() -> int:
    """Every two minutes (A-6): paid, locked commissions become pre-issued."""
    return services.commissions_pre_issue()


@shared_task(acks_late=True)
def affiliate_settle_task() -> dict[str, int]:
    """Hourly (A-6, A-7): commissions past the return window settle against the shop balance."""
    return services.commissions_settle()


@shared_task(acks_late=True)
def affiliate_pids_freeze_task() -> dict[str, int]:
    """Daily (A-3): warn on day 23, freeze PIDs idle for 30 days."""
    return services.pids_freeze()
