from datetime import timedelta

from celery import shared_task

from core import clock

from . import services


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def daily_stats_reconcile_task() -> int:
    """Re-derive the last two natural days of ShopDailyStats from the orders themselves.

    Idempotent: it replaces rows with what the facts say, so running it twice is harmless.
    """
    return services.daily_stats_rebuild(since=clock.now() - timedelta(days=1))
