"""Order lifecycle writes (SPEC §0): pending_payment → paid → shipped → delivered → completed,
with cancelled (before shipping), refunded (full or partial) and a disputed flag on paid orders.

Every service checks its guard clauses first and raises ``InvalidTransition`` (or another
``DomainError``) before writing anything; each runs in one transaction and locks the order row.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from buyers.models import Buyer
from core import clock
from core.errors import DomainError, InvalidTransition
from shops.models import OFFICIAL_CARRIERS, Shop, Sku

from . import events
from .models import (
    PROGRESS_STATUSES,
    Cart,
    CartLine,
    Dispute,
    Feedback,
    FeedbackKind,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    Refund,
    Review,
    Shipment,
    ShopDailyStats,
    TrackingEvent,
    TrackingStatus,
)

S = OrderStatus
PAID_STATES = (S.PAID, S.SHIPPED, S.DELIVERED, S.COMPLETED)
# Orders cannot carry more than this many minor units (¥/$ 10 million): absurd amounts are refused.
MAX_ORDER_MINOR = 10_000_000_00


@dataclass(frozen=True)
class LineInput:
    sku: Sku
    quantity: int
    unit_price_minor: int


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _require(order: Order, allowed: Iterable[str], action: str) -> None:
    allowed = tuple(allowed)
    if order.status not in allowed:
        raise InvalidTransition(
            f"Order {order.number} is {order.get_status_display().lower()}; "
            f"it cannot be {action} (allowed from: {', '.join(allowed)}).",
            code="invalid_transition",
        )


def stats_bump(*, shop_id: int, at: datetime, **deltas: int) -> None:
    """Add ``deltas`` to the shop's figures of the natural day of ``at`` (same transaction)."""
    day = clock.natural_day(at)
    updates = {name: F(name) + value for name, value in deltas.items() if value}
    if not updates:
        return
    if ShopDailyStats.objects.filter(shop_id=shop_id, day=day).update(**updates):
        return
    try:
        with transaction.atomic():
            ShopDailyStats.objects.create(shop_id=shop_id, day=day, **deltas)
    except IntegrityError:  # another transaction created the row first
        ShopDailyStats.objects.filter(shop_id=shop_id, day=day).update(**updates)


def _check_amount(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise DomainError(f"{name} must be a whole number of minor units.", code="invalid_amount")
    if value < 0:
        raise DomainError(f"{name} cannot be negative.", code="invalid_amount")
    if value > MAX_ORDER_MINOR:
        raise DomainError(f"{name} is larger than any order the marketplace allows.", code="invalid_amount")


# --- creation -------------------------------------------------------------------------------


def order_build(
    *,
    shop: Shop,
    buyer: Buyer,
    number: str,
    lines: list[LineInput],
    placed_at: datetime,
    shipping_fee_minor: int = 0,
    coupon_discount_minor: int = 0,
    coin_deduction_coins: int = 0,
    coin_deduction_minor: int = 0,
    platform_subsidy_minor: int = 0,
    cashback_red_packet_minor: int = 0,
    payment_method: str = "",
    logistics_service: str = "",
    activity_id: int | None = None,
    affiliate_click_id: str = "",
    country: str = "",
) -> Order:
    """Every guard of ``order_create``, in its order, and the unsaved order; no query.

    The ingestion fast path (``orders.ingest``) builds its rows with this too, so both paths
    refuse an order with the same code.
    """
    if not lines:
        raise DomainError("An order needs at least one line.", code="empty_order")
    subtotal = 0
    for line in lines:
        if line.sku.shop_id != shop.pk:
            raise DomainError(f"SKU {line.sku.code} belongs to another shop.", code="foreign_sku")
        if line.quantity < 1:
            raise DomainError("Line quantity must be at least 1.", code="invalid_quantity")
        _check_amount("unit price", line.unit_price_minor)
        subtotal += line.quantity * line.unit_price_minor
    for name, value in (
        ("subtotal", subtotal),
        ("shipping fee", shipping_fee_minor),
        ("coupon discount", coupon_discount_minor),
        ("coin deduction", coin_deduction_minor),
        ("platform subsidy", platform_subsidy_minor),
        ("cashback red packet", cashback_red_packet_minor),
    ):
        _check_amount(name, value)
    if coin_deduction_coins < 0:
        raise DomainError("Coin deduction cannot be negative.", code="invalid_amount")
    if coupon_discount_minor > subtotal + shipping_fee_minor:
        raise DomainError("Coupon discount exceeds the order amount.", code="invalid_amount")
    if payment_method and payment_method not in PaymentMethod.values:
        raise DomainError(f"Unknown payment method {payment_method!r}.", code="invalid_payment_method")
    order = Order(
        shop=shop,
        buyer=buyer,
        number=number,
        currency=shop.currency,
        subtotal_minor=subtotal,
        shipping_fee_minor=shipping_fee_minor,
        coupon_discount_minor=coupon_discount_minor,
        coin_deduction_coins=coin_deduction_coins,
        coin_deduction_minor=coin_deduction_minor,
        platform_subsidy_minor=platform_subsidy_minor,
        cashback_red_packet_minor=cashback_red_packet_minor,
        payment_method=payment_method,
        logistics_service=logistics_service,
        activity_id=activity_id,
        affiliate_click_id=affiliate_click_id,
        country=country or buyer.country,
        placed_at=placed_at,
    )
    if order.payable_before_coins.amount - coin_deduction_minor < 0:
        raise DomainError("Coin deduction exceeds the payable amount.", code="invalid_amount")
    order._lines = lines  # type: ignore[attr-defined]  # for order_placing guards
    return order


@transaction.atomic
def order_create(
    *,
    shop: Shop,
    buyer: Buyer,
    number: str,
    lines: list[LineInput],
    placed_at: datetime,
    shipping_fee_minor: int = 0,
    coupon_discount_minor: int = 0,
    coin_deduction_coins: int = 0,
    coin_deduction_minor: int = 0,
    platform_subsidy_minor: int = 0,
    cashback_red_packet_minor: int = 0,
    payment_method: str = "",
    logistics_service: str = "",
    activity_id: int | None = None,
    affiliate_click_id: str = "",
    country: str = "",
) -> Order:
    order = order_build(
        shop=shop,
        buyer=buyer,
        number=number,
        lines=lines,
        placed_at=placed_at,
        shipping_fee_minor=shipping_fee_minor,
        coupon_discount_minor=coupon_discount_minor,
        coin_deduction_coins=coin_deduction_coins,
        coin_deduction_minor=coin_deduction_minor,
        platform_subsidy_minor=platform_subsidy_minor,
        cashback_red_packet_minor=cashback_red_packet_minor,
        payment_method=payment_method,
        logistics_service=logistics_service,
        activity_id=activity_id,
        affiliate_click_id=affiliate_click_id,
        country=country,
    )
    events.order_placing.send(sender=Order, order=order)
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        raise DomainError(f"Order {number} already exists in this shop.", code="duplicate_order") from None
    OrderLine.objects.bulk_create(
        OrderLine(order=order, sku=line.sku, quantity=line.quantity, unit_price_minor=line.unit_price_minor)
        for line in lines
    )
    stats_bump(shop_id=shop.pk, at=placed_at, orders_created=1)
    events.emit(events.order_created, order_id=order.pk)
    return order


# --- payment and fulfilment -----------------------------------------------------------------


def order_pay_check(*, order: Order, amount_minor: int, method: str, paid_at: datetime) -> None:
    """Every guard of ``order_pay``, in its order, on the locked order; no query.

    Shared with the ingestion fast path (``orders.ingest``), which locks its orders in bulk.
    """
    _require(order, [S.PENDING_PAYMENT], "paid")
    _check_amount("payment amount", amount_minor)
    due = order.payable_before_coins.amount - order.coin_deduction_minor
    if amount_minor != due:
        raise DomainError(
            f"Payment of {amount_minor} does not match the {due} due on order {order.number}.",
            code="amount_mismatch",
        )
    if method not in PaymentMethod.values:
        raise DomainError(f"Unknown payment method {method!r}.", code="invalid_payment_method")
    if paid_at < order.placed_at:
        raise DomainError("Payment cannot precede the order.", code="invalid_time")


@transaction.atomic
def order_pay(
    *, order: Order, payment_id: str, amount_minor: int, method: str, paid_at: datetime
) -> Order:
    order = _locked(order)
    order_pay_check(order=order, amount_minor=amount_minor, method=method, paid_at=paid_at)
    try:
        with transaction.atomic():
            Payment.objects.create(
                order=order, external_id=payment_id, amount_minor=amount_minor,
                currency=order.currency, method=method, paid_at=paid_at,
            )
    except IntegrityError:
        raise DomainError(f"Payment {payment_id} is already recorded.", code="duplicate_payment") from None
    order.status = S.PAID
    order.amount_paid_minor = amount_minor
    order.payment_method = method
    order.paid_at = paid_at
    order.save(update_fields=["status", "amount_paid_minor", "payment_method", "paid_at", "updated_at"])
    stats_bump(shop_id=order.shop_id, at=paid_at, orders_paid=1, gmv_minor=amount_minor)
    events.emit(events.order_paid, order_id=order.pk)
    return order


@transaction.atomic
def order_cancel(*, order: Order, cancelled_at: datetime, reason: str = "") -> Order:
    order = _locked(order)
    # SPEC §0: cancelled before shipping only. A paid order cancelled before shipping is
    # refunded by the marketplace through order.refunded; here it simply becomes cancelled.
    _require(order, [S.PENDING_PAYMENT, S.PAID], "cancelled")
    order.status = S.CANCELLED
    order.cancelled_at = cancelled_at
    order.save(update_fields=["status", "cancelled_at", "updated_at"])
    stats_bump(shop_id=order.shop_id, at=order.placed_at, orders_cancelled=1)
    events.emit(events.order_cancelled, order_id=order.pk)
    return order


@transaction.atomic
def order_ship(
    *, order: Order, carrier: str, tracking_number: str, shipped_at: datetime
) -> Order:
    order = _locked(order)
    _require(order, [S.PAID], "shipped")
    if not tracking_number.strip():
        raise DomainError("A shipment needs a tracking number.", code="missing_tracking_number")
    if shipped_at < (order.paid_at or order.placed_at):
        raise DomainError("Shipping cannot precede payment.", code="invalid_time")
    Shipment.objects.create(
        order=order,
        carrier=carrier,
        tracking_number=tracking_number.strip(),
        official=carrier in OFFICIAL_CARRIERS,
        shipped_at=shipped_at,
    )
    order.status = S.SHIPPED
    order.shipped_at = shipped_at
    order.logistics_service = carrier
    order.tracking_number = tracking_number.strip()
    order.save(update_fields=["status", "shipped_at", "logistics_service", "tracking_number", "updated_at"])
    stats_bump(shop_id=order.shop_id, at=order.placed_at, orders_shipped=1)
    events.emit(events.order_shipped, order_id=order.pk)
    return order


@transaction.atomic
def tracking_update(
    *, order: Order, status: str, occurred_at: datetime, location: str = "", description: str = ""
) -> TrackingEvent:
    order = _locked(order)
    if status not in TrackingStatus.values:
        raise DomainError(f"Unknown tracking status {status!r}.", code="invalid_tracking_status")
    try:
        shipment = order.shipment
    except Shipment.DoesNotExist:
        raise InvalidTransition(
            f"Order {order.number} has no shipment to track.", code="not_shipped"
        ) from None
    event = TrackingEvent.objects.create(
        shipment=shipment, status=status, occurred_at=occurred_at, location=location, description=description
    )
    fields = []
    if shipment.last_event_at is None or occurred_at > shipment.last_event_at:
        shipment.last_event_at = occurred_at
        fields.append("last_event_at")
    if status in PROGRESS_STATUSES and (shipment.last_progress_at is None or occurred_at > shipment.last_progress_at):
        shipment.last_progress_at = occurred_at
        fields.append("last_progress_at")
    if fields:
        shipment.save(update_fields=[*fields, "updated_at"])
    events.emit(events.tracking_updated, order_id=order.pk, tracking_event_id=event.pk)
    return event


@transaction.atomic
def order_deliver(*, order: Order, delivered_at: datetime) -> Order:
    order = _locked(order)
    _require(order, [S.SHIPPED], "delivered")
    order.status = S.DELIVERED
    order.delivered_at = delivered_at
    order.save(update_fields=["status", "delivered_at", "updated_at"])
    events.emit(events.order_delivered, order_id=order.pk)
    return order


@transaction.atomic
def order_complete(*, order: Order, completed_at: datetime) -> Order:
    order = _locked(order)
    _require(order, [S.DELIVERED], "completed")
    if order.disputed:
        raise InvalidTransition(f"Order {order.number} has an open dispute.", code="disputed")
    order.status = S.COMPLETED
    order.completed_at = completed_at
    order.save(update_fields=["status", "completed_at", "updated_at"])
    events.emit(events.order_completed, order_id=order.pk)
    return order


# --- refunds and disputes -------------------------------------------------------------------


@transaction.atomic
def order_refund(
    *, order: Order, refund_id: str, amount_minor: int, refunded_at: datetime, reason: str = ""
) -> Refund:
    """Full or partial refund. The order becomes ``refunded`` once everything paid is returned."""
    order = _locked(order)
    _require(order, [*PAID_STATES, S.CANCELLED], "refunded")
    if order.status == S.CANCELLED and order.paid_at is None:
        raise InvalidTransition(f"Order {order.number} was never paid.", code="not_paid")
    _check_amount("refund amount", amount_minor)
    if amount_minor == 0:
        raise DomainError("A refund must be more than zero.", code="invalid_amount")
    remaining = order.amount_paid_minor - order.refunded_minor
    if amount_minor > remaining:
        raise DomainError(
            f"Refund of {amount_minor} exceeds the {remaining} still refundable on order {order.number}.",
            code="refund_exceeds_paid",
        )
    try:
        with transaction.atomic():
            refund = Refund.objects.create(
                order=order,
                external_id=refund_id,
                amount_minor=amount_minor,
                full=amount_minor == remaining,
                reason=reason,
                refunded_at=refunded_at,
            )
    except IntegrityError:
        raise DomainError(f"Refund {refund_id} is already recorded.", code="duplicate_refund") from None
    order.refunded_minor += amount_minor
    fields = ["refunded_minor", "updated_at"]
    if order.refunded_minor == order.amount_paid_minor and order.status != S.CANCELLED:
        order.status = S.REFUNDED
        order.refunded_at = refunded_at
        fields += ["status", "refunded_at"]
    order.save(update_fields=fields)
    stats_bump(shop_id=order.shop_id, at=refunded_at, refunded_minor=amount_minor)
    events.emit(events.order_refunded, order_id=order.pk, refund_id=refund.pk)
    return refund


@transaction.atomic
def dispute_open(*, order: Order, dispute_id: str, opened_at: datetime, reason: str = "") -> Dispute:
    order = _locked(order)
    _require(order, PAID_STATES, "disputed")
    if order.disputed:
        raise InvalidTransition(f"Order {order.number} already has an open dispute.", code="already_disputed")
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(order=order, external_id=dispute_id, opened_at=opened_at, reason=reason)
    except IntegrityError:
        raise DomainError(f"Dispute {dispute_id} is already recorded.", code="duplicate_dispute") from None
    order.disputed = True
    order.save(update_fields=["disputed", "updated_at"])
    events.emit(events.dispute_opened, order_id=order.pk, dispute_id=dispute.pk)
    return dispute


@transaction.atomic
def dispute_close(*, order: Order, dispute_id: str, closed_at: datetime, outcome: str) -> Dispute:
    order = _locked(order)
    dispute = Dispute.objects.filter(order=order, external_id=dispute_id).first()
    if dispute is None:
        raise DomainError(f"No dispute {dispute_id} on order {order.number}.", code="unknown_dispute")
    if dispute.closed_at is not None:
        raise InvalidTransition(f"Dispute {dispute_id} is already closed.", code="dispute_closed")
    from .models import DisputeOutcome

    if outcome not in DisputeOutcome.values:
        raise DomainError(f"Unknown dispute outcome {outcome!r}.", code="invalid_outcome")
    dispute.closed_at = closed_at
    dispute.outcome = outcome
    dispute.save(update_fields=["closed_at", "outcome", "updated_at"])
    order.disputed = False
    order.save(update_fields=["disputed", "updated_at"])
    events.emit(events.dispute_closed, order_id=order.pk, dispute_id=dispute.pk)
    return dispute


# --- reviews, feedback, carts ---------------------------------------------------------------


@transaction.atomic
def review_post(
    *,
    order: Order,
    sku: Sku,
    rating: int,
    dsr_item_as_described: int,
    dsr_communication: int,
    dsr_shipping: int,
    posted_at: datetime,
    text: str = "",
    language: str = "",
) -> Review:
    _require(order, [S.DELIVERED, S.COMPLETED, S.REFUNDED], "reviewed")
    if not order.lines.filter(sku=sku).exists():
        raise DomainError(f"SKU {sku.code} is not on order {order.number}.", code="sku_not_on_order")
    for name, value in (
        ("rating", rating),
        ("item as described", dsr_item_as_described),
        ("communication", dsr_communication),
        ("shipping", dsr_shipping),
    ):
        if not isinstance(value, int) or not 1 <= value <= 5:
            raise DomainError(f"{name} must be a whole number from 1 to 5.", code="invalid_score")
    try:
        with transaction.atomic():
            review = Review.objects.create(
                order=order, shop_id=order.shop_id, sku=sku, buyer_id=order.buyer_id, rating=rating,
                dsr_item_as_described=dsr_item_as_described, dsr_communication=dsr_communication,
                dsr_shipping=dsr_shipping, posted_at=posted_at, text=text, language=language,
            )
    except IntegrityError:
        raise DomainError("This SKU on this order is already reviewed.", code="duplicate_review") from None
    events.emit(events.review_posted, review_id=review.pk)
    return review


@transaction.atomic
def feedback_post(*, order: Order, kind: str, posted_at: datetime) -> Feedback:
    if kind not in FeedbackKind.values:
        raise DomainError(f"Unknown feedback kind {kind!r}.", code="invalid_feedback")
    _require(order, [S.DELIVERED, S.COMPLETED, S.REFUNDED], "given feedback")
    feedback, created = Feedback.objects.get_or_create(
        order=order, defaults={"shop_id": order.shop_id, "kind": kind, "posted_at": posted_at}
    )
    if not created:
        raise DomainError(f"Order {order.number} already has feedback.", code="duplicate_feedback")
    events.emit(events.feedback_posted, feedback_id=feedback.pk)
    return feedback


@transaction.atomic
def cart_update(*, shop: Shop, buyer: Buyer, items: list[tuple[Sku, int]], at: datetime) -> Cart:
    """Replace a buyer's cart in a shop with ``items`` (quantity 0 removes a SKU)."""
    for sku, qty in items:
        if sku.shop_id != shop.pk:
            raise DomainError(f"SKU {sku.code} belongs to another shop.", code="foreign_sku")
        if qty < 0:
            raise DomainError("Quantity cannot be negative.", code="invalid_quantity")
    cart, _ = Cart.objects.select_for_update().get_or_create(
        shop=shop, buyer=buyer, defaults={"last_activity_at": at}
    )
    cart.last_activity_at = max(cart.last_activity_at, at)
    cart.save(update_fields=["last_activity_at", "updated_at"])
    cart.lines.all().delete()
    CartLine.objects.bulk_create(CartLine(cart=cart, sku=sku, quantity=qty) for sku, qty in items if qty > 0)
    events.emit(events.cart_updated, cart_id=cart.pk)
    return cart


# --- reconciliation -------------------------------------------------------------------------


def daily_stats_rebuild(*, shop_ids: Iterable[int] | None = None, since: datetime | None = None) -> int:
    """Recompute ShopDailyStats from orders and refunds (seed bulk path and nightly reconcile)."""
    from .selectors import daily_figures_from_orders

    rows = daily_figures_from_orders(shop_ids=shop_ids, since=since)
    with transaction.atomic():
        qs = ShopDailyStats.objects.all()
        if shop_ids is not None:
            qs = qs.filter(shop_id__in=list(shop_ids))
        if since is not None:
            qs = qs.filter(day__gte=clock.natural_day(since))
        qs.delete()
        ShopDailyStats.objects.bulk_create(
            [ShopDailyStats(shop_id=sid, day=day, **figures) for (sid, day), figures in rows.items()],
            batch_size=2000,
        )
    return len(rows)
