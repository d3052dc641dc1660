"""The hourly evaluation through a real Celery worker on Redis (DESIGN §4), as beat runs it."""

import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings

from activities.models import Evaluation, MetricSnapshot
from activities.tasks import metrics_evaluate_task
from sellercenter.celery import app


def _wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def real_worker_app():
    app.loader.import_default_modules()
    saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=settings.REDIS_URL)
    app.control.purge()
    yield app
    app.conf.update(saved)


@pytest.mark.django_db(transaction=True)
def test_e3_a_real_worker_runs_the_hourly_evaluation(real_worker_app, no_module_consumers):
    # given: two shops
    from actkit import Seller

    sellers = [Seller(), Seller()]
    sellers[0].orders(3, sellers[0].shop.created_at, cancelled=1)
    ran_in = []

    def record(sender=None, **kwargs):
        if sender.name.startswith("activities."):
            ran_in.append((sender.name, threading.current_thread() is threading.main_thread()))

    task_postrun.connect(record, weak=False)
    try:
        with start_worker(real_worker_app, pool="solo", perform_ping_check=False):
            # when: published to Redis and consumed by the worker thread
            metrics_evaluate_task.delay()
            done = _wait_for(lambda: Evaluation.objects.exists() and bool(ran_in))
    finally:
        task_postrun.disconnect(record)

    # then: one evaluation, a snapshot per shop
    assert done
    evaluation = Evaluation.objects.get()
    assert evaluation.shops == MetricSnapshot.objects.filter(evaluation=evaluation).count() >= 2
    assert ran_in == [("activities.tasks.metrics_evaluate_task", False)]
