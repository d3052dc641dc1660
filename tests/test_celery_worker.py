"""Background work for real (DESIGN §4): a Celery worker consumes a task from Redis and its effect
lands in the database; and the settings that make at-least-once delivery safe are in place.

Unit tests run tasks eagerly (settings_test); this module switches that off and runs an embedded
worker thread (``celery.contrib.testing.worker.start_worker``) on the test's REDIS_URL.
"""

import threading
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.schedules import crontab, schedule
from celery.signals import task_postrun
from django.conf import settings
from factories import make_buyer, make_order, make_shop

from core import clock
from orders.models import ShopDailyStats
from orders.tasks import daily_stats_reconcile_task
from sellercenter.celery import app


@pytest.fixture
def real_worker_app():
    """The product's Celery app, not eager, on the test Redis; restored afterwards."""
    app.loader.import_default_modules()  # autodiscover every app's tasks
    saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=settings.REDIS_URL)
    app.control.purge()  # nothing left over from an earlier run
    yield app
    app.conf.update(saved)


def _wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_reconcile_task_from_redis(real_worker_app, no_module_consumers):
    # given: committed orders, and today's figures drifted away from them
    shop = make_shop()
    buyer = make_buyer()
    # (both at one instant: a few minutes apart, they straddled midnight in the platform's
    # time zone when the run fell just after it, and landed on two days' figures)
    placed = clock.now() - timedelta(minutes=5)
    make_order(shop, buyer, status="paid", placed_at=placed)
    make_order(shop, buyer, status="cancelled", placed_at=placed)
    expected = ShopDailyStats.objects.values(
        "orders_created", "orders_paid", "orders_cancelled", "gmv_minor"
    ).get(shop=shop)
    ShopDailyStats.objects.filter(shop=shop).update(orders_paid=0, gmv_minor=0, orders_created=9)

    ran_in = []

    def record(sender=None, **kwargs):
        ran_in.append((sender.name, threading.current_thread() is threading.main_thread()))

    task_postrun.connect(record, weak=False)
    try:
        with start_worker(real_worker_app, pool="solo", perform_ping_check=False):
            # when: published to Redis, consumed by the worker thread
            daily_stats_reconcile_task.delay()
            fixed = _wait_for(
                lambda: (
                    ShopDailyStats.objects.values(*expected).filter(shop=shop).first() == expected
                )
            )
    finally:
        task_postrun.disconnect(record)

    # then
    assert fixed, ShopDailyStats.objects.values().filter(shop=shop).first()
    assert ran_in == [("orders.tasks.daily_stats_reconcile_task", False)]


def test_at_least_once_delivery_settings():
    # then: DESIGN §4 — acks late, requeue on a lost worker, JSON only, bounded tasks
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit


def test_redis_visibility_timeout_outlives_the_longest_task():
    # then: otherwise Redis would redeliver a task that is still running
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert options["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT


def test_the_beat_schedule_has_entries_and_each_names_a_registered_task():
    # given
    app.loader.import_default_modules()
    beat = app.conf.beat_schedule

    # then
    assert beat, "the beat schedule is empty"
    assert "orders.tasks.daily_stats_reconcile_task" in {e["task"] for e in beat.values()}
    for name, entry in beat.items():
        assert entry["task"] in app.tasks, f"beat entry {name!r}: unknown task {entry['task']!r}"
        assert isinstance(entry["schedule"], crontab | schedule | timedelta | int | float), name


def test_tasks_are_named_task_and_registered():
    # given
    app.loader.import_default_modules()
    ours = [n for n in app.tasks if not n.startswith("celery.")]

    # then: DESIGN §4 naming (`*_task`)
    assert "orders.tasks.daily_stats_reconcile_task" in ours
    assert [n for n in ours if not n.endswith("_task")] == []
