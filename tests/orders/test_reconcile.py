"""The daily-figures reconcile (``daily_stats_rebuild``) run while events keep arriving: it must
neither lose the facts committed during it nor deadlock with them (fault: 500 orders and their
GMV missing from today's figures; a DELETE deadlocking against an event's UPDATE)."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from factories import amount_due, make_buyer, make_order, make_product, make_shop

from core import clock
from orders import selectors
from orders import services as svc
from orders.models import ShopDailyStats

pytestmark = pytest.mark.django_db(transaction=True)


def _stored(shop_ids):
    return {
        (r["shop_id"], r["day"]): {k: r[k] for k in selectors.DAILY_FIGURES}
        for r in ShopDailyStats.objects.filter(shop_id__in=shop_ids).values()
        if any(r[k] for k in selectors.DAILY_FIGURES)
    }


def _truth(shop_ids):
    return {
        key: figures
        for key, figures in selectors.daily_figures_from_orders(shop_ids=shop_ids).items()
        if any(figures.values())
    }


def test_an_order_committed_between_the_reconciles_read_and_write_is_kept(monkeypatch):
    # given: a shop with figures, and an order that commits while the reconcile runs
    shop, buyer = make_shop(), make_buyer()
    make_order(shop, buyer, status="paid")
    real = selectors.daily_figures_from_orders
    writer_done = threading.Event()
    started = []

    def compute_then_let_an_order_in(**kwargs):
        figures = real(**kwargs)
        if not started:
            started.append(True)

            def write():
                try:
                    make_order(shop, buyer, status="paid")
                finally:
                    connections.close_all()
                    writer_done.set()

            threading.Thread(target=write).start()
            # The writer reaches its figures' update while we are still inside the reconcile.
            writer_done.wait(1.5)
        return figures

    monkeypatch.setattr(selectors, "daily_figures_from_orders", compute_then_let_an_order_in)

    # when
    svc.daily_stats_rebuild(since=clock.now() - timedelta(days=1))
    assert writer_done.wait(30)

    # then: both orders and their GMV are in today's figures
    day = ShopDailyStats.objects.get(shop=shop, day=clock.natural_day(clock.now()))
    assert day.orders_created == 2
    assert day.orders_paid == 2
    assert _stored([shop.pk]) == _truth([shop.pk])


def test_reconcile_running_through_concurrent_ingestion_loses_nothing():
    # given: four shops taking orders in four threads while the reconcile runs again and again
    shops = [make_shop() for _ in range(4)]
    buyer = make_buyer()
    skus = [make_product(s, skus=[{"code": "R-1", "price_minor": 9_99}]).skus.get() for s in shops]
    stop = threading.Event()
    errors = []

    def ingest(shop, sku):
        try:
            n = 0
            while not stop.is_set() and n < 40:
                order = make_order(shop, buyer, status="pending_payment", sku=sku)
                if n % 3:
                    svc.order_pay(
                        order=order,
                        payment_id=f"p-{order.pk}",
                        amount_minor=amount_due(order),
                        method="card",
                        paid_at=clock.now(),
                    )
                if n % 5 == 0:
                    svc.order_cancel(order=order, cancelled_at=clock.now())
                n += 1
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=ingest, args=pair) for pair in zip(shops, skus, strict=True)]
    for t in threads:
        t.start()

    # when
    rebuilds = 0
    while any(t.is_alive() for t in threads):
        svc.daily_stats_rebuild(since=clock.now() - timedelta(days=1), chunk_size=2)
        rebuilds += 1
    stop.set()
    for t in threads:
        t.join(60)

    # then: no writer failed (no deadlock surfaced), and the figures equal the facts
    assert errors == []
    assert rebuilds >= 2
    ids = [s.pk for s in shops]
    assert _stored(ids) == _truth(ids)


def test_rebuild_zeroes_days_whose_facts_are_gone_instead_of_deleting_them():
    # given: figures for a day with no facts at all (drift)
    shop = make_shop()
    today = clock.natural_day(clock.now())
    ShopDailyStats.objects.create(shop=shop, day=today, orders_created=7, gmv_minor=100)

    # when
    svc.daily_stats_rebuild(shop_ids=[shop.pk])

    # then
    row = ShopDailyStats.objects.get(shop=shop, day=today)
    assert (row.orders_created, row.gmv_minor) == (0, 0)
