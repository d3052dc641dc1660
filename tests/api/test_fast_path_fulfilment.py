"""SPEC E-3 figures on the ingestion fast path: orders created and paid through the batch path
carry their shipping deadline like the services' orders, so the fulfilment sweep and the scans
that follow give the daily figures the rebuild recomputes."""

from datetime import timedelta

from factories import make_product, make_shop

from core import clock
from orders import selectors, services
from orders.models import Order, ShopDailyStats

from .support import ev, order_created_data, order_paid_data


def test_e3_fast_path_orders_get_their_late_shipment_verdicts(
    sender, buyer, django_capture_on_commit_callbacks, no_coin_guard
):
    # given: six orders created and paid in one batch, four days ago
    shop = make_shop(external_id="shop-fulfil", currency="CNY")
    sku = make_product(shop, skus=[{"code": "Q-1", "price_minor": 20_00, "stock": 50}]).skus.get()
    placed = clock.now() - timedelta(days=4)
    batch = []
    for i in range(6):
        n = f"Q-{i}"
        batch.append(ev("order.created", order_created_data(shop, buyer, sku, number=n), at=placed))
        batch.append(
            ev(
                "order.paid",
                order_paid_data(shop, number=n, amount=20_00),
                at=placed + timedelta(minutes=20),
            )
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert {r["status"] for r in sender.results(batch)} == {"applied"}

    # when: two ship with a scan within 72 h, one ships without a scan, three never ship;
    # then the sweep runs
    for i in range(3):
        order = services.order_ship(
            order=Order.objects.get(shop=shop, number=f"Q-{i}"),
            carrier="aliexpress_standard",
            tracking_number=f"LP{i}",
            shipped_at=placed + timedelta(hours=10),
        )
        if i < 2:
            services.tracking_update(
                order=order, status="picked_up", occurred_at=placed + timedelta(hours=12)
            )
    result = services.fulfilment_sweep()

    # then: four late, two on time, all three parcels quiet since (84 h and more), and the
    # rebuild agrees with the stored figures
    assert result.late == 4
    day = ShopDailyStats.objects.get(shop=shop, day=clock.natural_day(placed))
    assert (day.ship_on_time, day.ship_late, day.anomalies_official) == (2, 4, 3)
    truth = selectors.daily_figures_from_orders(shop_ids=[shop.pk])
    stored = {k: getattr(day, k) for k in selectors.DAILY_FIGURES}
    assert truth[(shop.pk, day.day)] == stored
