"""Order lifecycle writes (SPEC §0): pending_payment → paid → shipped → delivered → completed,
with cancelled (before shipping), refunded (full or partial) and a disputed flag on paid orders.

Every service checks its guard clauses first (``orders.guards``: pure functions the bulk seed
path and the ingestion fast path call too) and raises ``InvalidTransition`` (or another
``DomainError``) before writing anything; each runs in one transaction and locks the order row.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from buyers.models import Buyer
from core import clock
from core.errors import DomainError
from shops.models import OFFICIAL_CARRIERS, Shop, Sku

from . import events, guards
from .models import (
    Cart,
    CartLine,
    Dispute,
    Feedback,
    FeedbackKind,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    Refund,
    Review,
    Shipment,
    ShopDailyStats,
    TrackingEvent,
    status_field,
)

S = OrderStatus
# Re-exported: orders.ingest.schemas and the tests import it from here.
MAX_ORDER_MINOR = guards.MAX_ORDER_MINOR


@dataclass(frozen=True)
class LineInput:
    sku: Sku
    quantity: int
    unit_price_minor: int


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _status_move(old: str | None, new: str) -> dict[str, int]:
    """Deltas that move one order from status ``old`` to ``new`` in its placed day's counts."""
    deltas = {status_field(new): 1}
    if old:
        deltas[status_field(old)] = -1
    return deltas


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
    """Every guard of ``order_create`` (``check_order``), and the unsaved order; no query.

    The ingestion fast path (``orders.ingest``) builds its rows with this too, so both paths
    refuse an order with the same code.
    """
    subtotal = guards.check_order(
        shop_id=shop.pk,
        lines=lines,
        shipping_fee_minor=shipping_fee_minor,
        coupon_discount_minor=coupon_discount_minor,
        coin_deduction_coins=coin_deduction_coins,
        coin_deduction_minor=coin_deduction_minor,
        platform_subsidy_minor=platform_subsidy_minor,
        cashback_red_packet_minor=cashback_red_packet_minor,
        payment_method=payment_method,
    )
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
        raise guards.duplicate_error("order", number) from None
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            sku=line.sku,
            quantity=line.quantity,
            unit_price_minor=line.unit_price_minor,
        )
        for line in lines
    )
    stats_bump(
        shop_id=shop.pk, at=placed_at, orders_created=1, **_status_move(None, S.PENDING_PAYMENT)
    )
    events.emit(events.order_created, order_id=order.pk)
    return order


# --- payment and fulfilment -----------------------------------------------------------------


def order_pay_check(*, order: Order, amount_minor: int, method: str, paid_at: datetime) -> None:
    """``check_payment`` on the locked ``order``; no query.

    Shared with the ingestion fast path (``orders.ingest``), which locks its orders in bulk.
    """
    guards.check_payment(
        number=order.number,
        status=order.status,
        placed_at=order.placed_at,
        due_minor=guards.amount_due_minor(
            subtotal_minor=order.subtotal_minor,
            shipping_fee_minor=order.shipping_fee_minor,
            coupon_discount_minor=order.coupon_discount_minor,
            coin_deduction_minor=order.coin_deduction_minor,
        ),
        amount_minor=amount_minor,
        method=method,
        paid_at=paid_at,
    )


@transaction.atomic
def order_pay(
    *, order: Order, payment_id: str, amount_minor: int, method: str, paid_at: datetime
) -> Order:
    order = _locked(order)
    order_pay_check(order=order, amount_minor=amount_minor, method=method, paid_at=paid_at)
    try:
        with transaction.atomic():
            Payment.objects.create(
                order=order,
                external_id=payment_id,
                amount_minor=amount_minor,
                currency=order.currency,
                method=method,
                paid_at=paid_at,
            )
    except IntegrityError:
        raise guards.duplicate_error("payment", payment_id) from None
    order.status = S.PAID
    order.amount_paid_minor = amount_minor
    order.payment_method = method
    order.paid_at = paid_at
    order.save(
        update_fields=["status", "amount_paid_minor", "payment_method", "paid_at", "updated_at"]
    )
    stats_bump(shop_id=order.shop_id, at=paid_at, orders_paid=1, gmv_minor=amount_minor)
    stats_bump(shop_id=order.shop_id, at=order.placed_at, **_status_move(S.PENDING_PAYMENT, S.PAID))
    events.emit(events.order_paid, order_id=order.pk)
    return order


@transaction.atomic
def order_cancel(*, order: Order, cancelled_at: datetime, reason: str = "") -> Order:
    order = _locked(order)
    guards.check_cancel(number=order.number, status=order.status)
    was = order.status
    order.status = S.CANCELLED
    order.cancelled_at = cancelled_at
    order.save(update_fields=["status", "cancelled_at", "updated_at"])
    stats_bump(
        shop_id=order.shop_id,
        at=order.placed_at,
        orders_cancelled=1,
        **_status_move(was, S.CANCELLED),
    )
    events.emit(events.order_cancelled, order_id=order.pk)
    return order


@transaction.atomic
def order_ship(*, order: Order, carrier: str, tracking_number: str, shipped_at: datetime) -> Order:
    order = _locked(order)
    tracking_number = guards.check_shipment(
        number=order.number,
        status=order.status,
        placed_at=order.placed_at,
        paid_at=order.paid_at,
        tracking_number=tracking_number,
        shipped_at=shipped_at,
    )
    Shipment.objects.create(
        order=order,
        carrier=carrier,
        tracking_number=tracking_number,
        official=carrier in OFFICIAL_CARRIERS,
        shipped_at=shipped_at,
    )
    order.status = S.SHIPPED
    order.shipped_at = shipped_at
    order.logistics_service = carrier
    order.tracking_number = tracking_number
    order.save(
        update_fields=["status", "shipped_at", "logistics_service", "tracking_number", "updated_at"]
    )
    stats_bump(
        shop_id=order.shop_id,
        at=order.placed_at,
        orders_shipped=1,
        **_status_move(S.PAID, S.SHIPPED),
    )
    events.emit(events.order_shipped, order_id=order.pk)
    return order


@transaction.atomic
def tracking_update(
    *, order: Order, status: str, occurred_at: datetime, location: str = "", description: str = ""
) -> TrackingEvent:
    order = _locked(order)
    try:
        shipment = order.shipment
    except Shipment.DoesNotExist:
        shipment = None
    guards.check_tracking(number=order.number, status=status, shipped=shipment is not None)
    assert shipment is not None  # for the type checker: check_tracking refused otherwise
    event = TrackingEvent.objects.create(
        shipment=shipment,
        status=status,
        occurred_at=occurred_at,
        location=location,
        description=description,
    )
    marks = guards.shipment_scan_marks(
        status=status,
        occurred_at=occurred_at,
        last_event_at=shipment.last_event_at,
        last_progress_at=shipment.last_progress_at,
    )
    if marks:
        for name, value in marks.items():
            setattr(shipment, name, value)
        shipment.save(update_fields=[*marks, "updated_at"])
    events.emit(events.tracking_updated, order_id=order.pk, tracking_event_id=event.pk)
    return event


@transaction.atomic
def order_deliver(*, order: Order, delivered_at: datetime) -> Order:
    order = _locked(order)
    guards.check_delivery(number=order.number, status=order.status)
    order.status = S.DELIVERED
    order.delivered_at = delivered_at
    order.save(update_fields=["status", "delivered_at", "updated_at"])
    stats_bump(shop_id=order.shop_id, at=order.placed_at, **_status_move(S.SHIPPED, S.DELIVERED))
    events.emit(events.order_delivered, order_id=order.pk)
    return order


@transaction.atomic
def order_complete(*, order: Order, completed_at: datetime) -> Order:
    order = _locked(order)
    guards.check_completion(number=order.number, status=order.status, disputed=order.disputed)
    order.status = S.COMPLETED
    order.completed_at = completed_at
    order.save(update_fields=["status", "completed_at", "updated_at"])
    stats_bump(shop_id=order.shop_id, at=order.placed_at, **_status_move(S.DELIVERED, S.COMPLETED))
    events.emit(events.order_completed, order_id=order.pk)
    return order


# --- refunds and disputes -------------------------------------------------------------------


@transaction.atomic
def order_refund(
    *, order: Order, refund_id: str, amount_minor: int, refunded_at: datetime, reason: str = ""
) -> Refund:
    """Full or partial refund. The order becomes ``refunded`` once everything paid is returned."""
    order = _locked(order)
    remaining = guards.check_refund(
        number=order.number,
        status=order.status,
        paid_at=order.paid_at,
        amount_paid_minor=order.amount_paid_minor,
        refunded_minor=order.refunded_minor,
        amount_minor=amount_minor,
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
        raise guards.duplicate_error("refund", refund_id) from None
    order.refunded_minor += amount_minor
    fields = ["refunded_minor", "updated_at"]
    if order.refunded_minor == order.amount_paid_minor and order.status != S.CANCELLED:
        stats_bump(
            shop_id=order.shop_id, at=order.placed_at, **_status_move(order.status, S.REFUNDED)
        )
        order.status = S.REFUNDED
        order.refunded_at = refunded_at
        fields += ["status", "refunded_at"]
    order.save(update_fields=fields)
    stats_bump(shop_id=order.shop_id, at=refunded_at, refunded_minor=amount_minor)
    events.emit(events.order_refunded, order_id=order.pk, refund_id=refund.pk)
    return refund


@transaction.atomic
def dispute_open(
    *, order: Order, dispute_id: str, opened_at: datetime, reason: str = ""
) -> Dispute:
    order = _locked(order)
    guards.check_dispute_open(number=order.number, status=order.status, disputed=order.disputed)
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                order=order, external_id=dispute_id, opened_at=opened_at, reason=reason
            )
    except IntegrityError:
        raise guards.duplicate_error("dispute", dispute_id) from None
    order.disputed = True
    order.save(update_fields=["disputed", "updated_at"])
    events.emit(events.dispute_opened, order_id=order.pk, dispute_id=dispute.pk)
    return dispute


@transaction.atomic
def dispute_close(*, order: Order, dispute_id: str, closed_at: datetime, outcome: str) -> Dispute:
    order = _locked(order)
    dispute = Dispute.objects.filter(order=order, external_id=dispute_id).first()
    guards.check_dispute_close(
        number=order.number,
        dispute_id=dispute_id,
        exists=dispute is not None,
        closed=dispute is not None and dispute.closed_at is not None,
        outcome=outcome,
    )
    assert dispute is not None  # for the type checker: check_dispute_close refused otherwise
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
    guards.check_review(
        number=order.number,
        status=order.status,
        sku=sku.code,
        on_order=order.lines.filter(sku=sku).exists(),
        rating=rating,
        dsr_item_as_described=dsr_item_as_described,
        dsr_communication=dsr_communication,
        dsr_shipping=dsr_shipping,
    )
    try:
        with transaction.atomic():
            review = Review.objects.create(
                order=order,
                shop_id=order.shop_id,
                sku=sku,
                buyer_id=order.buyer_id,
                rating=rating,
                dsr_item_as_described=dsr_item_as_described,
                dsr_communication=dsr_communication,
                dsr_shipping=dsr_shipping,
                posted_at=posted_at,
                text=text,
                language=language,
            )
    except IntegrityError:
        raise guards.duplicate_error("review") from None
    stats_bump(
        shop_id=order.shop_id,
        at=posted_at,
        reviews=1,
        dsr_item_as_described_sum=dsr_item_as_described,
        dsr_communication_sum=dsr_communication,
        dsr_shipping_sum=dsr_shipping,
    )
    events.emit(events.review_posted, review_id=review.pk)
    return review


@transaction.atomic
def feedback_post(*, order: Order, kind: str, posted_at: datetime) -> Feedback:
    guards.check_feedback(number=order.number, status=order.status, kind=kind)
    feedback, created = Feedback.objects.get_or_create(
        order=order, defaults={"shop_id": order.shop_id, "kind": kind, "posted_at": posted_at}
    )
    if not created:
        raise guards.duplicate_error("feedback", order.number)
    stats_bump(
        shop_id=order.shop_id,
        at=posted_at,
        feedback_total=1,
        feedback_positive=int(kind == FeedbackKind.POSITIVE),
    )
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
    CartLine.objects.bulk_create(
        CartLine(cart=cart, sku=sku, quantity=qty) for sku, qty in items if qty > 0
    )
    events.emit(events.cart_updated, cart_id=cart.pk)
    return cart


# --- reconciliation -------------------------------------------------------------------------


def daily_stats_rebuild(
    *, shop_ids: Iterable[int] | None = None, since: datetime | None = None
) -> int:
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
            [
                ShopDailyStats(shop_id=sid, day=day, **figures)
                for (sid, day), figures in rows.items()
            ],
            batch_size=2000,
        )
    return len(rows)
