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

    waited = threading.local()

    def prefetch_then_wait(self, events):
        recorded = real_prefetch(self, events)
        if not getattr(waited, "done", False):  # (a batch run again after a lost race does not)
            waited.done = True
            barrier.wait()
        return recorded

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

    def flaky(integration, events, **kwargs):
        calls.append(1)
        result = real(integration, events, **kwargs)
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


def test_s0_a_lost_race_early_in_a_batch_does_not_break_its_later_fast_runs(
    sender, shop_a, buyer, sku_a, monkeypatch
):
    """Fault: a copy of the batch committed between our prefetch and our writes; the first fast
    run conflicts, its slow replay loses the race and clears the batch caches, and the second
    fast run used to read them by key (KeyError → 500)."""
    # given: a batch of two fast runs separated by a slow event
    batch = [
        ev("order.created", order_created_data(shop_a, buyer, sku_a, number="LR-1")),
        ev("order.paid", order_paid_data(shop_a, number="LR-1", amount=sku_a.price_minor)),
        ev("buyer.upserted", {"buyer_id": "b-lr", "email": "lr@example.com", "country": "US"}),
        ev("order.created", order_created_data(shop_a, buyer, sku_a, number="LR-2")),
    ]
    real_prefetch = ingest_base.BatchContext.prefetch
    copies = []

    def prefetch_then_let_a_copy_commit(self, events):
        recorded = real_prefetch(self, events)
        if copies:
            return recorded
        copies.append(None)

        def copy_request():
            try:
                copies[0] = Sender(sender.integration, sender.secret).results(batch)
            finally:
                connection.close()

        t = threading.Thread(target=copy_request)
        t.start()
        t.join(60)
        return recorded

    monkeypatch.setattr(ingest_base.BatchContext, "prefetch", prefetch_then_let_a_copy_commit)

    # when
    response = sender.send(batch)

    # then: no 500; the copy applied everything, ours answers duplicate for every event
    assert response.status_code == 200, response.content
    assert [r["status"] for r in copies[0]] == ["applied"] * 4, copies[0]
    assert [r["status"] for r in response.json()["results"]] == ["duplicate"] * 4
    assert Order.objects.filter(shop=shop_a, number__startswith="LR-").count() == 2


def test_s0_ten_identical_big_batches_at_once_apply_each_event_once(sender, shop_a, buyer, sku_a):
    """Fault: ten identical 400-event batches posted at once — one answered 500."""
    # given: 150 created+paid pairs, then 50 refunds and 50 shipments of the first 100
    price = sku_a.price_minor
    batch = []
    for n in range(150):
        number = f"TB-{n}"
        batch.append(ev("order.created", order_created_data(shop_a, buyer, sku_a, number=number)))
        batch.append(ev("order.paid", order_paid_data(shop_a, number=number, amount=price)))
    for n in range(50):
        batch.append(
            ev("order.refunded", ref(shop_a, f"TB-{n}", refund_id=f"rf-{n}", amount_minor=price))
        )
    for n in range(50, 100):
        batch.append(
            ev(
                "order.shipped",
                ref(shop_a, f"TB-{n}", carrier="aliexpress_standard", tracking_number=f"LP{n}"),
            )
        )
    answers: list = [None] * 10
    errors: list = []
    barrier = threading.Barrier(10, timeout=60)

    def post(slot: int) -> None:
        try:
            copy = Sender(sender.integration, sender.secret)
            barrier.wait()
            response = copy.send(batch)
            answers[slot] = (response.status_code, response.json())
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=post, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)

    # then: every answer a 200, each event applied exactly once across the ten
    assert errors == []
    assert [code for code, _ in answers] == [200] * 10, [a[1] for a in answers if a[0] != 200]
    for i, _event in enumerate(batch):
        statuses = [body["results"][i]["status"] for _, body in answers]
        assert statuses.count("applied") == 1, (i, statuses)
        assert set(statuses) <= {"applied", "duplicate"}, (i, statuses)
    assert Order.objects.filter(shop=shop_a).count() == 150
    assert Order.objects.filter(shop=shop_a, status=OrderStatus.REFUNDED).count() == 50
    assert Order.objects.filter(shop=shop_a, status=OrderStatus.SHIPPED).count() == 50
