"""Order lifecycle writes (SPEC §0): pending_payment → paid → shipped → delivered → completed,
with cancelled (before shipping), refunded (full or partial) and a disputed flag on paid orders.

Every service checks its guard clauses first (``orders.guards``: pure functions the bulk seed
path and the ingestion fast path call too) and raises ``InvalidTransition`` (or another
``DomainError``) before writing anything; each runs in one transaction and locks the order row.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce

from buyers.models import Buyer
from core import clock
from core.errors import DomainError
from shops.models import OFFICIAL_CARRIERS, Shop, Sku

from . import events, guards, stats
from .inputs import LineInput, OrderInput
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
    ShipVerdict,
    ShopDailyStats,
    TrackingEvent,
)

S = OrderStatus
# Re-exported: orders.ingest.schemas and the tests import them from here.
MAX_ORDER_MINOR = guards.MAX_ORDER_MINOR
__all__ = ["MAX_ORDER_MINOR", "LineInput", "OrderInput"]


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _log(order: Order, type: str, at: datetime, **payload) -> None:
    """The order event of a fact just written to ``order`` (same transaction)."""
    events.record(type, shop_id=order.shop_id, order_id=order.pk, occurred_at=at, **payload)


def _figures() -> stats.Deltas:
    """The daily-figure changes of one fact; ``.apply()`` writes them (same transaction)."""
    return stats.Deltas()


# --- creation -------------------------------------------------------------------------------


def order_build(data: OrderInput) -> Order:
    """Every guard of ``order_create`` (``check_order``), and the unsaved order; no query.

    The ingestion fast path (``orders.ingest``) builds its rows with this too, so both paths
    refuse an order with the same code.
    """
    subtotal = guards.check_order(data)
    return Order(
        shop=data.shop,
        buyer=data.buyer,
        number=data.number,
        currency=data.shop.currency,
        subtotal_minor=subtotal,
        shipping_fee_minor=data.shipping_fee_minor,
        coupon_discount_minor=data.coupon_discount_minor,
        coin_deduction_coins=data.coin_deduction_coins,
        coin_deduction_minor=data.coin_deduction_minor,
        platform_subsidy_minor=data.platform_subsidy_minor,
        cashback_red_packet_minor=data.cashback_red_packet_minor,
        payment_method=data.payment_method,
        logistics_service=data.logistics_service,
        activity_id=data.activity_id,
        affiliate_click_id=data.affiliate_click_id,
        country=data.order_country,
        placed_at=data.placed_at,
    )


@transaction.atomic
def order_create(data: OrderInput) -> Order:
    """The order ``data`` describes, its lines, its daily figures and its ``order.created``
    event, in one transaction; ``order_placing`` receivers may refuse it first."""
    order = order_build(data)
    lines = list(data.lines)
    events.order_placing.send(sender=Order, order=order, lines=lines)
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        raise guards.duplicate_error("order", data.number) from None
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            sku=line.sku,
            quantity=line.quantity,
            unit_price_minor=line.unit_price_minor,
        )
        for line in lines
    )
    d = _figures()
    d.created(shop_id=data.shop.pk, placed_at=data.placed_at)
    d.apply()
    events.record(
        "order.created",
        shop_id=data.shop.pk,
        order_id=order.pk,
        occurred_at=data.placed_at,
        buyer_id=data.buyer.pk,
    )
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
    d = _figures()
    d.paid(
        shop_id=order.shop_id, placed_at=order.placed_at, paid_at=paid_at, amount_minor=amount_minor
    )
    d.apply()
    _log(order, "order.paid", paid_at, amount_minor=amount_minor)
    return order


@transaction.atomic
def order_cancel(*, order: Order, cancelled_at: datetime, reason: str = "") -> Order:
    order = _locked(order)
    guards.check_cancel(number=order.number, status=order.status)
    was = order.status
    order.status = S.CANCELLED
    order.cancelled_at = cancelled_at
    order.save(update_fields=["status", "cancelled_at", "updated_at"])
    d = _figures()
    d.cancelled(shop_id=order.shop_id, placed_at=order.placed_at, was=was)
    d.apply()
    _log(order, "order.cancelled", cancelled_at)
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
    d = _figures()
    d.shipped(shop_id=order.shop_id, placed_at=order.placed_at)
    d.apply()
    _log(order, "order.shipped", shipped_at)
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
    d = _figures()
    # SPEC E-3: a scan that ends a quiet spell marks the parcel (judged before the marks move).
    quiet = shipment.anomaly_at is None and guards.parcel_quiet(
        shipped_at=shipment.shipped_at,
        last_event_at=shipment.last_event_at,
        last_progress_at=shipment.last_progress_at,
        at=occurred_at,
    )
    marks: dict[str, datetime] = guards.shipment_scan_marks(
        status=status,
        occurred_at=occurred_at,
        last_event_at=shipment.last_event_at,
        last_progress_at=shipment.last_progress_at,
    )
    if quiet:
        marks["anomaly_at"] = occurred_at
        d.anomaly(shop_id=order.shop_id, placed_at=order.placed_at, official=shipment.official)
    if marks:
        for name, value in marks.items():
            setattr(shipment, name, value)
        shipment.save(update_fields=[*marks, "updated_at"])
    verdict = guards.scan_verdict(
        placed_at=order.placed_at, scanned_at=occurred_at, verdict=order.ship_verdict
    )
    if verdict is not None:
        d.verdict(
            shop_id=order.shop_id, placed_at=order.placed_at, old=order.ship_verdict, new=verdict
        )
        order.ship_verdict = verdict
        order.save(update_fields=["ship_verdict", "updated_at"])
    d.apply()
    _log(order, "tracking.updated", occurred_at, tracking_event_id=event.pk, status=status)
    return event


@transaction.atomic
def order_deliver(*, order: Order, delivered_at: datetime) -> Order:
    order = _locked(order)
    guards.check_delivery(number=order.number, status=order.status)
    order.status = S.DELIVERED
    order.delivered_at = delivered_at
    order.save(update_fields=["status", "delivered_at", "updated_at"])
    d = _figures()
    d.delivered(shop_id=order.shop_id, placed_at=order.placed_at)
    _delivery_closes_quiet_spell(order, delivered_at, d)
    d.apply()
    _log(order, "order.delivered", delivered_at)
    return order


def _delivery_closes_quiet_spell(order: Order, delivered_at: datetime, d: stats.Deltas) -> None:
    """SPEC E-3: delivery ends the parcel's last quiet spell; one of 72 h is an anomaly even
    when no sweep ran during it."""
    shipment = Shipment.objects.filter(order=order).first()
    if (
        shipment is not None
        and shipment.anomaly_at is None
        and guards.parcel_quiet(
            shipped_at=shipment.shipped_at,
            last_event_at=shipment.last_event_at,
            last_progress_at=shipment.last_progress_at,
            at=delivered_at,
        )
    ):
        shipment.anomaly_at = delivered_at
        shipment.save(update_fields=["anomaly_at", "updated_at"])
        d.anomaly(shop_id=order.shop_id, placed_at=order.placed_at, official=shipment.official)


@transaction.atomic
def order_complete(*, order: Order, completed_at: datetime) -> Order:
    order = _locked(order)
    guards.check_completion(number=order.number, status=order.status, disputed=order.disputed)
    order.status = S.COMPLETED
    order.completed_at = completed_at
    order.save(update_fields=["status", "completed_at", "updated_at"])
    d = _figures()
    d.completed(shop_id=order.shop_id, placed_at=order.placed_at)
    d.apply()
    _log(order, "order.completed", completed_at)
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
    was = None
    if order.refunded_minor == order.amount_paid_minor and order.status != S.CANCELLED:
        was = order.status
        order.status = S.REFUNDED
        order.refunded_at = refunded_at
        fields += ["status", "refunded_at"]
    order.save(update_fields=fields)
    d = _figures()
    d.refunded(
        shop_id=order.shop_id,
        placed_at=order.placed_at,
        refunded_at=refunded_at,
        amount_minor=amount_minor,
        was=was,
    )
    d.apply()  # both day rows in one statement, in (shop, day) order
    _log(
        order,
        "order.refunded",
        refunded_at,
        refund_id=refund.pk,
        amount_minor=amount_minor,
        full=order.refunded_minor == order.amount_paid_minor,
    )
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
    _log(order, "dispute.opened", opened_at, dispute_id=dispute.pk)
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
    _log(order, "dispute.closed", closed_at, dispute_id=dispute.pk, outcome=outcome)
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
    d = _figures()
    d.review(
        shop_id=order.shop_id,
        posted_at=posted_at,
        item=dsr_item_as_described,
        communication=dsr_communication,
        shipping=dsr_shipping,
        rating=rating,
        text=text,
        activity=order.activity_id is not None,
    )
    d.apply()
    _log(order, "review.posted", posted_at, review_id=review.pk, sku_id=sku.pk, rating=rating)
    return review


@transaction.atomic
def feedback_post(*, order: Order, kind: str, posted_at: datetime) -> Feedback:
    guards.check_feedback(number=order.number, status=order.status, kind=kind)
    feedback, created = Feedback.objects.get_or_create(
        order=order, defaults={"shop_id": order.shop_id, "kind": kind, "posted_at": posted_at}
    )
    if not created:
        raise guards.duplicate_error("feedback", order.number)
    d = _figures()
    d.feedback(shop_id=order.shop_id, posted_at=posted_at, positive=kind == FeedbackKind.POSITIVE)
    d.apply()
    _log(order, "feedback.posted", posted_at, feedback_id=feedback.pk, kind=kind)
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
    events.record(
        "cart.updated",
        shop_id=shop.pk,
        order_id=None,
        occurred_at=at,
        cart_id=cart.pk,
        buyer_id=buyer.pk,
    )
    return cart


# --- what time decides (SPEC E-3) -----------------------------------------------------------


_SWEEP_CHUNK = 5000


@dataclass(frozen=True)
class SweepResult:
    late: int  # orders past their shipping deadline without a scan
    void: int  # paid orders cancelled before their deadline, now out of the rate
    anomalies: int  # parcels found quiet


@transaction.atomic
def fulfilment_sweep(*, now: datetime | None = None) -> SweepResult:
    """Record the fulfilment facts that only the passing of time makes true, for every shop in
    set-based statements: paid orders whose 72-hour deadline passed without a carrier scan
    (late, or void when cancelled in time), and parcels in transit quiet for 72 h or stalled
    for 5 days. Their daily figures move in the same transaction. Each read starts from what
    is still open (undecided orders, orders in transit: partial indexes), so an hourly run
    costs what is in flight, not the whole history.

    Rows are locked in primary-key order (the order services lock one order, then the daily
    rows; this takes the orders, then the daily rows in (shop, day) order), and the conditions
    are re-checked under the lock, so two sweeps at once record each fact once.
    """
    now = now or clock.now()
    d = _figures()
    overdue = list(
        Order.objects.select_for_update(of=("self",))
        .filter(
            ship_verdict=ShipVerdict.UNDECIDED,
            paid_at__isnull=False,
            placed_at__lte=now - guards.SHIP_WITHIN,
        )
        .order_by("pk")
        .only("pk", "shop_id", "placed_at", "cancelled_at", "ship_verdict")
    )
    late = void = 0
    by_verdict: dict[str, list[int]] = {ShipVerdict.LATE: [], ShipVerdict.VOID: []}
    for o in overdue:
        verdict = guards.overdue_verdict(placed_at=o.placed_at, cancelled_at=o.cancelled_at)
        by_verdict[verdict].append(o.pk)
        d.verdict(shop_id=o.shop_id, placed_at=o.placed_at, old=o.ship_verdict, new=verdict)
        if verdict == ShipVerdict.LATE:
            late += 1
        else:
            void += 1
    for verdict, ids in by_verdict.items():
        for start in range(0, len(ids), _SWEEP_CHUNK):  # bounded statements on a first run
            Order.objects.filter(pk__in=ids[start : start + _SWEEP_CHUNK]).update(
                ship_verdict=verdict, updated_at=now
            )
    quiet_since = now - guards.QUIET_MAX
    stalled_since = now - guards.STALL_MAX
    candidates = _quiet_parcel_candidates(quiet_since=quiet_since, stalled_since=stalled_since)
    quiet: list[tuple[int, bool, int, datetime]] = []
    for start in range(0, len(candidates), _SWEEP_CHUNK):
        quiet += _quiet_parcels_mark(
            ids=candidates[start : start + _SWEEP_CHUNK],
            now=now,
            quiet_since=quiet_since,
            stalled_since=stalled_since,
        )
    for _pk, official, shop_id, placed_at in quiet:
        d.anomaly(shop_id=shop_id, placed_at=placed_at, official=official)
    d.apply()
    return SweepResult(late=late, void=void, anomalies=len(quiet))


# The parcels in flight (orders still ``shipped``, read from the ``order_in_transit`` partial
# index) and each one's shipment through its unique order key: the read grows with the parcels
# in transit, never with every shipment ever made (``OFFSET 0`` keeps the planner from turning
# this into a scan of the whole shipments table joined by hash).
_QUIET_CANDIDATES_SQL = """
SELECT s.id
FROM orders_order o
CROSS JOIN LATERAL (
    SELECT s.id FROM orders_shipment s
    WHERE s.order_id = o.id AND s.anomaly_at IS NULL
      AND (COALESCE(s.last_event_at, s.shipped_at) <= %(quiet)s
           OR COALESCE(s.last_progress_at, s.shipped_at) <= %(stalled)s)
    OFFSET 0
) s
WHERE o.status = %(shipped)s
ORDER BY s.id
"""


def _quiet_parcels(*, quiet_since: datetime, stalled_since: datetime):
    """SPEC E-3: the shipments of orders in transit, not marked yet, that have gone 72 h without
    an update or 5 days without progress (``guards.parcel_quiet`` at the sweep's time)."""
    return (
        Shipment.objects.filter(order__status=S.SHIPPED, anomaly_at__isnull=True)
        .annotate(
            seen=Coalesce("last_event_at", "shipped_at"),
            moved=Coalesce("last_progress_at", "shipped_at"),
        )
        .filter(Q(seen__lte=quiet_since) | Q(moved__lte=stalled_since))
    )


# Locks the candidates in id order, re-checks every condition under the lock (a scan committed
# since they were read, or another sweep, takes a parcel out), marks the rest: one statement.
# The lock reads the shipments alone (joined to the orders there, the planner would read every
# order in transit for each batch); the order's status is checked by its key in the update.
_QUIET_MARK_SQL = """
WITH locked AS (
    SELECT s.id FROM orders_shipment s
    WHERE s.id = ANY(%(ids)s) AND s.anomaly_at IS NULL
      AND (COALESCE(s.last_event_at, s.shipped_at) <= %(quiet)s
           OR COALESCE(s.last_progress_at, s.shipped_at) <= %(stalled)s)
    ORDER BY s.id
    FOR UPDATE
)
UPDATE orders_shipment s SET anomaly_at = %(now)s, updated_at = %(now)s
FROM locked, orders_order o
WHERE s.id = locked.id AND o.id = s.order_id AND o.status = %(shipped)s
RETURNING s.id, s.official, o.shop_id, o.placed_at
"""


def _quiet_parcels_mark(
    *, ids: list[int], now: datetime, quiet_since: datetime, stalled_since: datetime
) -> list[tuple[int, bool, int, datetime]]:
    """Mark the parcels of ``ids`` still quiet under the lock; (id, official, shop, placed)."""
    if connection.vendor != "postgresql":
        rows = list(
            _quiet_parcels(quiet_since=quiet_since, stalled_since=stalled_since)
            .select_for_update(of=("self",))
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", "official", "order__shop_id", "order__placed_at")
        )
        Shipment.objects.filter(pk__in=[r[0] for r in rows]).update(anomaly_at=now, updated_at=now)
        return rows
    with connection.cursor() as cur:
        cur.execute(
            _QUIET_MARK_SQL,
            {
                "ids": ids,
                "shipped": S.SHIPPED.value,
                "quiet": quiet_since,
                "stalled": stalled_since,
                "now": now,
            },
        )
        return sorted(cur.fetchall())


def _quiet_parcel_candidates(*, quiet_since: datetime, stalled_since: datetime) -> list[int]:
    """The ids of ``_quiet_parcels``, unlocked, in id order (the lock comes after)."""
    if connection.vendor != "postgresql":  # no LATERAL: the same rows, planned as it comes
        return list(
            _quiet_parcels(quiet_since=quiet_since, stalled_since=stalled_since)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    with connection.cursor() as cur:
        cur.execute(
            _QUIET_CANDIDATES_SQL,
            {"quiet": quiet_since, "stalled": stalled_since, "shipped": S.SHIPPED.value},
        )
        return [row[0] for row in cur.fetchall()]


# --- reconciliation -------------------------------------------------------------------------


def daily_stats_rebuild(
    *,
    shop_ids: Iterable[int] | None = None,
    since: datetime | None = None,
    chunk_size: int = 200,
) -> int:
    """Recompute ShopDailyStats from the facts (orders, refunds, reviews, feedback): the nightly
    reconcile, the admin action and the end of a seed. Returns the shop-days written.

    Correct while events keep arriving, shop by shop in chunks, each chunk one transaction:

    1. lock the chunk's existing rows from ``since``'s natural day on, in (shop, day) order — the
       order every writer takes them in (``orders.stats``);
    2. only then read the facts: a writer that bumped one of these rows before us has committed
       (we waited for its lock), so its facts are counted; a writer coming after waits for our
       commit and adds its increment on top of what we wrote, so its facts are not lost;
    3. set locked rows to the recomputed figures (zero when no fact is left); insert rows for
       days that had none with ON CONFLICT DO NOTHING (a writer that created one meanwhile
       wins; the next run settles it). Rows are never deleted, so no increment is.

    A deadlock with a batch that locks rows across several events retries the chunk.
    """
    from .selectors import DAILY_FIGURES, daily_figures_from_orders

    if shop_ids is None:
        ids = list(Shop.objects.order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(set(shop_ids))
    since_day = clock.natural_day(since) if since is not None else None
    written = 0
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        for attempt in range(1, 4):
            try:
                written += _rebuild_chunk(
                    chunk, since, since_day, DAILY_FIGURES, daily_figures_from_orders
                )
                break
            except OperationalError as exc:
                state = getattr(exc.__cause__, "sqlstate", None)
                if state not in ("40P01", "40001") or attempt == 3:
                    raise
    return written


@transaction.atomic
def _rebuild_chunk(chunk, since, since_day, figures, compute) -> int:
    rows = ShopDailyStats.objects.filter(shop_id__in=chunk)
    if since_day is not None:
        rows = rows.filter(day__gte=since_day)
    locked = {(r.shop_id, r.day): r for r in rows.select_for_update().order_by("shop_id", "day")}
    computed = compute(shop_ids=chunk, since=since)
    zero = dict.fromkeys(figures, 0)
    changed = []
    for key, row in locked.items():
        values = computed.get(key, zero)
        if any(getattr(row, name) != values[name] for name in figures):
            for name in figures:
                setattr(row, name, values[name])
            changed.append(row)
    if changed:
        ShopDailyStats.objects.bulk_update(changed, list(figures), batch_size=500)
    fresh = [
        ShopDailyStats(shop_id=sid, day=day, **values)
        for (sid, day), values in sorted(computed.items())
        if (sid, day) not in locked
    ]
    ShopDailyStats.objects.bulk_create(fresh, batch_size=2000, ignore_conflicts=True)
    return len(locked) + len(fresh)
