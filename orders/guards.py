"""The order lifecycle's guards (SPEC §0): every refusal, as a pure function of the values it
judges — a status string, amounts, timestamps — rather than of an ``Order``. No query, no write.

Three paths apply the lifecycle and all refuse through these, so the same input is refused with
the same ``DomainError`` code and message, the checks in the same order:

* ``orders.services`` on the locked order (one transaction per step);
* ``demo.bulk`` on its in-memory rows (seeds and benches, thousands of orders at a time);
* ``orders.ingest.fast`` on a batch of events, through ``services.order_build`` and
  ``services.order_pay_check``.

What needs the database (a UNIQUE key, whether a SKU is on an order) is found by each path its
own way and handed in as a value (``on_order``, ``exists``) or reported with ``duplicate_error``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.errors import DomainError, InvalidTransition

from .models import (
    PROGRESS_STATUSES,
    DisputeOutcome,
    FeedbackKind,
    OrderStatus,
    PaymentMethod,
    ShipVerdict,
    TrackingStatus,
)

if TYPE_CHECKING:
    # Not ``services``: it imports this module (the order's inputs live apart, in ``inputs``).
    from .inputs import OrderInput

S = OrderStatus
PAID_STATES = (S.PAID, S.SHIPPED, S.DELIVERED, S.COMPLETED)
# Orders cannot carry more than this many minor units (¥/$ 10 million): absurd amounts are refused.
MAX_ORDER_MINOR = 10_000_000_00

# ``Choices.values`` builds a list on every access, and the bulk path checks millions of steps.
PAYMENT_METHODS = frozenset(PaymentMethod.values)
TRACKING_STATUSES = frozenset(TrackingStatus.values)
DISPUTE_OUTCOMES = frozenset(DisputeOutcome.values)
FEEDBACK_KINDS = frozenset(FeedbackKind.values)
_STATUS_LABELS = dict(OrderStatus.choices)  # lazy labels: translated when a message is built

# The statuses each transition may start from (SPEC §0).
_PAYABLE = (S.PENDING_PAYMENT,)
_CANCELLABLE = (S.PENDING_PAYMENT, S.PAID)  # cancelled before shipping only
_SHIPPABLE = (S.PAID,)
_DELIVERABLE = (S.SHIPPED,)
_COMPLETABLE = (S.DELIVERED,)
_REFUNDABLE = (*PAID_STATES, S.CANCELLED)
_DISPUTABLE = PAID_STATES
_REVIEWABLE = (S.DELIVERED, S.COMPLETED, S.REFUNDED)  # reviews and feedback

# A replayed unique key: the database's UNIQUE constraint in the services, a set in demo.bulk.
_DUPLICATES = {
    "order": "Order {key} already exists in this shop.",
    "payment": "Payment {key} is already recorded.",
    "refund": "Refund {key} is already recorded.",
    "dispute": "Dispute {key} is already recorded.",
    "review": "This SKU on this order is already reviewed.",
    "feedback": "Order {key} already has feedback.",
}


def duplicate_error(kind: str, key: str = "") -> DomainError:
    """The refusal of a second ``kind`` with the same ``key`` (code ``duplicate_<kind>``)."""
    return DomainError(_DUPLICATES[kind].format(key=key), code=f"duplicate_{kind}")


def check_amount(name: str, value: int) -> None:
    """An amount of minor units: a whole number, not negative, not absurd."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise DomainError(f"{name} must be a whole number of minor units.", code="invalid_amount")
    if value < 0:
        raise DomainError(f"{name} cannot be negative.", code="invalid_amount")
    if value > MAX_ORDER_MINOR:
        raise DomainError(
            f"{name} is larger than any order the marketplace allows.", code="invalid_amount"
        )


def check_transition(*, number: str, status: str, allowed: tuple[str, ...], action: str) -> None:
    """An order in ``status`` may be ``action`` only from one of the ``allowed`` statuses."""
    if status not in allowed:
        label = str(_STATUS_LABELS.get(status, status)).lower()  # Order.get_status_display()
        raise InvalidTransition(
            f"Order {number} is {label}; "
            f"it cannot be {action} (allowed from: {', '.join(allowed)}).",
        )


def amount_due_minor(
    *,
    subtotal_minor: int,
    shipping_fee_minor: int,
    coupon_discount_minor: int,
    coin_deduction_minor: int,
) -> int:
    """What the payment must be: ``Order.payable_before_coins`` (items + shipping - coupon)
    less the coin deduction (SPEC C-3 Decision)."""
    return subtotal_minor + shipping_fee_minor - coupon_discount_minor - coin_deduction_minor


def check_order(data: OrderInput) -> int:
    """Every guard of ``order_create``, in its order; returns the items subtotal.

    Reads only the values of ``data`` (``shop.pk``, the lines' ``sku.shop_id``/``sku.code``):
    no query.
    """
    lines = data.lines
    shop_id = data.shop.pk
    shipping_fee_minor = data.shipping_fee_minor
    coupon_discount_minor = data.coupon_discount_minor
    coin_deduction_minor = data.coin_deduction_minor
    if not lines:
        raise DomainError("An order needs at least one line.", code="empty_order")
    subtotal = 0
    for line in lines:
        if line.sku.shop_id != shop_id:
            raise DomainError(f"SKU {line.sku.code} belongs to another shop.", code="foreign_sku")
        if line.quantity < 1:
            raise DomainError("Line quantity must be at least 1.", code="invalid_quantity")
        check_amount("unit price", line.unit_price_minor)
        subtotal += line.quantity * line.unit_price_minor
    for name, value in (
        ("subtotal", subtotal),
        ("shipping fee", shipping_fee_minor),
        ("coupon discount", coupon_discount_minor),
        ("coin deduction", coin_deduction_minor),
        ("platform subsidy", data.platform_subsidy_minor),
        ("cashback red packet", data.cashback_red_packet_minor),
    ):
        check_amount(name, value)
    if data.coin_deduction_coins < 0:
        raise DomainError("Coin deduction cannot be negative.", code="invalid_amount")
    if coupon_discount_minor > subtotal + shipping_fee_minor:
        raise DomainError("Coupon discount exceeds the order amount.", code="invalid_amount")
    if data.payment_method and data.payment_method not in PAYMENT_METHODS:
        raise DomainError(
            f"Unknown payment method {data.payment_method!r}.", code="invalid_payment_method"
        )
    due = amount_due_minor(
        subtotal_minor=subtotal,
        shipping_fee_minor=shipping_fee_minor,
        coupon_discount_minor=coupon_discount_minor,
        coin_deduction_minor=coin_deduction_minor,
    )
    if due < 0:
        # Its own code: a coupon larger than the order also leaves ``due`` below zero, and the
        # coupon check above must stay visible (a shared code would hide its removal).
        raise DomainError("Coin deduction exceeds the payable amount.", code="coins_exceed_payable")
    return subtotal


def check_payment(
    *,
    number: str,
    status: str,
    placed_at: datetime,
    due_minor: int,
    amount_minor: int,
    method: str,
    paid_at: datetime,
) -> None:
    """Every guard of ``order_pay``, in its order (``due_minor``: ``amount_due_minor``)."""
    check_transition(number=number, status=status, allowed=_PAYABLE, action="paid")
    check_amount("payment amount", amount_minor)
    if amount_minor != due_minor:
        raise DomainError(
            f"Payment of {amount_minor} does not match the {due_minor} due on order {number}.",
            code="amount_mismatch",
        )
    if method not in PAYMENT_METHODS:
        raise DomainError(f"Unknown payment method {method!r}.", code="invalid_payment_method")
    if paid_at < placed_at:
        raise DomainError("Payment cannot precede the order.", code="invalid_time")


def check_cancel(*, number: str, status: str) -> None:
    # SPEC §0: cancelled before shipping only. A paid order cancelled before shipping is
    # refunded by the marketplace through order.refunded; here it simply becomes cancelled.
    check_transition(number=number, status=status, allowed=_CANCELLABLE, action="cancelled")


def check_shipment(
    *,
    number: str,
    status: str,
    placed_at: datetime,
    paid_at: datetime | None,
    tracking_number: str,
    shipped_at: datetime,
) -> str:
    """Every guard of ``order_ship``, in its order; returns the tracking number as stored."""
    check_transition(number=number, status=status, allowed=_SHIPPABLE, action="shipped")
    tracking_number = tracking_number.strip()
    if not tracking_number:
        raise DomainError("A shipment needs a tracking number.", code="missing_tracking_number")
    if shipped_at < (paid_at or placed_at):
        raise DomainError("Shipping cannot precede payment.", code="invalid_time")
    return tracking_number


def check_tracking(*, number: str, status: str, shipped: bool) -> None:
    """Every guard of ``tracking_update``: a known scan status, on an order with a shipment."""
    if status not in TRACKING_STATUSES:
        raise DomainError(f"Unknown tracking status {status!r}.", code="invalid_tracking_status")
    if not shipped:
        raise InvalidTransition(f"Order {number} has no shipment to track.", code="not_shipped")


def shipment_scan_marks(
    *,
    status: str,
    occurred_at: datetime,
    last_event_at: datetime | None,
    last_progress_at: datetime | None,
) -> dict[str, datetime]:
    """SPEC E-3: the shipment's latest scan, and its latest scan that moved the parcel forward.

    Returns the shipment fields a scan changes (a late-arriving older scan changes none).
    """
    marks = {}
    if last_event_at is None or occurred_at > last_event_at:
        marks["last_event_at"] = occurred_at
    if status in PROGRESS_STATUSES and (last_progress_at is None or occurred_at > last_progress_at):
        marks["last_progress_at"] = occurred_at
    return marks


def check_delivery(*, number: str, status: str) -> None:
    check_transition(number=number, status=status, allowed=_DELIVERABLE, action="delivered")


def check_completion(*, number: str, status: str, disputed: bool) -> None:
    check_transition(number=number, status=status, allowed=_COMPLETABLE, action="completed")
    if disputed:
        raise InvalidTransition(f"Order {number} has an open dispute.", code="disputed")


def check_refund(
    *,
    number: str,
    status: str,
    paid_at: datetime | None,
    amount_paid_minor: int,
    refunded_minor: int,
    amount_minor: int,
) -> int:
    """Every guard of ``order_refund``, in its order; returns what was refundable before it."""
    check_transition(number=number, status=status, allowed=_REFUNDABLE, action="refunded")
    if status == S.CANCELLED and paid_at is None:
        raise InvalidTransition(f"Order {number} was never paid.", code="not_paid")
    check_amount("refund amount", amount_minor)
    if amount_minor == 0:
        raise DomainError("A refund must be more than zero.", code="invalid_amount")
    remaining = amount_paid_minor - refunded_minor
    if amount_minor > remaining:
        raise DomainError(
            f"Refund of {amount_minor} exceeds the {remaining} still refundable on order {number}.",
            code="refund_exceeds_paid",
        )
    return remaining


def check_dispute_open(*, number: str, status: str, disputed: bool) -> None:
    check_transition(number=number, status=status, allowed=_DISPUTABLE, action="disputed")
    if disputed:
        raise InvalidTransition(
            f"Order {number} already has an open dispute.", code="already_disputed"
        )


def check_dispute_close(
    *, number: str, dispute_id: str, exists: bool, closed: bool, outcome: str
) -> None:
    """Every guard of ``dispute_close``: a known dispute of the order, still open, an outcome."""
    if not exists:
        raise DomainError(f"No dispute {dispute_id} on order {number}.", code="unknown_dispute")
    if closed:
        raise InvalidTransition(f"Dispute {dispute_id} is already closed.", code="dispute_closed")
    if outcome not in DISPUTE_OUTCOMES:
        raise DomainError(f"Unknown dispute outcome {outcome!r}.", code="invalid_outcome")


def check_review(
    *,
    number: str,
    status: str,
    sku: object,
    on_order: bool,
    rating: int,
    dsr_item_as_described: int,
    dsr_communication: int,
    dsr_shipping: int,
) -> None:
    """Every guard of ``review_post`` but the one-review-per-SKU key (``sku``: how to name it)."""
    check_transition(number=number, status=status, allowed=_REVIEWABLE, action="reviewed")
    if not on_order:
        raise DomainError(f"SKU {sku} is not on order {number}.", code="sku_not_on_order")
    for name, value in (
        ("rating", rating),
        ("item as described", dsr_item_as_described),
        ("communication", dsr_communication),
        ("shipping", dsr_shipping),
    ):
        if not isinstance(value, int) or not 1 <= value <= 5:
            raise DomainError(f"{name} must be a whole number from 1 to 5.", code="invalid_score")


def check_feedback(*, number: str, status: str, kind: str) -> None:
    """Every guard of ``feedback_post`` but the one-feedback-per-order key."""
    if kind not in FEEDBACK_KINDS:
        raise DomainError(f"Unknown feedback kind {kind!r}.", code="invalid_feedback")
    check_transition(number=number, status=status, allowed=_REVIEWABLE, action="given feedback")


# --- fulfilment facts that time decides (SPEC E-3) ----------------------------------------------
# Pure, so the services, the bulk rows, the sweep and the activities replay judge alike.

# SPEC E-3: a paid order needs a valid tracking number within 72 h of its creation.
SHIP_WITHIN = timedelta(hours=72)
# SPEC E-3 logistics anomaly: no tracking update for >= 72 h, or no progress for >= 5 days.
QUIET_MAX = timedelta(hours=72)
STALL_MAX = timedelta(days=5)


def scan_verdict(*, placed_at: datetime, scanned_at: datetime, verdict: str) -> str | None:
    """The shipping verdict a carrier scan at ``scanned_at`` sets (None: it changes nothing).

    A scan proves the tracking number valid: one within the deadline makes the order on time,
    even when it arrives after the sweep judged the order late."""
    if verdict != ShipVerdict.ON_TIME and scanned_at <= placed_at + SHIP_WITHIN:
        return ShipVerdict.ON_TIME
    return None


def overdue_verdict(*, placed_at: datetime, cancelled_at: datetime | None) -> str:
    """The verdict of a paid order whose deadline passed without a scan: late — unless it was
    cancelled before the deadline, when it leaves the rate."""
    if cancelled_at is not None and cancelled_at <= placed_at + SHIP_WITHIN:
        return ShipVerdict.VOID
    return ShipVerdict.LATE


def parcel_quiet(
    *,
    shipped_at: datetime,
    last_event_at: datetime | None,
    last_progress_at: datetime | None,
    at: datetime,
) -> bool:
    """SPEC E-3: at ``at``, the parcel has gone 72 h without an update or 5 days without
    progress (counted from shipping until its first scan / first progress scan)."""
    return (
        at - (last_event_at or shipped_at) >= QUIET_MAX
        or at - (last_progress_at or shipped_at) >= STALL_MAX
    )


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def not_as_described(*, rating: int, text: str, keywords: Iterable[str]) -> bool:
    """SPEC E-3 negative review: rated 2 or lower *and* its text matches the multilingual "not
    as described" keyword list (case and width folded: "ＦＡＫＥ" matches "fake")."""
    if rating > 2 or not text:
        return False
    folded = _fold(text)
    return any(k and _fold(k) in folded for k in keywords)
