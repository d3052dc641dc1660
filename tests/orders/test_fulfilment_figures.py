"""The daily figures behind the activities metrics (SPEC E-3, E-4): late shipments by the 72 h
rule, logistics anomalies (official logistics apart), negative "not as described" reviews on
activity orders — kept alike by the services, the fulfilment sweep, bulk seeding and the
rebuild, and recorded once however often the sweep runs."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from constance import config
from factories import make_buyer, make_product, make_shop

from demo import bulk
from demo.bulk.plan import Deliver, OrderPlan, Pay, ReviewStep, Ship, Track
from orders import selectors, services, stats
from orders.inputs import LineInput, OrderInput
from orders.models import Order, Shipment, ShipVerdict, ShopDailyStats

T0 = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
H = timedelta(hours=1)
D = timedelta(days=1)
NEW_FIGURES = (
    "ship_on_time",
    "ship_late",
    "anomalies",
    "anomalies_official",
    "activity_reviews",
    "activity_reviews_negative",
)


@pytest.fixture
def world(db):
    shop = make_shop(currency="USD")
    sku = make_product(shop, skus=[{"code": "F-1", "price_minor": 10_00, "stock": 500}]).skus.get()
    return shop, make_buyer(), sku


def _input(world, number, placed_at=T0, **extra):
    shop, buyer, sku = world
    return OrderInput(
        shop=shop,
        buyer=buyer,
        number=number,
        lines=[LineInput(sku=sku, quantity=1, unit_price_minor=10_00)],
        placed_at=placed_at,
        payment_method="card",
        **extra,
    )


def _order(world, number, *, paid=True, placed_at=T0, **extra):
    order = services.order_create(_input(world, number, placed_at, **extra))
    if paid:
        order = services.order_pay(
            order=order,
            payment_id=f"P-{number}",
            amount_minor=10_00,
            method="card",
            paid_at=placed_at + H,
        )
    return order


def _ship(order, at, carrier="yanwen"):
    return services.order_ship(
        order=order, carrier=carrier, tracking_number=f"TN{order.number}", shipped_at=at
    )


def _figures(shop, day=None):
    rows = ShopDailyStats.objects.filter(shop=shop)
    if day is not None:
        rows = rows.filter(day=day)
    totals = dict.fromkeys(NEW_FIGURES, 0)
    for row in rows.values(*NEW_FIGURES):
        for k in NEW_FIGURES:
            totals[k] += row[k]
    return totals


def _stored(shop):
    return {
        r["day"]: {k: r[k] for k in selectors.DAILY_FIGURES}
        for r in ShopDailyStats.objects.filter(shop=shop).values()
        if any(r[k] for k in selectors.DAILY_FIGURES)
    }


def _truth(shop):
    return {
        day: f
        for (_sid, day), f in selectors.daily_figures_from_orders(shop_ids=[shop.pk]).items()
        if any(f.values())
    }


def test_e3_late_shipment_by_the_72_hour_rule(world):
    shop = world[0]
    # given: on time (scanned at 20 h), never shipped, shipped with a number never scanned
    # (fake), scanned only at 80 h, cancelled at 30 h, never paid
    on_time = _ship(_order(world, "A1"), T0 + 10 * H)
    services.tracking_update(order=on_time, status="picked_up", occurred_at=T0 + 20 * H)
    _order(world, "A2")
    _ship(_order(world, "A3"), T0 + 5 * H)
    slow = _ship(_order(world, "A4"), T0 + 70 * H)
    services.order_cancel(order=_order(world, "A5"), cancelled_at=T0 + 30 * H)
    _order(world, "A6", paid=False)
    assert _figures(shop) == {**dict.fromkeys(NEW_FIGURES, 0), "ship_on_time": 1}

    # when: the sweep runs just before the deadline, then just after it
    assert services.fulfilment_sweep(now=T0 + 72 * H - timedelta(seconds=1)).late == 0
    result = services.fulfilment_sweep(now=T0 + 72 * H)
    services.tracking_update(order=slow, status="picked_up", occurred_at=T0 + 80 * H)

    # then: three late (unshipped, fake number, scanned too late), the cancelled one void
    assert (result.late, result.void) == (3, 1)
    verdicts = dict(Order.objects.filter(shop=shop).values_list("number", "ship_verdict"))
    assert verdicts == {
        "A1": ShipVerdict.ON_TIME,
        "A2": ShipVerdict.LATE,
        "A3": ShipVerdict.LATE,
        "A4": ShipVerdict.LATE,
        "A5": ShipVerdict.VOID,
        "A6": ShipVerdict.UNDECIDED,
    }
    figures = _figures(shop)
    assert (figures["ship_on_time"], figures["ship_late"]) == (1, 3)
    # and a second sweep records nothing twice
    again = services.fulfilment_sweep(now=T0 + 90 * H)
    assert (again.late, again.void) == (0, 0)
    assert again.anomalies == 1  # A3's number, quiet since shipping at 5 h
    assert _figures(shop)["ship_late"] == 3
    assert _stored(shop) == _truth(shop)


def test_e3_a_scan_within_the_deadline_arriving_late_makes_the_order_on_time(world):
    shop = world[0]
    order = _ship(_order(world, "B1"), T0 + 2 * H)
    services.fulfilment_sweep(now=T0 + 73 * H)
    assert _figures(shop)["ship_late"] == 1
    # when: the carrier's scan of 50 h reaches us after the sweep
    services.tracking_update(order=order, status="picked_up", occurred_at=T0 + 50 * H)
    # then: the order moves from late to on time
    figures = _figures(shop)
    assert (figures["ship_on_time"], figures["ship_late"]) == (1, 0)
    assert _stored(shop) == _truth(shop)


def test_e3_e4_logistics_anomalies_quiet_72h_or_stalled_5_days(world):
    shop = world[0]
    # given: an official parcel never scanned after shipping, a third-party one whose second
    # scan comes 4 days after the first, one delivered after 80 silent hours, one scanned
    # every day without progress, and one moving normally
    _ship(_order(world, "C1"), T0 + 5 * H, carrier="aliexpress_standard")
    gap = _ship(_order(world, "C2"), T0 + 5 * H)
    services.tracking_update(order=gap, status="picked_up", occurred_at=T0 + 6 * H)
    services.tracking_update(order=gap, status="in_transit", occurred_at=T0 + 6 * H + 4 * D)
    silent = _ship(_order(world, "C3"), T0 + 5 * H)
    services.tracking_update(order=silent, status="picked_up", occurred_at=T0 + 6 * H)
    services.order_deliver(order=silent, delivered_at=T0 + 86 * H)
    stalled = _ship(_order(world, "C4"), T0 + 5 * H)
    services.tracking_update(order=stalled, status="picked_up", occurred_at=T0 + 6 * H)
    for day in range(1, 6):
        services.tracking_update(
            order=stalled, status="no_update", occurred_at=T0 + 6 * H + day * D
        )
    fine = _ship(_order(world, "C5"), T0 + 5 * H)
    for hours in (6, 40, 70):
        services.tracking_update(order=fine, status="in_transit", occurred_at=T0 + hours * H)
    services.order_deliver(order=fine, delivered_at=T0 + 90 * H)
    before = _figures(shop)
    assert (before["anomalies"], before["anomalies_official"]) == (3, 0)

    # when: the sweep finds the official parcel still quiet
    result = services.fulfilment_sweep(now=T0 + 78 * H)

    # then
    assert result.anomalies == 1
    after = _figures(shop)
    assert (after["anomalies"], after["anomalies_official"]) == (3, 1)
    flagged = set(
        Shipment.objects.filter(order__shop=shop, anomaly_at__isnull=False).values_list(
            "order__number", flat=True
        )
    )
    assert flagged == {"C1", "C2", "C3", "C4"}
    assert services.fulfilment_sweep(now=T0 + 200 * H).anomalies == 0  # once per parcel
    assert _stored(shop) == _truth(shop)


def test_e3_negative_reviews_count_on_activity_orders_only(world):
    shop, _buyer, sku = world
    posted = T0 + 5 * D

    def reviewed(number, rating, text, activity_id):
        order = _order(world, number, activity_id=activity_id)
        order = _ship(order, T0 + 2 * H)
        order = services.order_deliver(order=order, delivered_at=T0 + 3 * D)
        services.review_post(
            order=order,
            sku=sku,
            rating=rating,
            dsr_item_as_described=rating,
            dsr_communication=4,
            dsr_shipping=4,
            posted_at=posted,
            text=text,
        )

    reviewed("R1", 1, "完全与描述不符", 7)  # negative
    reviewed("R2", 2, "Arrived late", 7)  # activity review, not "not as described"
    reviewed("R3", 4, "not as described but I like it", 7)  # rated too high
    reviewed("R4", 1, "Not as described", None)  # not an activity order
    figures = _figures(shop)
    assert (figures["activity_reviews"], figures["activity_reviews_negative"]) == (3, 1)

    # when: the keyword list changes, new reviews follow it and a rebuild applies it to all
    config.ACTIVITIES_NOT_AS_DESCRIBED_KEYWORDS = "late"
    reviewed("R5", 1, "Very late", 7)
    assert _figures(shop)["activity_reviews_negative"] == 2
    services.daily_stats_rebuild(shop_ids=[shop.pk])
    assert _figures(shop)["activity_reviews_negative"] == 2  # R2 and R5; R1 no longer
    assert _stored(shop) == _truth(shop)


def test_e3_sweep_counts_across_shops_in_one_pass(world, django_assert_max_num_queries):
    # given: overdue orders in three shops
    shops = [world[0], make_shop(), make_shop()]
    for i, shop in enumerate(shops):
        sku = make_product(shop).skus.first()
        for j in range(3):
            services.order_pay(
                order=services.order_create(
                    OrderInput(
                        shop=shop,
                        buyer=world[1],
                        number=f"S{i}{j}",
                        lines=[LineInput(sku=sku, quantity=1, unit_price_minor=10_00)],
                        placed_at=T0,
                        payment_method="card",
                    )
                ),
                payment_id=f"P-S{i}{j}",
                amount_minor=10_00,
                method="card",
                paid_at=T0 + H,
            )
    # when: one sweep, a fixed number of statements whatever the number of shops
    with django_assert_max_num_queries(8):
        result = services.fulfilment_sweep(now=T0 + 4 * D)
    # then
    assert result.late == 9
    for shop in shops:
        assert _figures(shop)["ship_late"] == 3


def _plan(world, number, steps, **extra):
    shop, buyer, sku = world
    plan = OrderPlan(
        OrderInput(
            shop=shop,
            buyer=buyer,
            number=number,
            lines=[LineInput(sku=sku, quantity=1, unit_price_minor=10_00)],
            placed_at=T0,
            payment_method="card",
            **extra,
        )
    )
    plan.steps = steps(plan, sku)
    return plan


def _quiet_activity_life(plan, sku):
    return [
        Pay(f"PAY-{plan.number}", plan.due_minor, "card", T0 + H),
        Ship("aliexpress_saver", f"LP{plan.number}", T0 + 3 * H),
        Track("picked_up", T0 + 80 * H),  # first scan after the deadline, ending a quiet spell
        Track("delivered", T0 + 6 * D),
        Deliver(T0 + 6 * D),
        ReviewStep(sku.pk, 1, 1, 3, 3, T0 + 7 * D, "Not as described", "en"),
    ]


def _on_time_life(plan, sku):
    return [
        Pay(f"PAY-{plan.number}", plan.due_minor, "card", T0 + H),
        Ship("yanwen", f"YW{plan.number}", T0 + 3 * H),
        Track("picked_up", T0 + 5 * H),
        Track("in_transit", T0 + 40 * H),
        Deliver(T0 + 100 * H),  # 60 silent hours: not quiet enough
        ReviewStep(sku.pk, 2, 2, 3, 3, T0 + 7 * D, "pas conforme", "fr"),
    ]


def _unshipped_life(plan, sku):
    return [Pay(f"PAY-{plan.number}", plan.due_minor, "card", T0 + H)]


@pytest.mark.parametrize("life", [_quiet_activity_life, _on_time_life, _unshipped_life])
def test_e3_bulk_seeding_keeps_the_same_figures_as_the_services(world, life):
    # given: one plan through the services
    shop = world[0]
    plan = _plan(world, "9100000000000001", life, activity_id=42)
    by_services = bulk.apply_with_services(plan)
    services.fulfilment_sweep(now=T0 + 10 * D)
    stats_by_services = _stored(shop)
    shipment = (
        Shipment.objects.filter(order=by_services).values_list("anomaly_at", flat=True).first()
    )
    verdict = Order.objects.get(pk=by_services.pk).ship_verdict
    Order.objects.filter(shop=shop).delete()
    ShopDailyStats.objects.filter(shop=shop).delete()

    # when: the same plan written in bulk, then the same sweep
    figures = stats.Deltas()
    bulk.BulkWriter().write([bulk.build_order_rows(plan, figures)], figures=figures)
    services.fulfilment_sweep(now=T0 + 10 * D)

    # then: the same flags, the same figures, and the rebuild agrees
    order = Order.objects.get(shop=shop)
    assert order.ship_verdict == verdict
    assert (
        Shipment.objects.filter(order=order).values_list("anomaly_at", flat=True).first()
        == shipment
    )
    assert _stored(shop) == stats_by_services
    assert _stored(shop) == _truth(shop)
    assert any(any(f[k] for k in NEW_FIGURES) for f in stats_by_services.values())


def test_e3_daily_stats_rebuild_restores_the_new_figures(world):
    shop = world[0]
    with time_machine.travel(T0 + 10 * D, tick=False):
        _ship(_order(world, "E1"), T0 + 80 * H, carrier="aliexpress_standard")
        _order(world, "E2")
        services.fulfilment_sweep(now=T0 + 10 * D)
        expected = _stored(shop)
        ShopDailyStats.objects.filter(shop=shop).update(ship_late=0, anomalies_official=0)
        services.daily_stats_rebuild(shop_ids=[shop.pk])
    assert _stored(shop) == expected
    figures = _figures(shop)
    assert (figures["ship_late"], figures["anomalies_official"]) == (2, 1)


SECOND = timedelta(seconds=1)


def _flagged(shop):
    return set(
        Shipment.objects.filter(order__shop=shop, anomaly_at__isnull=False).values_list(
            "order__number", flat=True
        )
    )


def test_e3_sweep_quiet_parcel_boundary_72h_exactly_vs_one_second_under_and_over(world):
    shop = world[0]
    # given: two parcels last scanned at 10 h (and moving), swept around 72 h after that scan
    for number in ("Q1", "Q2"):
        parcel = _ship(_order(world, number), T0 + 5 * H)
        services.tracking_update(order=parcel, status="in_transit", occurred_at=T0 + 10 * H)
    quiet_at = T0 + 10 * H + 72 * H

    # when / then: one second short of 72 h without an update, nothing is flagged
    assert services.fulfilment_sweep(now=quiet_at - SECOND).anomalies == 0
    assert _flagged(shop) == set()
    # exactly 72 h is "no update for ≥ 72 h" (SPEC E-3): both flagged, at the sweep's time
    assert services.fulfilment_sweep(now=quiet_at).anomalies == 2
    assert _flagged(shop) == {"Q1", "Q2"}
    assert set(Shipment.objects.filter(order__shop=shop).values_list("anomaly_at", flat=True)) == {
        quiet_at
    }
    # and one second over records nothing twice
    assert services.fulfilment_sweep(now=quiet_at + SECOND).anomalies == 0
    assert _figures(shop)["anomalies"] == 2
    assert _stored(shop) == _truth(shop)


def test_e3_sweep_quiet_parcel_one_second_over_72h_is_flagged(world):
    shop = world[0]
    parcel = _ship(_order(world, "Q3"), T0 + 5 * H)
    services.tracking_update(order=parcel, status="in_transit", occurred_at=T0 + 10 * H)
    assert services.fulfilment_sweep(now=T0 + 82 * H + SECOND).anomalies == 1
    assert _flagged(shop) == {"Q3"}
    assert _stored(shop) == _truth(shop)


def test_e3_sweep_stalled_parcel_boundary_5_days_without_progress(world):
    shop = world[0]
    # given: a parcel picked up at 6 h, then scanned every 12 h without progress (never quiet
    # for 72 h, stalled from 6 h + 5 days)
    parcel = _ship(_order(world, "P1"), T0 + 5 * H)
    services.tracking_update(order=parcel, status="picked_up", occurred_at=T0 + 6 * H)
    stalled_at = T0 + 6 * H + 5 * D
    at = T0 + 18 * H
    while at < stalled_at:
        services.tracking_update(order=parcel, status="no_update", occurred_at=at)
        at += 12 * H

    # when / then: one second short of 5 days, not stalled; exactly 5 days, stalled
    assert services.fulfilment_sweep(now=stalled_at - SECOND).anomalies == 0
    assert services.fulfilment_sweep(now=stalled_at).anomalies == 1
    assert _flagged(shop) == {"P1"}
    assert _stored(shop) == _truth(shop)


def test_e3_sweep_never_flags_delivered_parcels(world):
    shop = world[0]
    # given: a parcel delivered after 40 silent hours, then nothing for months; one delivered
    # then completed; one never scanned but delivered at 70 h
    moving = _ship(_order(world, "V1"), T0 + 5 * H)
    services.tracking_update(order=moving, status="picked_up", occurred_at=T0 + 6 * H)
    services.order_deliver(order=moving, delivered_at=T0 + 46 * H)
    done = _ship(_order(world, "V2"), T0 + 5 * H)
    services.order_deliver(order=done, delivered_at=T0 + 50 * H)
    services.order_complete(order=done, completed_at=T0 + 60 * H)
    unscanned = _ship(_order(world, "V3"), T0 + 5 * H)
    services.order_deliver(order=unscanned, delivered_at=T0 + 70 * H)

    # when: sweeps long after, when every one of them has been silent for far over 72 h
    for days in (4, 10, 90):
        assert services.fulfilment_sweep(now=T0 + days * D).anomalies == 0

    # then
    assert _flagged(shop) == set()
    assert _figures(shop)["anomalies"] == 0
    assert _stored(shop) == _truth(shop)


def test_e3_sweep_a_new_scan_resets_the_quiet_clock(world):
    shop = world[0]
    # given: a parcel shipped at 5 h, silent for 70 h, then scanned (in transit) at 75 h
    parcel = _ship(_order(world, "N1"), T0 + 5 * H)
    services.tracking_update(order=parcel, status="in_transit", occurred_at=T0 + 75 * H)

    # when / then: 72 h after shipping is no longer quiet (the scan at 75 h reset the clock);
    # neither is 72 h after shipping plus a day; 72 h after the scan is
    assert services.fulfilment_sweep(now=T0 + 77 * H).anomalies == 0
    assert services.fulfilment_sweep(now=T0 + 100 * H).anomalies == 0
    assert services.fulfilment_sweep(now=T0 + 75 * H + 72 * H - SECOND).anomalies == 0
    assert services.fulfilment_sweep(now=T0 + 75 * H + 72 * H).anomalies == 1
    assert _flagged(shop) == {"N1"}
    assert _stored(shop) == _truth(shop)


@pytest.mark.parametrize("array_rows", [stats.ARRAY_ROWS, 1])  # the figures as a list, as arrays
def test_e3_sweep_finds_quiet_parcels_among_many_in_a_fixed_number_of_statements(
    world, django_assert_max_num_queries, monkeypatch, array_rows
):
    monkeypatch.setattr(stats, "ARRAY_ROWS", array_rows)
    shop = world[0]
    # given: parcels in transit in two shops, some quiet, some recently scanned, some delivered
    other = make_shop(currency="USD")
    other_sku = make_product(
        other, skus=[{"code": "O-1", "price_minor": 10_00, "stock": 500}]
    ).skus.get()
    expected = set()
    for i in range(12):
        target = world if i % 2 else (other, world[1], other_sku)
        parcel = _ship(_order(target, f"M{i}"), T0 + 5 * H)
        if i % 3 == 0:
            services.tracking_update(order=parcel, status="in_transit", occurred_at=T0 + 60 * H)
        elif i % 3 == 1:
            services.order_deliver(order=parcel, delivered_at=T0 + 20 * H)
        else:
            expected.add(f"M{i}")

    # when
    with django_assert_max_num_queries(8):
        result = services.fulfilment_sweep(now=T0 + 5 * D)

    # then: the quiet ones only, in both shops, each figure once
    assert result.anomalies == len(expected)
    assert _flagged(shop) | _flagged(other) == expected
    assert _stored(shop) == _truth(shop)
    assert _stored(other) == _truth(other)


@pytest.mark.django_db(transaction=True)
def test_e3_two_sweeps_at_once_record_each_quiet_parcel_and_late_order_once():
    import threading

    from django.db import connections

    shop = make_shop(currency="USD")
    sku = make_product(shop, skus=[{"code": "T-1", "price_minor": 10_00, "stock": 500}]).skus.get()
    world = (shop, make_buyer(), sku)
    # given: eight parcels quiet since shipping, four orders past their deadline unshipped
    for i in range(8):
        _ship(_order(world, f"T{i}"), T0 + 5 * H)
    for i in range(4):
        _order(world, f"U{i}")
    results, errors = [], []
    barrier = threading.Barrier(2)

    def sweep():
        try:
            barrier.wait()
            results.append(services.fulfilment_sweep(now=T0 + 5 * D))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    # when: two sweeps at once
    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    # then: each fact once, whichever sweep recorded it
    assert errors == []
    assert sum(r.anomalies for r in results) == 8
    assert sum(r.late for r in results) == 12  # the eight never scanned are late too
    assert Shipment.objects.filter(order__shop=shop, anomaly_at__isnull=False).count() == 8
    figures = _figures(shop)
    assert (figures["anomalies"], figures["ship_late"]) == (8, 12)
    assert _stored(shop) == _truth(shop)
