"""SPEC §0: every event type applied end to end through the API, rejections, out-of-order
events (retryable), duplicates, and per-event atomicity inside a batch."""

from datetime import timedelta

import pytest

from buyers.models import Buyer
from core import clock
from core.errors import DomainError
from orders import events as domain_events
from orders.models import (
    Cart,
    Dispute,
    Feedback,
    IngestedEvent,
    Order,
    OrderStatus,
    Refund,
    Review,
    Shipment,
    ShopDailyStats,
)
from shops.models import LogisticsSetting, Product, Shop, Sku, Violation

from .support import ev, order_created_data, order_paid_data, ref


def test_s0_every_event_type_applies_end_to_end(sender):
    # given an empty marketplace; when it sends the whole life of a shop, a buyer and an order
    t0 = clock.now() - timedelta(days=10)

    def at(hours):
        return t0 + timedelta(hours=hours)

    shop = {"shop_id": "mk-shop-1", "order_number": "MK-1"}
    steps = [
        ev(
            "shop.upserted",
            {
                "shop_id": "mk-shop-1",
                "name": "Maker Shop",
                "opened_at": (t0 - timedelta(days=400)).isoformat(),
                "main_category": "home_garden",
                "currency": "CNY",
                "store_level": 3,
                "store_rating": 4.8,
                "dsr_item_as_described": 4.7,
                "dsr_communication": 4.9,
                "dsr_shipping": 4.6,
                "enterprise_certified": True,
                "logistics": [
                    {"carrier": "aliexpress_standard", "enabled": True, "certified": True}
                ],
            },
            at=at(0),
        ),
        ev(
            "product.upserted",
            {
                "shop_id": "mk-shop-1",
                "product_id": "P-1",
                "title": "Garden hose",
                "category": "home_garden",
                "skus": [
                    {"sku": "HOSE-10", "price_minor": 50_00, "stock": 10},
                    {
                        "sku": "HOSE-20",
                        "price_minor": 80_00,
                        "stock": 5,
                        "lowest_price_30d_minor": 75_00,
                    },
                ],
            },
            at=at(0),
        ),
        ev(
            "buyer.upserted",
            {"buyer_id": "mk-buyer-1", "email": "Ana@Example.com", "country": "es", "site": "es"},
            at=at(1),
        ),
        ev(
            "cart.updated",
            {
                "shop_id": "mk-shop-1",
                "buyer_id": "mk-buyer-1",
                "items": [{"sku": "HOSE-10", "quantity": 2}],
            },
            at=at(2),
        ),
        ev(
            "order.created",
            {
                **shop,
                "buyer_id": "mk-buyer-1",
                "currency": "CNY",
                "shipping_fee_minor": 5_00,
                "lines": [{"sku": "HOSE-10", "quantity": 2, "unit_price_minor": 50_00}],
            },
            at=at(3),
        ),
        ev(
            "order.paid",
            {**shop, "payment_id": "PAY-1", "amount_minor": 105_00, "method": "alipay"},
            at=at(4),
        ),
        ev(
            "order.shipped",
            {**shop, "carrier": "aliexpress_standard", "tracking_number": "LP001"},
            at=at(20),
        ),
        ev("tracking.updated", {**shop, "status": "in_transit", "location": "Shenzhen"}, at=at(30)),
        ev("dispute.opened", {**shop, "dispute_id": "D-1", "reason": "late"}, at=at(100)),
        ev("dispute.closed", {**shop, "dispute_id": "D-1", "outcome": "seller_won"}, at=at(110)),
        ev("order.delivered", shop, at=at(120)),
        ev(
            "review.posted",
            {
                **shop,
                "sku": "HOSE-10",
                "rating": 5,
                "dsr_item_as_described": 5,
                "dsr_communication": 4,
                "dsr_shipping": 4,
                "text": "¡Genial!",
                "language": "es",
            },
            at=at(130),
        ),
        ev("feedback.posted", {**shop, "kind": "positive"}, at=at(131)),
        ev(
            "order.refunded",
            {**shop, "refund_id": "R-1", "amount_minor": 5_00, "reason": "shipping"},
            at=at(140),
        ),
        ev("order.completed", shop, at=at(150)),
        ev(
            "violation.recorded",
            {"shop_id": "mk-shop-1", "violation_id": "V-1", "kind": "counterfeit", "serious": True},
            at=at(160),
        ),
    ]
    results = sender.results(steps)

    # then every event is applied, in order
    assert [r["status"] for r in results] == ["applied"] * len(steps), results
    shop_row = Shop.objects.get(external_id="mk-shop-1")
    assert shop_row.currency == "CNY"
    assert str(shop_row.store_rating) == "4.80"
    assert LogisticsSetting.objects.get(shop=shop_row).certified
    assert Sku.objects.get(shop=shop_row, code="HOSE-20").lowest_price_30d_minor == 75_00
    assert Product.objects.get(shop=shop_row, external_id="P-1").skus.count() == 2
    buyer = Buyer.objects.get(external_id="mk-buyer-1")
    assert buyer.email == "ana@example.com"
    assert buyer.country == "ES"
    assert Cart.objects.get(shop=shop_row, buyer=buyer).lines.get().quantity == 2
    order = Order.objects.get(shop=shop_row, number="MK-1")
    assert order.status == OrderStatus.COMPLETED
    assert order.amount_paid_minor == 105_00
    assert order.refunded_minor == 5_00
    assert order.placed_at == at(3)
    assert order.paid_at == at(4)
    assert order.completed_at == at(150)
    assert Shipment.objects.get(order=order).events.get().location == "Shenzhen"
    assert Dispute.objects.get(order=order).outcome == "seller_won"
    assert not order.disputed
    assert Review.objects.get(order=order).text == "¡Genial!"
    assert Feedback.objects.get(order=order).kind == "positive"
    assert Refund.objects.get(order=order).amount_minor == 5_00
    assert Violation.objects.get(external_id="V-1").serious
    # each result names what it wrote, and each event is recorded once
    assert results[4]["result"] == {"order_id": order.pk, "order_status": "pending_payment"}
    assert results[5]["result"]["order_status"] == "paid"
    assert IngestedEvent.objects.filter(
        integration=sender.integration, status="applied"
    ).count() == len(steps)


def test_s0_unknown_ids_are_rejected_retryable_and_not_recorded(sender, shop_a, buyer, sku_a):
    # given events naming a shop, a buyer, a SKU and an order that do not exist
    events = [
        ev(
            "product.upserted",
            {
                "shop_id": "ghost-shop",
                "product_id": "P",
                "title": "T",
                "category": "toys",
                "skus": [{"sku": "S", "price_minor": 1}],
            },
        ),
        ev(
            "order.created",
            order_created_data(shop_a, buyer, sku_a, number="U-1") | {"buyer_id": "ghost"},
        ),
        ev(
            "order.created",
            order_created_data(shop_a, buyer, sku_a, number="U-2")
            | {"lines": [{"sku": "GHOST-SKU", "quantity": 1, "unit_price_minor": 100}]},
        ),
        ev("order.paid", order_paid_data(shop_a, number="GHOST-ORDER", amount=100)),
        ev("order.shipped", ref(shop_a, "GHOST-ORDER", carrier="dhl", tracking_number="X")),
        ev("cart.updated", {"shop_id": shop_a.external_id, "buyer_id": "ghost", "items": []}),
        ev("violation.recorded", {"shop_id": "ghost-shop", "violation_id": "V", "kind": "k"}),
    ]
    # when
    results = sender.results(events)
    # then each is rejected with a stable code, flagged retryable, and nothing is recorded
    assert [r["code"] for r in results] == [
        "unknown_shop",
        "unknown_buyer",
        "unknown_sku",
        "unknown_order",
        "unknown_order",
        "unknown_buyer",
        "unknown_shop",
    ]
    assert all(
        r["status"] == "rejected" and r["retryable"] is True and r["message"] for r in results
    )
    assert not IngestedEvent.objects.exists()
    assert not Order.objects.exists()


def test_s0_out_of_order_paid_before_created_is_retryable_then_applies(
    sender, shop_a, buyer, sku_a
):
    # given order.paid arrives before its order.created
    created = ev("order.created", order_created_data(shop_a, buyer, sku_a, number="OOO-1"))
    paid = ev(
        "order.paid",
        order_paid_data(shop_a, number="OOO-1", amount=sku_a.price_minor),
        at=clock.now() + timedelta(seconds=1),
    )
    first = sender.one(paid)
    assert first["status"] == "rejected"
    assert first["retryable"] is True
    assert first["code"] == "unknown_order"
    # when the create arrives, and then the sender retries the very same paid event
    assert sender.one(created)["status"] == "applied"
    retried = sender.one(paid)
    # then the retry is applied (not a duplicate) and the order is paid once
    assert retried["status"] == "applied", retried
    order = Order.objects.get(shop=shop_a, number="OOO-1")
    assert order.status == OrderStatus.PAID
    assert order.payments.count() == 1


@pytest.mark.parametrize(
    ("event_type", "data", "status_needed"),
    [
        ("order.shipped", {"carrier": "dhl", "tracking_number": "T1"}, "paid"),
        ("tracking.updated", {"status": "in_transit"}, "shipped"),
        ("order.delivered", {}, "shipped"),
        ("order.completed", {}, "delivered"),
        ("order.refunded", {"refund_id": "R-X", "amount_minor": 100}, "paid"),
        ("dispute.opened", {"dispute_id": "D-X"}, "paid"),
        ("feedback.posted", {"kind": "positive"}, "delivered"),
    ],
)
def test_s0_lifecycle_event_before_its_prerequisite_is_retryable(
    sender, shop_a, buyer, sku_a, event_type, data, status_needed
):
    # given an order still pending payment
    assert (
        sender.one(ev("order.created", order_created_data(shop_a, buyer, sku_a, number="EARLY")))[
            "status"
        ]
        == "applied"
    )
    # when a later lifecycle event arrives early
    result = sender.one(ev(event_type, ref(shop_a, "EARLY", **data)))
    # then it is refused as retryable, naming the status it waits for; not recorded, and the
    # order is untouched
    assert result["status"] == "rejected"
    assert result["retryable"] is True
    assert result["code"] == "order_not_ready"
    assert f"is pending_payment; {event_type} needs it {status_needed} first" in result["message"]
    assert Order.objects.get(shop=shop_a, number="EARLY").status == OrderStatus.PENDING_PAYMENT
    assert IngestedEvent.objects.count() == 1


def test_s0_invalid_transition_on_terminal_order_is_final_and_recorded(
    sender, shop_a, buyer, sku_a
):
    # given a cancelled order
    sender.one(ev("order.created", order_created_data(shop_a, buyer, sku_a, number="C-1")))
    sender.one(ev("order.cancelled", ref(shop_a, "C-1")))
    # when it is shipped
    ship = ev("order.shipped", ref(shop_a, "C-1", carrier="dhl", tracking_number="T"))
    result = sender.one(ship)
    # then the rejection is final and recorded: resending the id answers duplicate
    assert result == {
        "event_id": ship["event_id"],
        "status": "rejected",
        "code": "invalid_transition",
        "message": result["message"],
        "retryable": False,
    }
    again = sender.one(ship)
    assert again["status"] == "duplicate"
    assert again["original_status"] == "rejected"
    assert again["code"] == "invalid_transition"


def test_s0_domain_errors_are_rejected_with_the_service_code(sender, shop_a, buyer, sku_a):
    # given events the services refuse
    events = [
        ev(
            "order.created",
            order_created_data(shop_a, buyer, sku_a, number="E-1", coupon_discount_minor=10**9),
        ),
        ev("order.created", order_created_data(shop_a, buyer, sku_a, number="E-2", currency="USD")),
        ev("order.created", order_created_data(shop_a, buyer, sku_a, number="E-3")),
        ev("order.paid", order_paid_data(shop_a, number="E-3", amount=1)),
        ev("buyer.upserted", {"buyer_id": "b-x", "country": "US"}),
        ev("buyer.upserted", {"buyer_id": "b-y", "email": buyer.email, "country": "US"}),
        ev(
            "order.created",
            order_created_data(shop_a, buyer, sku_a, number="E-4"),
            at=clock.now().replace(year=1999),
        ),
    ]
    # when
    results = sender.results(events)
    # then
    assert [(r["status"], r.get("code")) for r in results] == [
        ("rejected", "invalid_amount"),
        ("rejected", "currency_mismatch"),
        ("applied", None),
        ("rejected", "amount_mismatch"),
        ("rejected", "invalid_contact"),
        ("rejected", "contact_taken"),
        ("rejected", "invalid_time"),
    ]
    assert all(r["retryable"] is False for r in results if r["status"] == "rejected")


def test_s0_duplicate_event_returns_first_result_and_changes_nothing(sender, shop_a, buyer, sku_a):
    # given an applied order.created
    created = ev("order.created", order_created_data(shop_a, buyer, sku_a, number="D-1"))
    first = sender.one(created)
    stats_before = list(ShopDailyStats.objects.values())
    # when the very same event is sent again (another id with other content: see
    # test_event_id_reuse.py — refused as event_id_reused)
    again = sender.one(dict(created))
    # then it answers duplicate with the first result, and nothing changed
    assert again == {
        "event_id": created["event_id"],
        "status": "duplicate",
        "original_status": "applied",
        "result": first["result"],
    }
    assert Order.objects.get(number="D-1").lines.get().quantity == 1
    assert list(ShopDailyStats.objects.values()) == stats_before
    assert IngestedEvent.objects.count() == 1


def test_s0_duplicate_inside_one_batch(sender, shop_a, buyer, sku_a):
    # given a batch that carries the same event twice
    created = ev("order.created", order_created_data(shop_a, buyer, sku_a, number="DB-1"))
    # when
    results = sender.results([created, created])
    # then the first applies and the second is its duplicate
    assert results[0]["status"] == "applied"
    assert results[1]["status"] == "duplicate"
    assert results[1]["result"] == results[0]["result"]
    assert Order.objects.filter(number="DB-1").count() == 1


def test_s0_event_ids_are_scoped_per_integration(sender, shop_a, buyer, sku_a):
    # given two integrations using the same event id for different facts
    from integrations.services import integration_create

    from .support import Sender

    other = Sender(*integration_create(name="Other marketplace"))
    a = ev(
        "order.created", order_created_data(shop_a, buyer, sku_a, number="SC-1"), event_id="same-id"
    )
    b = ev(
        "order.created", order_created_data(shop_a, buyer, sku_a, number="SC-2"), event_id="same-id"
    )
    # when
    # then both are applied: the idempotency key is (integration, event_id)
    assert sender.one(a)["status"] == "applied"
    assert other.one(b)["status"] == "applied"


def test_s0_one_bad_event_neither_blocks_nor_half_applies(sender, shop_a, buyer, sku_a):
    # given a guard that writes something and then refuses one order (like a coin guard would)
    def guard(order, **kwargs):
        Violation.objects.create(
            shop=order.shop,
            external_id=f"guard-{order.number}",
            kind="probe",
            occurred_at=clock.now(),
        )
        if order.number.endswith("BAD"):
            raise DomainError("Refused by guard.", code="guard_refused")

    domain_events.order_placing.connect(guard, sender=Order)
    try:
        events = [
            ev("order.created", order_created_data(shop_a, buyer, sku_a, number="B-1")),
            ev("order.created", order_created_data(shop_a, buyer, sku_a, number="B-BAD")),
            ev("order.created", order_created_data(shop_a, buyer, sku_a, number="B-3")),
            # the same on the slow path (an order with two more events in the batch)
            ev("order.created", order_created_data(shop_a, buyer, sku_a, number="S-BAD")),
            ev("order.paid", order_paid_data(shop_a, number="S-BAD", amount=sku_a.price_minor)),
            ev("order.cancelled", ref(shop_a, "S-BAD")),
        ]
        # when
        results = sender.results(events)
    finally:
        domain_events.order_placing.disconnect(guard, sender=Order)
    # then the refused orders left no trace, not even the guard's own write, and the rest applied
    assert [r.get("code") for r in results] == [
        None,
        "guard_refused",
        None,
        "guard_refused",
        "unknown_order",
        "unknown_order",
    ]
    assert set(Order.objects.values_list("number", flat=True)) == {"B-1", "B-3"}
    assert set(Violation.objects.values_list("external_id", flat=True)) == {
        "guard-B-1",
        "guard-B-3",
    }
    assert ShopDailyStats.objects.get(shop=shop_a).orders_created == 2
