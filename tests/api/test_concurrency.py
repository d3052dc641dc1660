"""SPEC §0 idempotency under concurrency: two copies of a batch arriving at the same moment.

Real transactions in two threads (each with its own connection); a barrier holds both requests
after they have looked for already-recorded events (and found none), so both really try to
apply — the UNIQUE (integration, event_id) constraint decides.
"""

import threading
from datetime import timedelta

import pytest
from django.db import OperationalError, connection

from core import clock
from orders.ingest import base as ingest_base
from orders.ingest import pipeline
from orders.models import IngestedEvent, Order, OrderStatus, Payment, ShopDailyStats

from .support import Sender, ev, order_created_data, order_paid_data, ref

pytestmark = pytest.mark.django_db(transaction=True)


def _race(sender: Sender, batch: list[dict], monkeypatch) -> list[list[dict]]:
    barrier = threading.Barrier(2, timeout=20)
    real_prefetch = ingest_base.BatchContext.prefetch

    def prefetch_then_wait(self, events):
        real_prefetch(self, events)
        barrier.wait()

    monkeypatch.setattr(ingest_base.BatchContext, "prefetch", prefetch_then_wait)
    answers: list = [None, None]
    errors: list = []

    def post(slot: int) -> None:
        try:
            copy = Sender(sender.integration, sender.secret)
            answers[slot] = copy.results(batch)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(slot,)) for slot in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return answers


def _statuses(answers):
    return sorted(tuple(r["status"] for r in answer) for answer in answers)


def test_s0_concurrent_copies_of_a_fast_path_batch_apply_once(
    sender, shop_a, buyer, sku_a, monkeypatch
):
    # given a batch of order.created + order.paid (the bulk path)
    later = clock.now() + timedelta(seconds=1)
    batch = []
    for i in range(5):
        batch.append(ev("order.created", order_created_data(shop_a, buyer, sku_a, number=f"C-{i}")))
        batch.append(
            ev(
                "order.paid",
                order_paid_data(shop_a, number=f"C-{i}", amount=sku_a.price_minor),
                at=later,
            )
        )
    # when two copies arrive at the same moment
    answers = _race(sender, batch, monkeypatch)
    # then one copy applied everything and the other is all duplicates with the same results
    assert _statuses(answers) == [("applied",) * 10, ("duplicate",) * 10]
    applied, duplicate = sorted(answers, key=lambda a: a[0]["status"])
    assert [d["result"] for d in duplicate] == [a["result"] for a in applied]
    assert Order.objects.filter(shop=shop_a, status=OrderStatus.PAID).count() == 5
    assert Payment.objects.count() == 5
    assert IngestedEvent.objects.count() == 10
    stats = ShopDailyStats.objects.get(shop=shop_a)
    assert (stats.orders_created, stats.orders_paid) == (5, 5)


def test_s0_concurrent_copies_of_a_slow_path_event_apply_once(
    sender, shop_a, buyer, sku_a, monkeypatch
):
    # given a paid order, and a batch that refunds part of it and upserts a buyer (service calls)
    import factories

    order = factories.make_order(shop_a, buyer, sku=sku_a, status="paid", number="S-1")
    batch = [
        ev(
            "order.refunded",
            ref(shop_a, "S-1", refund_id="RF-1", amount_minor=10_00),
            at=clock.now() + timedelta(seconds=1),
        ),
        ev(
            "buyer.upserted",
            {"buyer_id": "race-buyer", "email": "race@example.com", "country": "FR"},
        ),
    ]
    # when two copies arrive at the same moment
    answers = _race(sender, batch, monkeypatch)
    # then one applied, the other answered duplicate with the same result; refunded once
    assert _statuses(answers) == [("applied", "applied"), ("duplicate", "duplicate")]
    order.refresh_from_db()
    assert order.refunded_minor == 10_00
    assert order.refunds.count() == 1
    assert IngestedEvent.objects.count() == 2
    assert ShopDailyStats.objects.get(shop=shop_a).refunded_minor == 10_00


def test_s0_deadlocked_batch_is_retried_whole(sender, shop_a, buyer, sku_a, monkeypatch):
    # given the first attempt of a batch dies in a deadlock (PostgreSQL rolls it back)
    class Deadlock(Exception):
        sqlstate = "40P01"

    real = pipeline._ingest
    calls = []

    def flaky(integration, events):
        calls.append(1)
        result = real(integration, events)
        if len(calls) == 1:
            raise OperationalError("deadlock detected") from Deadlock()
        return result

    monkeypatch.setattr(pipeline, "_ingest", flaky)
    # when the batch is sent
    results = sender.results(
        [ev("order.created", order_created_data(shop_a, buyer, sku_a, number="DL-1"))]
    )
    # then it was run again from scratch and applied once
    assert len(calls) == 2
    assert results[0]["status"] == "applied"
    assert Order.objects.filter(number="DL-1").count() == 1
    assert ShopDailyStats.objects.get(shop=shop_a).orders_created == 1
