"""orders.guards: the lifecycle's refusals as pure functions (SPEC §0, C-3, E-3), shared by the
services, the bulk seed path and the ingestion fast path. Equality of the paths' refusals is
proven in test_bulk.py and tests/api/test_fast_path.py; here: what the guards are on their own."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from core.errors import DomainError, InvalidTransition
from orders import guards
from orders.models import Order, OrderStatus

S = OrderStatus
T0 = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _refusal(check, **kwargs) -> tuple[str, str]:
    with pytest.raises(DomainError) as exc:
        check(**kwargs)
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
