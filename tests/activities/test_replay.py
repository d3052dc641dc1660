"""SPEC E-3: every evaluation can be replayed from the raw orders — a property over generated
order histories: the snapshot's sums, exemptions and metrics equal the replay's."""

from datetime import timedelta

import pytest
from actkit import DAY1_10H, H, Seller
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities import selectors, services
from activities.models import MetricSnapshot
from orders import services as orders

CARRIERS = ["aliexpress_standard", "aliexpress_saver", "yanwen", "cainiao_super_economy"]
TEXTS = ["Not as described", "与描述不符", "Great", "arrived late", ""]
NOW = DAY1_10H

order_life = st.fixed_dictionaries(
    {
        "placed_h": st.integers(min_value=1, max_value=40 * 24),  # hours before NOW
        "paid": st.booleans(),
        "cancel_after_h": st.none() | st.integers(min_value=1, max_value=120),
        "ship_after_h": st.none() | st.integers(min_value=1, max_value=120),
        "carrier": st.sampled_from(CARRIERS),
        "scan_gaps_h": st.lists(st.integers(min_value=1, max_value=150), max_size=4),
        "deliver_after_h": st.none() | st.integers(min_value=1, max_value=200),
        "review": st.none()
        | st.tuples(st.integers(min_value=1, max_value=5), st.sampled_from(TEXTS)),
        "activity": st.booleans(),
        "country": st.sampled_from(["FR", "ES"]),
    }
)


def _live(seller, life):
    """Apply one order's life through the services, every fact before NOW."""
    placed = NOW - timedelta(hours=life["placed_h"])
    order = seller.order(
        placed,
        paid=life["paid"],
        activity_id=7 if life["activity"] else None,
        logistics_service=life["carrier"],
        country=life["country"],
    )
    t = placed + timedelta(minutes=5)
    if life["cancel_after_h"] is not None and (
        life["ship_after_h"] is None or life["cancel_after_h"] < life["ship_after_h"]
    ):
        at = t + timedelta(hours=life["cancel_after_h"])
        if at < NOW:
            orders.order_cancel(order=order, cancelled_at=at)
        return
    if not life["paid"] or life["ship_after_h"] is None:
        return
    t += timedelta(hours=life["ship_after_h"])
    if t >= NOW:
        return
    order = orders.order_ship(
        order=order, carrier=life["carrier"], tracking_number=f"T{order.number}", shipped_at=t
    )
    for i, gap in enumerate(life["scan_gaps_h"]):
        t += timedelta(hours=gap)
        if t >= NOW:
            return
        orders.tracking_update(
            order=order, status="in_transit" if i % 2 == 0 else "no_update", occurred_at=t
        )
    if life["deliver_after_h"] is None:
        return
    t += timedelta(hours=life["deliver_after_h"])
    if t >= NOW:
        return
    order = orders.order_deliver(order=order, delivered_at=t)
    if life["review"] is not None:
        rating, text = life["review"]
        t += H
        if t < NOW:
            orders.review_post(
                order=order,
                sku=seller.sku,
                rating=rating,
                dsr_item_as_described=rating,
                dsr_communication=4,
                dsr_shipping=4,
                posted_at=t,
                text=text,
            )


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lives=st.lists(order_life, min_size=1, max_size=14),
    mid_sweep_h=st.none() | st.integers(min_value=1, max_value=30 * 24),
    incident=st.booleans(),
)
def test_e3_replay_from_raw_orders_gives_the_snapshots_numbers(lives, mid_sweep_h, incident):
    with transaction.atomic():
        seller = Seller()
        facts = sorted(lives, key=lambda x: -x["placed_h"])
        for life in facts:
            _live(seller, life)
        if mid_sweep_h is not None:
            # an earlier hourly sweep, as the beat would have run one
            orders.fulfilment_sweep(now=NOW - timedelta(hours=mid_sweep_h))
        if incident:
            services.incident_declare(
                carrier="yanwen",
                region="FR",
                starts_at=NOW - timedelta(days=20),
                ends_at=NOW - timedelta(days=5),
                reason="Strike",
            )
        result = services.metrics_evaluate(now=NOW)
        snapshot = MetricSnapshot.objects.get(evaluation=result.evaluation, shop=seller.shop)

        replayed = selectors.replay_snapshot(snapshot=snapshot)

        assert replayed["sums"] == snapshot.figures["sums"]
        assert replayed["exempt"] == {k: v for k, v in snapshot.figures["exempt"].items() if v}
        assert replayed["metrics"] == snapshot.metrics
        transaction.set_rollback(True)
