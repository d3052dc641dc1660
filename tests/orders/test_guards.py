"""orders.guards: the lifecycle's refusals as pure functions (SPEC §0, C-3, E-3), shared by the
services, the bulk seed path and the ingestion fast path. Equality of the paths' refusals is
proven in tests/demo/test_bulk.py and tests/api/test_fast_path.py; here: what the guards are on
their own."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from buyers.models import Buyer
from core.errors import DomainError, InvalidTransition
from orders import guards
from orders.inputs import OrderInput
from orders.models import Order, OrderStatus
from shops.models import Shop

S = OrderStatus
T0 = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _refusal(check, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(DomainError) as exc:
        check(*args, **kwargs)
    return exc.value.code, exc.value.message


@pytest.mark.parametrize("status", list(S.values))
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_s0_transition_refusal_names_the_status_as_the_order_displays_it(status, language):
    # given: an order in ``status`` that may only be paid from pending payment
    order = Order(number="8100000000000001", status=status)

    # when
    with translation.override(language):
        expected = (
            f"Order {order.number} is {order.get_status_display().lower()}; "
            "it cannot be paid (allowed from: pending_payment)."
        )
        refusal = None
        if status != S.PENDING_PAYMENT:
            refusal = _refusal(
                guards.check_transition,
                number=order.number,
                status=status,
                allowed=(S.PENDING_PAYMENT,),
                action="paid",
            )

    # then: refused from every other status, in the words the seller reads
    if status == S.PENDING_PAYMENT:
        assert refusal is None
    else:
        assert refusal == ("invalid_transition", expected)


def test_c3_payment_must_match_payable_before_coins_less_the_coins():
    # given: 61.98 items + 3.99 shipping - 5.00 coupon - 3.00 of coins
    due = guards.amount_due_minor(
        subtotal_minor=61_98,
        shipping_fee_minor=3_99,
        coupon_discount_minor=5_00,
        coin_deduction_minor=3_00,
    )
    pending = {"number": "N1", "status": S.PENDING_PAYMENT, "placed_at": T0, "due_minor": due}

    # when / then: the exact amount passes, a cent less is refused, so is an early payment
    assert due == 57_97
    guards.check_payment(**pending, amount_minor=due, method="card", paid_at=T0 + H)
    assert _refusal(
        guards.check_payment, **pending, amount_minor=due - 1, method="card", paid_at=T0 + H
    ) == ("amount_mismatch", "Payment of 5796 does not match the 5797 due on order N1.")
    code, _ = _refusal(
        guards.check_payment, **pending, amount_minor=due, method="card", paid_at=T0 - H
    )
    assert code == "invalid_time"


def test_s0_guards_check_in_the_services_order():
    # given: a refund that breaks two rules at once (cancelled unpaid order, zero amount)
    refund = {
        "number": "N1",
        "status": S.CANCELLED,
        "paid_at": None,
        "amount_paid_minor": 0,
        "refunded_minor": 0,
        "amount_minor": 0,
    }

    # when / then: the first rule in the service's order wins
    with pytest.raises(InvalidTransition) as exc:
        guards.check_refund(**refund)
    assert exc.value.code == "not_paid"
    # and a shipment is refused for its status before its blank tracking number
    code, _ = _refusal(
        guards.check_shipment,
        number="N1",
        status=S.PENDING_PAYMENT,
        placed_at=T0,
        paid_at=None,
        tracking_number="  ",
        shipped_at=T0 + H,
    )
    assert code == "invalid_transition"


def test_e3_scan_marks_keep_the_latest_scan_and_the_latest_progress():
    # given: a shipment last scanned (with progress) at T0 + 10 h
    last = {"last_event_at": T0 + 10 * H, "last_progress_at": T0 + 10 * H}

    # when / then: an older scan arriving late changes nothing
    assert guards.shipment_scan_marks(status="in_transit", occurred_at=T0 + 5 * H, **last) == {}
    # a newer scan without progress moves only the latest scan
    assert guards.shipment_scan_marks(status="no_update", occurred_at=T0 + 20 * H, **last) == {
        "last_event_at": T0 + 20 * H
    }
    # a newer scan with progress moves both
    assert guards.shipment_scan_marks(status="in_transit", occurred_at=T0 + 20 * H, **last) == {
        "last_event_at": T0 + 20 * H,
        "last_progress_at": T0 + 20 * H,
    }


@pytest.mark.parametrize(
    ("kind", "key", "message"),
    [
        ("order", "8100", "Order 8100 already exists in this shop."),
        ("payment", "PAY-1", "Payment PAY-1 is already recorded."),
        ("refund", "RFD-1", "Refund RFD-1 is already recorded."),
        ("dispute", "DSP-1", "Dispute DSP-1 is already recorded."),
        ("review", "", "This SKU on this order is already reviewed."),
        ("feedback", "8100", "Order 8100 already has feedback."),
    ],
)
def test_s0_duplicate_keys_are_refused_with_a_stable_code(kind, key, message):
    # when
    error = guards.duplicate_error(kind, key)

    # then
    assert (error.code, error.message) == (f"duplicate_{kind}", message)


# --- every refusal at its edge (mutation testing, ISSUE 6 §6.3) ------------------------------

MAX = guards.MAX_ORDER_MINOR


@dataclass
class _Sku:
    shop_id: int
    code: str = "K-1"


@dataclass
class _Line:  # the shape of orders.inputs.LineInput the guards read
    sku: _Sku
    quantity: int
    unit_price_minor: int


def _order(**changes) -> OrderInput:
    """``check_order``'s input: a valid order of shop 1 (one line of 100.00), with ``changes``.

    Unsaved shop and buyer: the guards read values only, never the database."""
    fields = {
        "shop": Shop(pk=1),
        "buyer": Buyer(pk=1),
        "number": "8100000000000001",
        "lines": [_Line(_Sku(1), 1, 100_00)],
        "placed_at": T0,
        "payment_method": "card",
    }
    return OrderInput(**(fields | changes))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "tip cannot be negative."),
        (MAX + 1, "tip is larger than any order the marketplace allows."),
        (1.0, "tip must be a whole number of minor units."),
        (True, "tip must be a whole number of minor units."),
        ("5", "tip must be a whole number of minor units."),
    ],
)
def test_s0_an_amount_is_a_whole_non_negative_number_up_to_the_ceiling(value, message):
    # when / then
    assert _refusal(guards.check_amount, name="tip", value=value) == ("invalid_amount", message)


@pytest.mark.parametrize("value", [0, 1, MAX])
def test_s0_amounts_from_zero_to_exactly_the_ceiling_pass(value):
    # when / then: no exception
    assert guards.check_amount("tip", value) is None


def test_s0_check_order_returns_the_items_subtotal():
    # given: 2 x 30.00 + 3 x 1.50
    lines = [_Line(_Sku(1), 2, 30_00), _Line(_Sku(1, "K-2"), 3, 1_50)]

    # when / then
    assert guards.check_order(_order(lines=lines)) == 64_50


def test_s0_a_negative_unit_price_is_refused_even_when_the_subtotal_is_positive():
    # given: a -50 line plus a +100 line: the subtotal (50) alone would pass
    lines = [_Line(_Sku(1), 1, -50), _Line(_Sku(1, "K-2"), 1, 100)]

    # when / then
    assert _refusal(guards.check_order, _order(lines=lines)) == (
        "invalid_amount",
        "unit price cannot be negative.",
    )


def test_s0_a_unit_price_over_the_ceiling_is_refused():
    # given: the unit price alone is over the ceiling
    lines = [_Line(_Sku(1), 1, MAX + 1)]

    # when / then
    assert _refusal(guards.check_order, _order(lines=lines)) == (
        "invalid_amount",
        "unit price is larger than any order the marketplace allows.",
    )


def test_s0_the_order_amount_ceiling_holds_at_its_edge():
    # given: lines that sum to exactly the ceiling, then one minor unit more
    at_ceiling = [_Line(_Sku(1), 2, MAX // 2)]
    over = [_Line(_Sku(1), 2, MAX // 2), _Line(_Sku(1, "K-2"), 1, 1)]

    # when / then
    assert guards.check_order(_order(lines=at_ceiling)) == MAX
    assert _refusal(guards.check_order, _order(lines=over)) == (
        "invalid_amount",
        "subtotal is larger than any order the marketplace allows.",
    )


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"lines": []}, ("empty_order", "An order needs at least one line.")),
        (
            {"lines": [_Line(_Sku(2, "K-9"), 1, 100)]},
            ("foreign_sku", "SKU K-9 belongs to another shop."),
        ),
        (
            {"lines": [_Line(_Sku(1), 0, 100)]},
            ("invalid_quantity", "Line quantity must be at least 1."),
        ),
        ({"shipping_fee_minor": -1}, ("invalid_amount", "shipping fee cannot be negative.")),
        ({"coupon_discount_minor": -1}, ("invalid_amount", "coupon discount cannot be negative.")),
        ({"coin_deduction_minor": -1}, ("invalid_amount", "coin deduction cannot be negative.")),
        (
            {"platform_subsidy_minor": -1},
            ("invalid_amount", "platform subsidy cannot be negative."),
        ),
        (
            {"cashback_red_packet_minor": -1},
            ("invalid_amount", "cashback red packet cannot be negative."),
        ),
        (
            {"cashback_red_packet_minor": MAX + 1},
            (
                "invalid_amount",
                "cashback red packet is larger than any order the marketplace allows.",
            ),
        ),
        ({"coin_deduction_coins": -1}, ("invalid_amount", "Coin deduction cannot be negative.")),
        (
            {"shipping_fee_minor": 5_00, "coupon_discount_minor": 105_01},
            ("invalid_amount", "Coupon discount exceeds the order amount."),
        ),
        (
            {"shipping_fee_minor": 5_00, "coin_deduction_minor": 105_01},
            ("coins_exceed_payable", "Coin deduction exceeds the payable amount."),
        ),
        (
            {"coupon_discount_minor": 60_00, "coin_deduction_minor": 40_01},
            ("coins_exceed_payable", "Coin deduction exceeds the payable amount."),
        ),
        (
            {"payment_method": "cash"},
            ("invalid_payment_method", "Unknown payment method 'cash'."),
        ),
    ],
)
def test_s0_c3_each_order_guard_refuses_with_its_own_code(changes, refusal):
    # when / then
    assert _refusal(guards.check_order, _order(**changes)) == refusal


def test_s0_the_coupon_guard_is_not_shadowed_by_the_coin_guard():
    # given: a coupon one cent over items + shipping, no coins at all
    order = _order(shipping_fee_minor=5_00, coupon_discount_minor=105_01)

    # when
    code, message = _refusal(guards.check_order, order)

    # then: the coupon's refusal, not the coins'
    assert (code, message) == ("invalid_amount", "Coupon discount exceeds the order amount.")


@pytest.mark.parametrize(
    "changes",
    [
        {"shipping_fee_minor": 5_00, "coupon_discount_minor": 105_00},  # coupon takes it all
        {"shipping_fee_minor": 5_00, "coin_deduction_minor": 105_00},  # coins take it all
        {"coupon_discount_minor": 60_00, "coin_deduction_minor": 40_00},  # together, exactly
        {"coin_deduction_coins": 0, "payment_method": ""},  # no method yet
        {"lines": [_Line(_Sku(1), 1, 0)]},  # a free item
    ],
)
def test_c3_an_order_with_exactly_zero_due_is_accepted(changes):
    # when / then: no exception
    guards.check_order(_order(**changes))


def test_c3_amount_due_is_items_plus_shipping_less_coupon_and_coins():
    # when / then
    assert (
        guards.amount_due_minor(
            subtotal_minor=1000, shipping_fee_minor=200, coupon_discount_minor=30,
            coin_deduction_minor=4,
        )
        == 1166
    )  # fmt: skip


def _payment(**changes):
    kwargs = {
        "number": "N1",
        "status": S.PENDING_PAYMENT,
        "placed_at": T0,
        "due_minor": 10_00,
        "amount_minor": 10_00,
        "method": "card",
        "paid_at": T0 + H,
    }
    kwargs.update(changes)
    return kwargs


@pytest.mark.parametrize(
    "changes",
    [{}, {"paid_at": T0}, {"due_minor": 0, "amount_minor": 0}, {"method": "bank_transfer"}],
)
def test_s0_c3_a_payment_of_the_due_amount_at_or_after_placing_passes(changes):
    # when / then: no exception (an order with 0 due is paid with 0)
    guards.check_payment(**_payment(**changes))


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        (
            {"status": S.PAID},
            (
                "invalid_transition",
                "Order N1 is paid; it cannot be paid (allowed from: pending_payment).",
            ),
        ),
        ({"amount_minor": -1}, ("invalid_amount", "payment amount cannot be negative.")),
        (
            {"amount_minor": 10_01},
            ("amount_mismatch", "Payment of 1001 does not match the 1000 due on order N1."),
        ),
        ({"method": ""}, ("invalid_payment_method", "Unknown payment method ''.")),
        (
            {"paid_at": T0 - timedelta(microseconds=1)},
            ("invalid_time", "Payment cannot precede the order."),
        ),
    ],
)
def test_s0_each_payment_guard_refuses_with_its_code_and_message(changes, refusal):
    # when / then
    assert _refusal(guards.check_payment, **_payment(**changes)) == refusal


@pytest.mark.parametrize("status", list(S.values))
def test_s0_cancelled_before_shipping_only(status):
    # when
    if status in (S.PENDING_PAYMENT, S.PAID):
        guards.check_cancel(number="N1", status=status)
        return
    code, message = _refusal(guards.check_cancel, number="N1", status=status)

    # then
    assert code == "invalid_transition"
    assert message.startswith("Order N1 is ")
    assert message.endswith("; it cannot be cancelled (allowed from: pending_payment, paid).")


def _shipment(**changes):
    kwargs = {
        "number": "N1",
        "status": S.PAID,
        "placed_at": T0,
        "paid_at": T0 + H,
        "tracking_number": " LP123 ",
        "shipped_at": T0 + 2 * H,
    }
    kwargs.update(changes)
    return kwargs


def test_s0_a_shipment_stores_its_tracking_number_trimmed_and_may_leave_at_payment_time():
    # when / then
    assert guards.check_shipment(**_shipment()) == "LP123"
    assert guards.check_shipment(**_shipment(shipped_at=T0 + H)) == "LP123"


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        (
            {"status": S.PENDING_PAYMENT},
            (
                "invalid_transition",
                "Order N1 is pending payment; it cannot be shipped (allowed from: paid).",
            ),
        ),
        (
            {"tracking_number": " \t"},
            ("missing_tracking_number", "A shipment needs a tracking number."),
        ),
        (
            {"shipped_at": T0 + H - timedelta(microseconds=1)},
            ("invalid_time", "Shipping cannot precede payment."),
        ),
        (
            # no payment time known: the order's placing time is the floor
            {"paid_at": None, "shipped_at": T0 - timedelta(microseconds=1)},
            ("invalid_time", "Shipping cannot precede payment."),
        ),
    ],
)
def test_s0_shipping_before_payment_is_refused_at_its_edge(changes, refusal):
    # when / then
    assert _refusal(guards.check_shipment, **_shipment(**changes)) == refusal


def test_s0_without_a_payment_time_shipping_may_leave_at_placing_time():
    # when / then
    assert guards.check_shipment(**_shipment(paid_at=None, shipped_at=T0)) == "LP123"


def test_e3_tracking_needs_a_known_status_and_a_shipment():
    # when / then
    guards.check_tracking(number="N1", status="customs", shipped=True)
    assert _refusal(guards.check_tracking, number="N1", status="lost", shipped=True) == (
        "invalid_tracking_status",
        "Unknown tracking status 'lost'.",
    )
    assert _refusal(guards.check_tracking, number="N1", status="customs", shipped=False) == (
        "not_shipped",
        "Order N1 has no shipment to track.",
    )


def test_e3_the_first_scan_sets_both_marks_and_a_scan_at_the_same_instant_changes_nothing():
    # given
    first = {"last_event_at": None, "last_progress_at": None}
    last = {"last_event_at": T0, "last_progress_at": T0}

    # when / then
    assert guards.shipment_scan_marks(status="picked_up", occurred_at=T0, **first) == {
        "last_event_at": T0,
        "last_progress_at": T0,
    }
    assert guards.shipment_scan_marks(status="exception", occurred_at=T0, **first) == {
        "last_event_at": T0
    }
    assert guards.shipment_scan_marks(status="in_transit", occurred_at=T0, **last) == {}
    # a newer progress scan after an old progress mark but not after the latest scan
    assert guards.shipment_scan_marks(
        status="in_transit", occurred_at=T0, last_event_at=T0 + H, last_progress_at=T0 - H
    ) == {"last_progress_at": T0}


def test_s0_delivery_and_completion_follow_the_lifecycle():
    # when / then
    guards.check_delivery(number="N1", status=S.SHIPPED)
    guards.check_completion(number="N1", status=S.DELIVERED, disputed=False)
    assert _refusal(guards.check_delivery, number="N1", status=S.PAID) == (
        "invalid_transition",
        "Order N1 is paid; it cannot be delivered (allowed from: shipped).",
    )
    assert _refusal(guards.check_completion, number="N1", status=S.SHIPPED, disputed=False) == (
        "invalid_transition",
        "Order N1 is shipped; it cannot be completed (allowed from: delivered).",
    )
    assert _refusal(guards.check_completion, number="N1", status=S.DELIVERED, disputed=True) == (
        "disputed",
        "Order N1 has an open dispute.",
    )


def _refund(**changes):
    kwargs = {
        "number": "N1",
        "status": S.DELIVERED,
        "paid_at": T0,
        "amount_paid_minor": 100_00,
        "refunded_minor": 30_00,
        "amount_minor": 70_00,
    }
    kwargs.update(changes)
    return kwargs


def test_s0_a_refund_of_exactly_what_remains_passes_and_returns_it():
    # when / then
    assert guards.check_refund(**_refund()) == 70_00
    assert guards.check_refund(**_refund(amount_minor=1)) == 70_00
    # a paid order cancelled before shipping is refunded too
    assert guards.check_refund(**_refund(status=S.CANCELLED)) == 70_00


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        (
            {"status": S.PENDING_PAYMENT},
            (
                "invalid_transition",
                "Order N1 is pending payment; it cannot be refunded (allowed from: "
                "paid, shipped, delivered, completed, cancelled).",
            ),
        ),
        ({"status": S.CANCELLED, "paid_at": None}, ("not_paid", "Order N1 was never paid.")),
        ({"amount_minor": 0}, ("invalid_amount", "A refund must be more than zero.")),
        ({"amount_minor": -1}, ("invalid_amount", "refund amount cannot be negative.")),
        (
            {"amount_minor": 70_01},
            (
                "refund_exceeds_paid",
                "Refund of 7001 exceeds the 7000 still refundable on order N1.",
            ),
        ),
    ],
)
def test_s0_each_refund_guard_refuses_at_its_edge(changes, refusal):
    # when / then
    assert _refusal(guards.check_refund, **_refund(**changes)) == refusal


def test_s0_disputes_open_on_paid_orders_once_and_close_once_with_an_outcome():
    # when / then
    guards.check_dispute_open(number="N1", status=S.COMPLETED, disputed=False)
    assert _refusal(guards.check_dispute_open, number="N1", status=S.CANCELLED, disputed=False) == (
        "invalid_transition",
        "Order N1 is cancelled; it cannot be disputed "
        "(allowed from: paid, shipped, delivered, completed).",
    )
    assert _refusal(guards.check_dispute_open, number="N1", status=S.PAID, disputed=True) == (
        "already_disputed",
        "Order N1 already has an open dispute.",
    )
    close = {"number": "N1", "dispute_id": "D1", "exists": True, "closed": False}
    guards.check_dispute_close(**close, outcome="settled")
    assert _refusal(guards.check_dispute_close, **{**close, "exists": False}, outcome="x") == (
        "unknown_dispute",
        "No dispute D1 on order N1.",
    )
    assert _refusal(guards.check_dispute_close, **{**close, "closed": True}, outcome="x") == (
        "dispute_closed",
        "Dispute D1 is already closed.",
    )
    assert _refusal(guards.check_dispute_close, **close, outcome="draw") == (
        "invalid_outcome",
        "Unknown dispute outcome 'draw'.",
    )


def _review(**changes):
    kwargs = {
        "number": "N1",
        "status": S.DELIVERED,
        "sku": "K-1",
        "on_order": True,
        "rating": 5,
        "dsr_item_as_described": 5,
        "dsr_communication": 5,
        "dsr_shipping": 5,
    }
    kwargs.update(changes)
    return kwargs


@pytest.mark.parametrize("score", [1, 5])
@pytest.mark.parametrize(
    "field", ["rating", "dsr_item_as_described", "dsr_communication", "dsr_shipping"]
)
def test_s0_review_scores_from_1_to_5_pass(field, score):
    # when / then: no exception
    guards.check_review(**_review(**{field: score}))


@pytest.mark.parametrize("score", [0, 6, -1, 4.5, "5", None])
@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("rating", "rating"),
        ("dsr_item_as_described", "item as described"),
        ("dsr_communication", "communication"),
        ("dsr_shipping", "shipping"),
    ],
)
def test_s0_a_review_score_of_0_or_above_5_is_refused(field, name, score):
    # when / then
    assert _refusal(guards.check_review, **_review(**{field: score})) == (
        "invalid_score",
        f"{name} must be a whole number from 1 to 5.",
    )


def test_s0_a_review_needs_a_reviewable_order_and_its_sku():
    # when / then
    guards.check_review(**_review(status=S.REFUNDED))
    assert _refusal(guards.check_review, **_review(status=S.SHIPPED)) == (
        "invalid_transition",
        "Order N1 is shipped; it cannot be reviewed "
        "(allowed from: delivered, completed, refunded).",
    )
    assert _refusal(guards.check_review, **_review(on_order=False)) == (
        "sku_not_on_order",
        "SKU K-1 is not on order N1.",
    )


def test_s0_feedback_needs_a_known_kind_and_a_reviewable_order():
    # when / then
    guards.check_feedback(number="N1", status=S.COMPLETED, kind="neutral")
    assert _refusal(guards.check_feedback, number="N1", status=S.COMPLETED, kind="meh") == (
        "invalid_feedback",
        "Unknown feedback kind 'meh'.",
    )
    assert _refusal(guards.check_feedback, number="N1", status=S.PAID, kind="positive") == (
        "invalid_transition",
        "Order N1 is paid; it cannot be given feedback "
        "(allowed from: delivered, completed, refunded).",
    )


def test_s0_an_unknown_status_is_named_as_it_is():
    # when / then: no label to translate, the raw status is shown
    assert _refusal(
        guards.check_transition, number="N1", status="lost", allowed=(S.PAID,), action="shipped"
    ) == ("invalid_transition", "Order N1 is lost; it cannot be shipped (allowed from: paid).")
