from datetime import timedelta

from celery import shared_task

from core import clock

from . import eventlog, services


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def daily_stats_reconcile_task() -> int:
    """Re-derive the last two natural days of ShopDailyStats from the orders themselves.

    Idempotent: it replaces rows with what the facts say, so running it twice is harmless.
    """
    return services.daily_stats_rebuild(since=clock.now() - timedelta(days=1))


@shared_task
def order_events_deliver_task(event_ids: list[int]) -> dict[str, int]:
    """Deliver freshly committed order events to their consumers (DESIGN §1b). Safe to lose or
    to run twice: the claim makes handling exactly-once and the catch-up finds what is missed."""
    return eventlog.deliver([int(i) for i in event_ids]).counts


@shared_task
def order_events_catch_up_task() -> dict[str, int]:
    """Beat: hand every consumer what it has not handled (lost tasks, killed workers, retries)."""
    return eventlog.catch_up().counts


@shared_task
def order_events_prune_task() -> int:
    """Beat: delete handled events past their retention."""
    return eventlog.prune()
