"""Order lifecycle services (SPEC §0): pending_payment → paid → shipped → delivered → completed,
cancelled before shipping, refunded (full or partial), and a disputed flag on paid orders.

Every legal transition works; every illegal one raises and changes nothing; amounts are guarded;
domain events leave only after commit; ShopDailyStats stays equal to what the orders say.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from factories import (
    amount_due,
    first_sku,
    make_feedback,
    make_order,
    make_product,
    make_review,
    next_id,
)

from core import clock
from core.errors import DomainError, InvalidTransition
from orders import events
from orders import services as svc
from orders.models import (
    Dispute,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    Refund,
    Shipment,
    ShopDailyStats,
    TrackingEvent,
)
from orders.selectors import DAILY_FIGURES, daily_figures_from_orders
from orders.services import MAX_ORDER_MINOR, LineInput

S = OrderStatus
ALL_STATUSES = list(S.values)


# --- helpers -----------------------------------------------------------------------------------


def snapshot(order: Order) -> dict:
    """Everything a lifecycle service may write for ``order``, as plain values."""
    return {
        "order": Order.objects.values().get(pk=order.pk),
        "payments": list(Payment.objects.filter(order=order).values()),
        "shipments": list(Shipment.objects.filter(order=order).values()),
        "tracking": list(TrackingEvent.objects.filter(shipment__order=order).values()),
        "refunds": list(Refund.objects.filter(order=order).values()),
        "disputes": list(Dispute.objects.filter(order=order).values()),
        "stats": list(
            ShopDailyStats.objects.filter(shop_id=order.shop_id).order_by("day").values()
        ),
    }


def later(order: Order) -> datetime:
    """An instant after every timestamp already on the order."""
    stamps = [
        order.placed_at,
        order.paid_at,
        order.shipped_at,
        order.delivered_at,
        order.completed_at,
        order.cancelled_at,
        order.refunded_at,
    ]
    return max(s for s in stamps if s) + timedelta(minutes=5)


def do(action: str, order: Order):
    """Run lifecycle ``action`` on ``order`` with valid arguments."""
    at = later(order)
    if action == "pay":
        return svc.order_pay(
            order=order,
            payment_id=next_id("pay-x"),
            amount_minor=amount_due(order),
            method="card",
            paid_at=at,
        )
    if action == "cancel":
        return svc.order_cancel(order=order, cancelled_at=at)
    if action == "ship":
        return svc.order_ship(
            order=order, carrier="aliexpress_standard", tracking_number="LP1CN", shipped_at=at
        )
    if action == "deliver":
        return svc.order_deliver(order=order, delivered_at=at)
    if action == "complete":
        return svc.order_complete(order=order, completed_at=at)
    if action == "refund":
        remaining = order.amount_paid_minor - order.refunded_minor
        return svc.order_refund(
            order=order, refund_id=next_id("ref-x"), amount_minor=remaining or 1, refunded_at=at
        )
    if action == "dispute":
        return svc.dispute_open(order=order, dispute_id=next_id("dsp-x"), opened_at=at)
    raise AssertionError(action)


# (status before, action) -> status after. Everything else is illegal.
LEGAL = {
    (S.PENDING_PAYMENT, "pay"): S.PAID,
    (S.PENDING_PAYMENT, "cancel"): S.CANCELLED,
    (S.PAID, "cancel"): S.CANCELLED,
    (S.PAID, "ship"): S.SHIPPED,
    (S.SHIPPED, "deliver"): S.DELIVERED,
    (S.DELIVERED, "complete"): S.COMPLETED,
    (S.PAID, "refund"): S.REFUNDED,
    (S.SHIPPED, "refund"): S.REFUNDED,
    (S.DELIVERED, "refund"): S.REFUNDED,
    (S.COMPLETED, "refund"): S.REFUNDED,
    (S.PAID, "dispute"): S.PAID,
    (S.SHIPPED, "dispute"): S.SHIPPED,
    (S.DELIVERED, "dispute"): S.DELIVERED,
    (S.COMPLETED, "dispute"): S.COMPLETED,
}
ACTIONS = ["pay", "cancel", "ship", "deliver", "complete", "refund", "dispute"]
ILLEGAL = [(s, a) for s in ALL_STATUSES for a in ACTIONS if (s, a) not in LEGAL]


# --- the lifecycle -----------------------------------------------------------------------------


@pytest.mark.parametrize(("before", "action"), list(LEGAL), ids=lambda v: str(v))
def test_every_legal_transition(shop_a, buyer, before, action):
    # given
    order = make_order(shop_a, buyer, status=before)

    # when
    do(action, order)

    # then
    order.refresh_from_db()
    assert order.status == LEGAL[(before, action)]
    stamp = {
        "pay": "paid_at",
        "cancel": "cancelled_at",
        "ship": "shipped_at",
        "deliver": "delivered_at",
        "complete": "completed_at",
        "refund": "refunded_at",
    }.get(action)
    if stamp:
        assert getattr(order, stamp) is not None
    if action == "dispute":
        assert order.disputed is True


@pytest.mark.parametrize(("before", "action"), ILLEGAL, ids=lambda v: str(v))
def test_every_illegal_transition_is_refused_and_changes_nothing(shop_a, buyer, before, action):
    # given
    order = make_order(shop_a, buyer, status=before)
    before_state = snapshot(order)

    # when
    with pytest.raises(InvalidTransition):
        do(action, order)

    # then
    assert snapshot(order) == before_state


def test_the_full_happy_path_records_every_fact(shop_a, buyer, sku_a):
    # given
    t0 = datetime(2025, 5, 1, 2, 0, tzinfo=UTC)
    order = svc.order_create(
        svc.OrderInput(
            shop=shop_a,
            buyer=buyer,
            number="HP-1",
            lines=[LineInput(sku=sku_a, quantity=2, unit_price_minor=50_00)],
            placed_at=t0,
            shipping_fee_minor=5_00,
            coupon_discount_minor=10_00,
            payment_method="card",
        )
    )

    # when
    svc.order_pay(
        order=order,
        payment_id="p-1",
        amount_minor=95_00,
        method="paypal",
        paid_at=t0 + timedelta(minutes=1),
    )
    svc.order_ship(
        order=order, carrier="yanwen", tracking_number=" YW123 ", shipped_at=t0 + timedelta(days=1)
    )
    svc.order_deliver(order=order, delivered_at=t0 + timedelta(days=9))
    svc.order_complete(order=order, completed_at=t0 + timedelta(days=20))

    # then
    order.refresh_from_db()
    assert order.status == S.COMPLETED
    assert (order.subtotal_minor, order.amount_paid_minor, order.currency) == (100_00, 95_00, "CNY")
    assert order.payment_method == "paypal"
    assert (order.logistics_service, order.tracking_number) == ("yanwen", "YW123")
    assert not order.official_logistics
    assert order.lines.get().total_minor == 100_00
    assert order.payments.get().amount_minor == 95_00
    shipment = order.shipment
    assert (shipment.carrier, shipment.official, shipment.tracking_number) == (
        "yanwen",
        False,
        "YW123",
    )


def test_official_carrier_shipment_is_marked_official(order_a):
    # when
    svc.order_ship(
        order=order_a,
        carrier="aliexpress_saver",
        tracking_number="AE1",
        shipped_at=later(order_a),
    )

    # then
    order_a.refresh_from_db()
    assert order_a.shipment.official is True
    assert order_a.official_logistics is True


def test_a_paid_then_cancelled_order_can_still_be_refunded_and_stays_cancelled(shop_a, buyer):
    # given
    order = make_order(shop_a, buyer, status="paid")
    svc.order_cancel(order=order, cancelled_at=later(order))
    order.refresh_from_db()

    # when
    refund = svc.order_refund(
        order=order, refund_id="r-c", amount_minor=order.amount_paid_minor, refunded_at=later(order)
    )

    # then
    order.refresh_from_db()
    assert refund.full is True
    assert order.status == S.CANCELLED
    assert order.refunded_minor == order.amount_paid_minor


def test_an_unpaid_cancelled_order_cannot_be_refunded(shop_a, buyer):
    # given
    order = make_order(shop_a, buyer, status="cancelled")
    before = snapshot(order)

    # when
    with pytest.raises(InvalidTransition) as exc:
        svc.order_refund(order=order, refund_id="r-u", amount_minor=1, refunded_at=later(order))

    # then
    assert exc.value.code == "not_paid"
    assert snapshot(order) == before


def test_shipping_needs_a_tracking_number(order_a):
    # given
    before = snapshot(order_a)

    # when
    with pytest.raises(DomainError) as exc:
        svc.order_ship(
            order=order_a, carrier="yanwen", tracking_number="  ", shipped_at=later(order_a)
        )

    # then
    assert exc.value.code == "missing_tracking_number"
    assert snapshot(order_a) == before


def test_timestamps_cannot_run_backwards(order_a):
    # given
    before = snapshot(order_a)
    earlier = order_a.placed_at - timedelta(hours=1)

    # when / then
    with pytest.raises(DomainError) as exc:
        svc.order_ship(order=order_a, carrier="yanwen", tracking_number="X", shipped_at=earlier)
    assert exc.value.code == "invalid_time"
    assert snapshot(order_a) == before


def test_a_stale_order_instance_is_reread_under_lock(shop_a, buyer):
    # given: two copies of one order; the first is paid
    order = make_order(shop_a, buyer, status="pending_payment")
    stale = Order.objects.get(pk=order.pk)
    do("pay", order)

    # when: paying through the stale copy
    with pytest.raises(InvalidTransition):
        do("pay", stale)

    # then
    assert Payment.objects.filter(order=order).count() == 1


# --- amount guards -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (99_99, "amount_mismatch"),
        (100_01, "amount_mismatch"),
        (0, "amount_mismatch"),
        (-100_00, "invalid_amount"),
        (MAX_ORDER_MINOR + 1, "invalid_amount"),
        (100.0, "invalid_amount"),
        (True, "invalid_amount"),
    ],
)
def test_payment_amount_must_be_exactly_what_is_due(shop_a, buyer, sku_a, amount, code):
    # given: ¥100.00 due
    order = make_order(shop_a, buyer, status="pending_payment", sku=sku_a)
    before = snapshot(order)

    # when
    with pytest.raises(DomainError) as exc:
        svc.order_pay(
            order=order, payment_id="p", amount_minor=amount, method="card", paid_at=later(order)
        )

    # then
    assert exc.value.code == code
    assert snapshot(order) == before


def test_payment_with_an_unknown_method_or_a_reused_id_is_refused(shop_a, buyer, order_a):
    # given
    order = make_order(shop_a, buyer, status="pending_payment")
    before = snapshot(order)
    used_id = order_a.payments.get().external_id

    # when / then
    with pytest.raises(DomainError) as unknown:
        svc.order_pay(
            order=order,
            payment_id="p-new",
            amount_minor=amount_due(order),
            method="cash",
            paid_at=later(order),
        )
    with pytest.raises(DomainError) as reused:
        svc.order_pay(
            order=order,
            payment_id=used_id,
            amount_minor=amount_due(order),
            method="card",
            paid_at=later(order),
        )
    assert unknown.value.code == "invalid_payment_method"
    assert reused.value.code == "duplicate_payment"
    assert snapshot(order) == before


@pytest.mark.parametrize(
    ("kwargs", "line", "code"),
    [
        ({}, {"unit_price_minor": -1}, "invalid_amount"),
        ({}, {"unit_price_minor": MAX_ORDER_MINOR + 1}, "invalid_amount"),
        ({}, {"quantity": 0}, "invalid_quantity"),
        ({"shipping_fee_minor": -1}, {}, "invalid_amount"),
        ({"coupon_discount_minor": 100_01}, {}, "invalid_amount"),
        ({"coin_deduction_minor": 100_01}, {}, "coins_exceed_payable"),
        ({"coin_deduction_coins": -1}, {}, "invalid_amount"),
        ({"platform_subsidy_minor": -5}, {}, "invalid_amount"),
        ({"payment_method": "cash"}, {}, "invalid_payment_method"),
    ],
)
def test_order_create_refuses_bad_amounts(shop_a, buyer, sku_a, kwargs, line, code):
    # given
    line_kwargs = {"sku": sku_a, "quantity": 1, "unit_price_minor": 100_00, **line}

    # when
    with pytest.raises(DomainError) as exc:
        svc.order_create(
            svc.OrderInput(
                shop=shop_a,
                buyer=buyer,
                number="BAD-1",
                lines=[LineInput(**line_kwargs)],
                placed_at=clock.now(),
                **kwargs,
            )
        )

    # then
    assert exc.value.code == code
    assert not Order.objects.exists()
    assert not ShopDailyStats.objects.exists()


def test_order_create_refuses_empty_orders_foreign_skus_and_duplicate_numbers(
    shop_a, buyer, sku_a, sku_b, order_a
):
    # given
    def create(number, lines):
        return svc.order_create(
            svc.OrderInput(
                shop=shop_a, buyer=buyer, number=number, lines=lines, placed_at=clock.now()
            )
        )

    before = Order.objects.count()

    # when / then
    with pytest.raises(DomainError) as empty:
        create("E-1", [])
    with pytest.raises(DomainError) as foreign:
        create("F-1", [LineInput(sku=sku_b, quantity=1, unit_price_minor=1)])
    with pytest.raises(DomainError) as duplicate:
        create(order_a.number, [LineInput(sku=sku_a, quantity=1, unit_price_minor=1)])
    assert (empty.value.code, foreign.value.code, duplicate.value.code) == (
        "empty_order",
        "foreign_sku",
        "duplicate_order",
    )
    assert Order.objects.count() == before
    assert OrderLine.objects.count() == before


def test_the_same_order_number_is_fine_in_another_shop(order_a, shop_b, buyer, sku_b):
    # when
    order = make_order(shop_b, buyer, sku=sku_b, number=order_a.number)

    # then
    assert order.number == order_a.number
    assert order.shop_id != order_a.shop_id


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (100_01, "refund_exceeds_paid"),
        (0, "invalid_amount"),
        (-1, "invalid_amount"),
        (MAX_ORDER_MINOR + 1, "invalid_amount"),
        (1.5, "invalid_amount"),
    ],
)
def test_refund_amount_guards(order_a, amount, code):
    # given: ¥100.00 paid
    before = snapshot(order_a)

    # when
    with pytest.raises(DomainError) as exc:
        svc.order_refund(
            order=order_a, refund_id="r", amount_minor=amount, refunded_at=later(order_a)
        )

    # then
    assert exc.value.code == code
    assert snapshot(order_a) == before


def test_partial_refunds_keep_the_status_until_everything_paid_is_returned(order_a):
    # given: ¥100.00 paid
    at = later(order_a)

    # when: ¥30 back
    first = svc.order_refund(order=order_a, refund_id="r1", amount_minor=30_00, refunded_at=at)
    order_a.refresh_from_db()

    # then: still paid, partially refunded
    assert (order_a.status, order_a.refunded_minor, first.full) == (S.PAID, 30_00, False)
    assert order_a.refunded_at is None
    assert order_a.gmv.amount == 70_00

    # when: more than the remaining ¥70 is refused, nothing changes
    before = snapshot(order_a)
    with pytest.raises(DomainError) as exc:
        svc.order_refund(order=order_a, refund_id="r2", amount_minor=70_01, refunded_at=at)
    assert exc.value.code == "refund_exceeds_paid"
    assert snapshot(order_a) == before

    # when: exactly the remaining ¥70
    last = svc.order_refund(order=order_a, refund_id="r3", amount_minor=70_00, refunded_at=at)
    order_a.refresh_from_db()

    # then: fully refunded
    assert (order_a.status, order_a.refunded_minor, last.full) == (S.REFUNDED, 100_00, True)
    assert order_a.refunded_at == at
    assert order_a.gmv.amount == 0


def test_a_refund_id_is_recorded_once(order_a, shop_a, buyer):
    # given
    other = make_order(shop_a, buyer, status="paid")
    svc.order_refund(
        order=order_a, refund_id="r-once", amount_minor=1_00, refunded_at=later(order_a)
    )
    before = snapshot(other)

    # when
    with pytest.raises(DomainError) as exc:
        svc.order_refund(
            order=other, refund_id="r-once", amount_minor=1_00, refunded_at=later(other)
        )

    # then
    assert exc.value.code == "duplicate_refund"
    assert snapshot(other) == before


# --- disputes ----------------------------------------------------------------------------------


def test_dispute_open_and_close_toggle_the_flag_and_block_completion_meanwhile(shop_a, buyer):
    # given
    order = make_order(shop_a, buyer, status="delivered")

    # when: a dispute opens
    dispute = svc.dispute_open(order=order, dispute_id="d-1", opened_at=later(order), reason="late")
    order.refresh_from_db()

    # then: flagged, completion refused and nothing changed by the refusal
    assert order.disputed is True
    before = snapshot(order)
    with pytest.raises(InvalidTransition) as exc:
        svc.order_complete(order=order, completed_at=later(order))
    assert exc.value.code == "disputed"
    assert snapshot(order) == before

    # when: a second dispute while one is open
    with pytest.raises(InvalidTransition) as again:
        svc.dispute_open(order=order, dispute_id="d-2", opened_at=later(order))
    assert again.value.code == "already_disputed"

    # when: it closes
    closed = svc.dispute_close(
        order=order, dispute_id="d-1", closed_at=later(order), outcome="seller_won"
    )
    order.refresh_from_db()

    # then: flag cleared, the dispute keeps its history, completion goes through
    assert order.disputed is False
    assert (closed.pk, closed.outcome) == (dispute.pk, "seller_won")
    assert closed.closed_at is not None
    svc.order_complete(order=order, completed_at=later(order))
    order.refresh_from_db()
    assert order.status == S.COMPLETED


def test_dispute_close_guards(shop_a, buyer):
    # given
    order = make_order(shop_a, buyer, status="paid")
    svc.dispute_open(order=order, dispute_id="d-1", opened_at=later(order))
    order.refresh_from_db()
    before = snapshot(order)

    # when / then: unknown dispute, unknown outcome change nothing
    with pytest.raises(DomainError) as unknown:
        svc.dispute_close(order=order, dispute_id="nope", closed_at=later(order), outcome="settled")
    with pytest.raises(DomainError) as outcome:
        svc.dispute_close(order=order, dispute_id="d-1", closed_at=later(order), outcome="draw")
    assert (unknown.value.code, outcome.value.code) == ("unknown_dispute", "invalid_outcome")
    assert snapshot(order) == before

    # when / then: a closed dispute cannot close again
    svc.dispute_close(order=order, dispute_id="d-1", closed_at=later(order), outcome="withdrawn")
    order.refresh_from_db()
    before = snapshot(order)
    with pytest.raises(InvalidTransition) as closed:
        svc.dispute_close(order=order, dispute_id="d-1", closed_at=later(order), outcome="settled")
    assert closed.value.code == "dispute_closed"
    assert snapshot(order) == before


def test_a_dispute_of_another_order_cannot_be_closed_through_this_one(shop_a, buyer):
    # given
    one = make_order(shop_a, buyer, status="paid", disputed=True)
    two = make_order(shop_a, buyer, status="paid")
    dispute_id = one.disputes.get().external_id

    # when / then
    with pytest.raises(DomainError) as exc:
        svc.dispute_close(order=two, dispute_id=dispute_id, closed_at=later(two), outcome="settled")
    assert exc.value.code == "unknown_dispute"
    one.refresh_from_db()
    assert one.disputed is True


# --- tracking ----------------------------------------------------------------------------------


def test_tracking_update_moves_last_event_and_last_progress_correctly(shop_a, buyer):
    # given
    order = make_order(shop_a, buyer, status="shipped")
    t = order.shipped_at

    def track(status, minutes):
        svc.tracking_update(order=order, status=status, occurred_at=t + timedelta(minutes=minutes))
        shipment = Shipment.objects.get(order=order)
        return shipment.last_event_at, shipment.last_progress_at

    # when / then: progress moves both
    assert track("in_transit", 10) == (t + timedelta(minutes=10), t + timedelta(minutes=10))
    # a scan without progress moves only the last event
    assert track("no_update", 20) == (t + timedelta(minutes=20), t + timedelta(minutes=10))
    # an exception is not progress either
    assert track("exception", 30) == (t + timedelta(minutes=30), t + timedelta(minutes=10))
    # an out-of-order progress event (older than both) is recorded but moves neither
    assert track("picked_up", 5) == (t + timedelta(minutes=30), t + timedelta(minutes=10))
    # an out-of-order progress event newer than the last progress moves only progress
    assert track("customs", 25) == (t + timedelta(minutes=30), t + timedelta(minutes=25))
    # new progress moves both again
    assert track("delivered", 40) == (t + timedelta(minutes=40), t + timedelta(minutes=40))
    assert TrackingEvent.objects.filter(shipment__order=order).count() == 6


def test_label_created_is_an_event_but_not_progress(shop_a, buyer):
    # given
    order = make_order(shop_a, buyer, status="shipped")

    # when
    svc.tracking_update(order=order, status="info_received", occurred_at=later(order))

    # then
    shipment = Shipment.objects.get(order=order)
    assert shipment.last_event_at is not None
    assert shipment.last_progress_at is None


@pytest.mark.parametrize("status", ["pending_payment", "paid", "cancelled"])
def test_tracking_an_order_that_has_not_shipped_is_refused(shop_a, buyer, status):
    # given
    order = make_order(shop_a, buyer, status=status)
    before = snapshot(order)

    # when
    with pytest.raises(InvalidTransition) as exc:
        svc.tracking_update(order=order, status="in_transit", occurred_at=later(order))

    # then
    assert exc.value.code == "not_shipped"
    assert snapshot(order) == before


def test_an_unknown_tracking_status_is_refused(shop_a, buyer):
    # given
    order = make_order(shop_a, buyer, status="shipped")
    before = snapshot(order)

    # when / then
    with pytest.raises(DomainError) as exc:
        svc.tracking_update(order=order, status="teleported", occurred_at=later(order))
    assert exc.value.code == "invalid_tracking_status"
    assert snapshot(order) == before


# --- reviews, feedback, carts ------------------------------------------------------------------


def test_reviews_need_a_delivered_order_valid_scores_and_are_unique(shop_a, buyer, sku_a):
    # given
    paid = make_order(shop_a, buyer, status="paid", sku=sku_a)
    delivered = make_order(shop_a, buyer, status="delivered", sku=sku_a)
    other_sku = first_sku(make_product(shop_a))

    def review(order, sku=sku_a, rating=5):
        return svc.review_post(
            order=order,
            sku=sku,
            rating=rating,
            dsr_item_as_described=5,
            dsr_communication=4,
            dsr_shipping=3,
            posted_at=clock.now(),
        )

    # when / then
    with pytest.raises(InvalidTransition):
        review(paid)
    with pytest.raises(DomainError) as score:
        review(delivered, rating=6)
    with pytest.raises(DomainError) as not_on_order:
        review(delivered, sku=other_sku)
    posted = review(delivered)
    with pytest.raises(DomainError) as duplicate:
        review(delivered)
    assert (score.value.code, not_on_order.value.code, duplicate.value.code) == (
        "invalid_score",
        "sku_not_on_order",
        "duplicate_review",
    )
    assert (posted.shop_id, posted.buyer_id) == (shop_a.pk, buyer.pk)


def test_feedback_once_per_order_after_delivery(shop_a, buyer):
    # given
    paid = make_order(shop_a, buyer, status="paid")
    done = make_order(shop_a, buyer, status="completed")

    # when / then
    with pytest.raises(InvalidTransition):
        svc.feedback_post(order=paid, kind="positive", posted_at=clock.now())
    with pytest.raises(DomainError) as kind:
        svc.feedback_post(order=done, kind="ecstatic", posted_at=clock.now())
    svc.feedback_post(order=done, kind="negative", posted_at=clock.now())
    with pytest.raises(DomainError) as again:
        svc.feedback_post(order=done, kind="positive", posted_at=clock.now())
    assert (kind.value.code, again.value.code) == ("invalid_feedback", "duplicate_feedback")
    assert done.feedback.kind == "negative"


def test_cart_update_replaces_the_lines_and_keeps_the_latest_activity(shop_a, buyer, sku_a, sku_b):
    # given
    sku_2 = first_sku(make_product(shop_a))
    t1 = clock.now()
    svc.cart_update(shop=shop_a, buyer=buyer, items=[(sku_a, 2), (sku_2, 1)], at=t1)

    # when: a late-arriving older update removes sku_2
    cart = svc.cart_update(
        shop=shop_a, buyer=buyer, items=[(sku_a, 3), (sku_2, 0)], at=t1 - timedelta(hours=1)
    )

    # then
    assert dict(cart.lines.values_list("sku_id", "quantity")) == {sku_a.pk: 3}
    assert cart.last_activity_at == t1
    with pytest.raises(DomainError) as foreign:
        svc.cart_update(shop=shop_a, buyer=buyer, items=[(sku_b, 1)], at=t1)
    with pytest.raises(DomainError) as negative:
        svc.cart_update(shop=shop_a, buyer=buyer, items=[(sku_a, -1)], at=t1)
    assert (foreign.value.code, negative.value.code) == ("foreign_sku", "invalid_quantity")
    assert dict(cart.lines.values_list("sku_id", "quantity")) == {sku_a.pk: 3}


# --- the order event log (DESIGN §1b) -------------------------------------------------------------


def log_of(order: Order) -> list[tuple[str, dict]]:
    return [(e.type, e.payload) for e in OrderEvent.objects.filter(order=order).order_by("id")]


@pytest.mark.parametrize(
    ("before", "action", "type_", "keys"),
    [
        (S.PENDING_PAYMENT, "pay", "order.paid", {"amount_minor"}),
        (S.PENDING_PAYMENT, "cancel", "order.cancelled", set()),
        (S.PAID, "ship", "order.shipped", set()),
        (S.SHIPPED, "deliver", "order.delivered", set()),
        (S.DELIVERED, "complete", "order.completed", set()),
        (S.PAID, "refund", "order.refunded", {"refund_id", "amount_minor", "full"}),
        (S.PAID, "dispute", "dispute.opened", {"dispute_id"}),
    ],
)
def test_each_transition_writes_its_event_in_the_same_transaction(
    shop_a, buyer, before, action, type_, keys
):
    # given
    order = make_order(shop_a, buyer, status=before)
    count = OrderEvent.objects.filter(order=order).count()

    # when
    result = do(action, order)

    # then: exactly one new row, of the type, with the documented payload
    rows = list(OrderEvent.objects.filter(order=order).order_by("id"))[count:]
    assert [(e.type, set(e.payload)) for e in rows] == [(type_, keys)]
    assert rows[0].shop_id == shop_a.pk
    assert set(rows[0].payload) == set(events.PAYLOADS[type_])
    if action == "refund":
        assert rows[0].payload["refund_id"] == result.pk
        assert rows[0].payload["full"] is True
    if action == "pay":
        assert rows[0].payload["amount_minor"] == result.amount_paid_minor


def test_order_created_and_tracking_updated_are_logged_with_their_ids(shop_a, buyer):
    # when
    order = make_order(shop_a, buyer, status="shipped")
    scan = svc.tracking_update(order=order, status="in_transit", occurred_at=later(order))

    # then: the whole life so far, in order, each with the fact's own time
    log = log_of(order)
    assert [t for t, _ in log] == [
        "order.created",
        "order.paid",
        "order.shipped",
        "tracking.updated",
    ]
    assert log[0][1] == {"buyer_id": buyer.pk}
    assert log[3][1] == {"tracking_event_id": scan.pk, "status": "in_transit"}
    created = OrderEvent.objects.get(order=order, type="order.created")
    assert created.occurred_at == order.placed_at


def test_no_event_when_the_transaction_rolls_back(shop_a, buyer):
    # given
    order = make_order(shop_a, buyer, status="pending_payment")

    class Boom(Exception):
        pass

    def pay_then_fail():
        with transaction.atomic():
            do("pay", order)
            raise Boom

    # when: the caller's transaction fails after the service succeeded
    with pytest.raises(Boom):
        pay_then_fail()

    # then: neither the fact nor its event
    assert [t for t, _ in log_of(order)] == ["order.created"]
    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT


def test_a_refused_transition_writes_no_event(order_a):
    # given
    before = log_of(order_a)

    # when
    with pytest.raises(InvalidTransition):
        do("deliver", order_a)

    # then
    assert log_of(order_a) == before


def test_a_partial_refund_is_logged_as_not_full(shop_a, buyer):
    # given
    order = make_order(shop_a, buyer, status="paid")

    # when
    svc.order_refund(order=order, refund_id="r-part", amount_minor=1, refunded_at=later(order))

    # then
    assert log_of(order)[-1] == (
        "order.refunded",
        {
            "refund_id": Refund.objects.get(external_id="r-part").pk,
            "amount_minor": 1,
            "full": False,
        },
    )


def test_order_placing_guard_receives_the_lines_and_can_refuse_an_order(
    shop_a, buyer, sku_a, no_coin_guard
):
    # given: a receiver guarding an invariant of the order (as coins does for SPEC C-3)
    seen = []

    def guard(sender, order, lines, **kwargs):
        seen.append([(line.sku.pk, line.quantity) for line in lines])
        if order.coin_deduction_minor > 10_00:
            raise DomainError("Too many coins.", code="coin_cap")

    events.order_placing.connect(guard, weak=False)
    try:
        # when
        with pytest.raises(DomainError) as exc:
            make_order(shop_a, buyer, sku=sku_a, coin_deduction_minor=20_00)
        allowed = make_order(shop_a, buyer, sku=sku_a, coin_deduction_minor=5_00)
    finally:
        events.order_placing.disconnect(guard)

    # then: the refused order left nothing, not even an event
    assert exc.value.code == "coin_cap"
    assert list(Order.objects.values_list("pk", flat=True)) == [allowed.pk]
    assert set(OrderEvent.objects.values_list("order_id", flat=True)) == {allowed.pk}
    assert seen[0] == [(sku_a.pk, 1)]


# --- ShopDailyStats in step --------------------------------------------------------------------


def stats_rows(shop_ids=None) -> dict:
    qs = ShopDailyStats.objects.all()
    if shop_ids is not None:
        qs = qs.filter(shop_id__in=shop_ids)
    fields = DAILY_FIGURES  # every pre-aggregated figure, status counts and DSR sums included
    return {
        (r["shop_id"], r["day"]): {f: r[f] for f in fields}
        for r in qs.values("shop_id", "day", *fields)
        if any(r[f] for f in fields)
    }


def test_daily_stats_kept_by_services_equal_the_figures_from_orders(shop_a, shop_b, buyer):
    # given: a mixed scenario across the Shanghai midnight of 1→2 March 2025 (16:00 UTC)
    eve = datetime(2025, 3, 1, 15, 30, tzinfo=UTC)  # 23:30 on 1 March in Shanghai
    hour = timedelta(hours=1)
    done = make_order(shop_a, buyer, status="completed", placed_at=eve, step=hour)  # paid 2 March
    make_review(done, dsr=4, posted_at=eve + hour * 6)
    make_feedback(done, kind="negative", posted_at=eve + hour * 6)
    make_order(shop_a, buyer, status="cancelled", placed_at=eve - hour * 10)
    make_order(shop_a, buyer, status="refunded", placed_at=eve - hour * 2, step=hour)
    make_order(shop_a, buyer, status="pending_payment", placed_at=eve + hour * 3)
    paid_then_cancelled = make_order(shop_a, buyer, status="paid", placed_at=eve)
    svc.order_cancel(order=paid_then_cancelled, cancelled_at=eve + hour)
    partly = make_order(shop_a, buyer, status="shipped", placed_at=eve - hour, step=hour * 2)
    svc.order_refund(order=partly, refund_id="part", amount_minor=12_34, refunded_at=eve + hour * 5)
    make_order(shop_b, buyer, status="delivered", placed_at=eve + hour, step=hour)

    # when
    kept = stats_rows()
    derived = {k: v for k, v in daily_figures_from_orders().items() if any(v.values())}

    # then
    assert kept == derived
    day1, day2 = date(2025, 3, 1), date(2025, 3, 2)
    assert kept[(shop_a.pk, day1)]["orders_created"] == 5
    assert kept[(shop_a.pk, day2)]["orders_created"] == 1
    assert kept[(shop_a.pk, day2)]["orders_paid"] == 2  # the 23:30 order paid at 00:30, the partly
    assert kept[(shop_a.pk, day2)]["refunded_minor"] == 12_34
    assert kept[(shop_a.pk, day1)]["orders_cancelled"] == 2
    assert kept[(shop_b.pk, day2)]["orders_shipped"] == 1
    # status counts are by placed day and current status: the 23:30 order is completed now
    assert kept[(shop_a.pk, day1)]["status_completed"] == 1
    assert kept[(shop_a.pk, day1)]["status_cancelled"] == 2
    assert kept[(shop_a.pk, day2)]["status_pending_payment"] == 1
    assert kept[(shop_a.pk, day2)]["reviews"] == 1
    assert kept[(shop_a.pk, day2)]["dsr_shipping_sum"] == 4
    assert kept[(shop_a.pk, day2)]["feedback_total"] == 1
    assert kept[(shop_a.pk, day2)]["feedback_positive"] == 0


def test_daily_stats_rebuild_restores_drifted_figures(shop_a, buyer):
    # given
    at = datetime(2025, 3, 1, 15, 30, tzinfo=UTC)
    make_order(shop_a, buyer, status="shipped", placed_at=at, step=timedelta(hours=1))
    expected = stats_rows()
    ShopDailyStats.objects.update(gmv_minor=0, orders_paid=0)
    ShopDailyStats.objects.create(shop=shop_a, day=date(2020, 1, 1), orders_created=7)

    # when
    rows = svc.daily_stats_rebuild(shop_ids=[shop_a.pk])

    # then: figures re-derived; the day with no facts zeroed (never deleted: no lost increment)
    assert stats_rows() == expected
    assert rows == len(expected) + 1
    assert ShopDailyStats.objects.get(shop=shop_a, day=date(2020, 1, 1)).orders_created == 0


def test_daily_stats_rebuild_since_keeps_older_days(shop_a, buyer):
    # given
    old = datetime(2025, 1, 10, 4, 0, tzinfo=UTC)
    recent = datetime(2025, 3, 1, 4, 0, tzinfo=UTC)
    make_order(shop_a, buyer, status="paid", placed_at=old)
    make_order(shop_a, buyer, status="paid", placed_at=recent)
    ShopDailyStats.objects.filter(day=date(2025, 1, 10)).update(orders_created=42)
    ShopDailyStats.objects.filter(day=date(2025, 3, 1)).update(orders_created=42)

    # when
    svc.daily_stats_rebuild(since=recent)

    # then: only days from `since` are re-derived
    assert ShopDailyStats.objects.get(day=date(2025, 1, 10)).orders_created == 42
    assert ShopDailyStats.objects.get(day=date(2025, 3, 1)).orders_created == 1
