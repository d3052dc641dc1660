"""Order plans, built row by row in memory and written in bulk (the seed and benchmark path).

An ``OrderPlan`` is one order's whole life as the marketplace would report it: the
``order_create`` inputs, then the steps that follow (pay, ship, tracking, deliver, refund,
dispute, review, feedback…), in the order they happen. A plan can be applied two ways:

* ``apply_with_services`` calls the real per-order services of ``orders/services.py`` one step
  at a time: one transaction per step, ``ShopDailyStats`` bumped, domain events emitted.
* ``build_order_rows`` computes, in memory and with no query, the very rows those services would
  leave behind (same amounts, statuses, timestamps, ``Shipment.last_event_at`` /
  ``last_progress_at``), refusing an invalid plan with the same ``DomainError`` code; a
  ``BulkWriter`` then inserts thousands of them at a time (``bulk_create``, or COPY on
  PostgreSQL).

The bulk path deliberately skips three things the services do per order, and the caller owns
them: it emits **no domain events** (no ``order_placing`` guard, no ``order_created`` …), it does
not bump ``ShopDailyStats`` (call ``services.daily_stats_rebuild()`` after writing), and it takes
no row locks (the rows are new). Use it only for data nobody else is writing: seeds and benches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from django.db import connections, transaction
from django.db.models import Model
from django.utils import timezone

from buyers.models import Buyer
from core.errors import DomainError, InvalidTransition
from shops.models import OFFICIAL_CARRIERS, Shop

from . import services
from .models import (
    PROGRESS_STATUSES,
    Dispute,
    DisputeOutcome,
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
    TrackingEvent,
    TrackingStatus,
)
from .services import PAID_STATES, LineInput

S = OrderStatus
# Django's ``Choices.values`` builds a list on every access: look them up once.
_PAYMENT_METHODS = frozenset(PaymentMethod.values)
_TRACKING_STATUSES = frozenset(TrackingStatus.values)
_DISPUTE_OUTCOMES = frozenset(DisputeOutcome.values)
_FEEDBACK_KINDS = frozenset(FeedbackKind.values)
# The services' own amount guard, reused so both paths refuse a plan with the same message.
_check_amount = services._check_amount

# --- plan -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pay:
    payment_id: str
    amount_minor: int
    method: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Cancel:
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Ship:
    carrier: str
    tracking_number: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Track:
    status: str
    at: datetime
    location: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class Deliver:
    at: datetime


@dataclass(frozen=True, slots=True)
class Complete:
    at: datetime


@dataclass(frozen=True, slots=True)
class RefundStep:
    refund_id: str
    amount_minor: int
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DisputeOpen:
    dispute_id: str
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DisputeClose:
    dispute_id: str
    at: datetime
    outcome: str


@dataclass(frozen=True, slots=True)
class ReviewStep:
    sku_id: int
    rating: int
    dsr_item_as_described: int
    dsr_communication: int
    dsr_shipping: int
    at: datetime
    text: str = ""
    language: str = ""


@dataclass(frozen=True, slots=True)
class FeedbackStep:
    kind: str
    at: datetime


Step = (
    Pay
    | Cancel
    | Ship
    | Track
    | Deliver
    | Complete
    | RefundStep
    | DisputeOpen
    | DisputeClose
    | ReviewStep
    | FeedbackStep
)


@dataclass(slots=True)
class OrderPlan:
    """The ``order_create`` arguments plus the steps that follow, in the order they happen.

    The buyer is given by id and country (all the order row needs), so a generator of a
    million plans holds no ``Buyer`` instances; ``apply_with_services`` loads the buyer.
    """

    shop: Shop
    buyer_id: int
    buyer_country: str
    number: str
    lines: list[LineInput]
    placed_at: datetime
    shipping_fee_minor: int = 0
    coupon_discount_minor: int = 0
    coin_deduction_coins: int = 0
    coin_deduction_minor: int = 0
    platform_subsidy_minor: int = 0
    cashback_red_packet_minor: int = 0
    payment_method: str = ""
    logistics_service: str = ""
    activity_id: int | None = None
    affiliate_click_id: str = ""
    country: str = ""
    steps: list[Step] = field(default_factory=list)

    @property
    def subtotal_minor(self) -> int:
        return sum(line.quantity * line.unit_price_minor for line in self.lines)

    @property
    def due_minor(self) -> int:
        """What ``order_pay`` expects: payable before coins less the coin deduction (SPEC C-3)."""
        return (
            self.subtotal_minor
            + self.shipping_fee_minor
            - self.coupon_discount_minor
            - self.coin_deduction_minor
        )


# --- the services path ----------------------------------------------------------------------


def apply_with_services(plan: OrderPlan) -> Order:
    """Apply ``plan`` through the real services, step by step (events, stats, locks)."""
    buyer = Buyer.objects.get(pk=plan.buyer_id)
    order = services.order_create(
        shop=plan.shop,
        buyer=buyer,
        number=plan.number,
        lines=plan.lines,
        placed_at=plan.placed_at,
        shipping_fee_minor=plan.shipping_fee_minor,
        coupon_discount_minor=plan.coupon_discount_minor,
        coin_deduction_coins=plan.coin_deduction_coins,
        coin_deduction_minor=plan.coin_deduction_minor,
        platform_subsidy_minor=plan.platform_subsidy_minor,
        cashback_red_packet_minor=plan.cashback_red_packet_minor,
        payment_method=plan.payment_method,
        logistics_service=plan.logistics_service,
        activity_id=plan.activity_id,
        affiliate_click_id=plan.affiliate_click_id,
        country=plan.country,
    )
    skus = {line.sku.pk: line.sku for line in plan.lines}
    for step in plan.steps:
        match step:
            case Pay():
                order = services.order_pay(
                    order=order,
                    payment_id=step.payment_id,
                    amount_minor=step.amount_minor,
                    method=step.method,
                    paid_at=step.at,
                )
            case Cancel():
                order = services.order_cancel(order=order, cancelled_at=step.at, reason=step.reason)
            case Ship():
                order = services.order_ship(
                    order=order,
                    carrier=step.carrier,
                    tracking_number=step.tracking_number,
                    shipped_at=step.at,
                )
            case Track():
                services.tracking_update(
                    order=order,
                    status=step.status,
                    occurred_at=step.at,
                    location=step.location,
                    description=step.description,
                )
            case Deliver():
                order = services.order_deliver(order=order, delivered_at=step.at)
            case Complete():
                order = services.order_complete(order=order, completed_at=step.at)
            case RefundStep():
                services.order_refund(
                    order=order,
                    refund_id=step.refund_id,
                    amount_minor=step.amount_minor,
                    refunded_at=step.at,
                    reason=step.reason,
                )
                order.refresh_from_db()
            case DisputeOpen():
                services.dispute_open(
                    order=order, dispute_id=step.dispute_id, opened_at=step.at, reason=step.reason
                )
                order.refresh_from_db()
            case DisputeClose():
                services.dispute_close(
                    order=order, dispute_id=step.dispute_id, closed_at=step.at, outcome=step.outcome
                )
                order.refresh_from_db()
            case ReviewStep():
                sku = skus.get(step.sku_id)
                if sku is None:
                    raise DomainError(
                        f"SKU {step.sku_id} is not on order {order.number}.",
                        code="sku_not_on_order",
                    )
                services.review_post(
                    order=order,
                    sku=sku,
                    rating=step.rating,
                    dsr_item_as_described=step.dsr_item_as_described,
                    dsr_communication=step.dsr_communication,
                    dsr_shipping=step.dsr_shipping,
                    posted_at=step.at,
                    text=step.text,
                    language=step.language,
                )
            case FeedbackStep():
                services.feedback_post(order=order, kind=step.kind, posted_at=step.at)
            case _:  # pragma: no cover - the Step union is closed
                raise TypeError(f"unknown step {step!r}")
    return order


# --- the bulk path: the same rows, built in memory ------------------------------------------


Row = dict[str, Any]


def _template(model: type[Model]) -> Row:
    """A row of ``model`` with every column at its default (what ``Model()`` would hold)."""
    return {f.attname: f.get_default() for f in model._meta.concrete_fields}


_ORDER = _template(Order)
_LINE = _template(OrderLine)
_PAYMENT = _template(Payment)
_SHIPMENT = _template(Shipment)
_EVENT = _template(TrackingEvent)
_REFUND = _template(Refund)
_DISPUTE = _template(Dispute)
_REVIEW = _template(Review)
_FEEDBACK = _template(Feedback)


@dataclass(slots=True)
class OrderRows:
    """Every row one plan leaves behind, as ``{attname: value}`` dicts (``Model.objects.values()``
    shape). Ids are left to the writer: it numbers the order and shipment and links the children.
    """

    order: Row
    lines: list[Row]
    payments: list[Row] = field(default_factory=list)
    shipment: Row | None = None
    tracking: list[Row] = field(default_factory=list)
    refunds: list[Row] = field(default_factory=list)
    disputes: list[Row] = field(default_factory=list)
    reviews: list[Row] = field(default_factory=list)
    feedback: Row | None = None


def _require(order: Row, allowed: Iterable[str], action: str) -> None:
    """``services._require`` on a row: the same message and code."""
    allowed = tuple(allowed)
    if order["status"] not in allowed:
        raise InvalidTransition(
            f"Order {order['number']} is {OrderStatus(order['status']).label.lower()}; "
            f"it cannot be {action} (allowed from: {', '.join(allowed)}).",
            code="invalid_transition",
        )


def _due(order: Row) -> int:
    """``Order.payable_before_coins`` less the coin deduction (SPEC C-3 Decision)."""
    return (
        order["subtotal_minor"]
        + order["shipping_fee_minor"]
        - order["coupon_discount_minor"]
        - order["coin_deduction_minor"]
    )


def _build_order(plan: OrderPlan) -> tuple[Row, list[Row]]:
    """``order_create``'s guards and rows, without the query (same checks, same order)."""
    shop = plan.shop
    if not plan.lines:
        raise DomainError("An order needs at least one line.", code="empty_order")
    subtotal = 0
    for line in plan.lines:
        if line.sku.shop_id != shop.pk:
            raise DomainError(f"SKU {line.sku.code} belongs to another shop.", code="foreign_sku")
        if line.quantity < 1:
            raise DomainError("Line quantity must be at least 1.", code="invalid_quantity")
        _check_amount("unit price", line.unit_price_minor)
        subtotal += line.quantity * line.unit_price_minor
    for name, value in (
        ("subtotal", subtotal),
        ("shipping fee", plan.shipping_fee_minor),
        ("coupon discount", plan.coupon_discount_minor),
        ("coin deduction", plan.coin_deduction_minor),
        ("platform subsidy", plan.platform_subsidy_minor),
        ("cashback red packet", plan.cashback_red_packet_minor),
    ):
        _check_amount(name, value)
    if plan.coin_deduction_coins < 0:
        raise DomainError("Coin deduction cannot be negative.", code="invalid_amount")
    if plan.coupon_discount_minor > subtotal + plan.shipping_fee_minor:
        raise DomainError("Coupon discount exceeds the order amount.", code="invalid_amount")
    if plan.payment_method and plan.payment_method not in _PAYMENT_METHODS:
        raise DomainError(
            f"Unknown payment method {plan.payment_method!r}.", code="invalid_payment_method"
        )
    order = {
        **_ORDER,
        "shop_id": shop.pk,
        "buyer_id": plan.buyer_id,
        "number": plan.number,
        "currency": shop.currency,
        "subtotal_minor": subtotal,
        "shipping_fee_minor": plan.shipping_fee_minor,
        "coupon_discount_minor": plan.coupon_discount_minor,
        "coin_deduction_coins": plan.coin_deduction_coins,
        "coin_deduction_minor": plan.coin_deduction_minor,
        "platform_subsidy_minor": plan.platform_subsidy_minor,
        "cashback_red_packet_minor": plan.cashback_red_packet_minor,
        "payment_method": plan.payment_method,
        "logistics_service": plan.logistics_service,
        "activity_id": plan.activity_id,
        "affiliate_click_id": plan.affiliate_click_id,
        "country": plan.country or plan.buyer_country,
        "placed_at": plan.placed_at,
    }
    if _due(order) < 0:
        raise DomainError("Coin deduction exceeds the payable amount.", code="invalid_amount")
    lines = [
        {
            **_LINE,
            "sku_id": line.sku.pk,
            "quantity": line.quantity,
            "unit_price_minor": line.unit_price_minor,
        }
        for line in plan.lines
    ]
    return order, lines


def build_order_rows(plan: OrderPlan) -> OrderRows:
    """The rows the services would write for ``plan``; raises what they would raise.

    Pure: no query, no lock, no event, no ``ShopDailyStats`` bump (see the module docstring).
    """
    order, lines = _build_order(plan)
    rows = OrderRows(order=order, lines=lines)
    number = order["number"]
    sku_ids = {line.sku.pk for line in plan.lines}
    disputes: dict[str, Row] = {}
    reviewed: set[int] = set()
    seen: set[tuple[str, str]] = set()

    def once(kind: str, external_id: str) -> None:
        # The services' UNIQUE external ids, within the plan (the database checks across plans).
        if (kind, external_id) in seen:
            label = kind.capitalize()
            raise DomainError(
                f"{label} {external_id} is already recorded.", code=f"duplicate_{kind}"
            )
        seen.add((kind, external_id))

    for step in plan.steps:
        match step:
            case Pay():  # order_pay
                _require(order, [S.PENDING_PAYMENT], "paid")
                _check_amount("payment amount", step.amount_minor)
                due = _due(order)
                if step.amount_minor != due:
                    raise DomainError(
                        f"Payment of {step.amount_minor} does not match the {due} due on order "
                        f"{number}.",
                        code="amount_mismatch",
                    )
                if step.method not in _PAYMENT_METHODS:
                    raise DomainError(
                        f"Unknown payment method {step.method!r}.", code="invalid_payment_method"
                    )
                if step.at < order["placed_at"]:
                    raise DomainError("Payment cannot precede the order.", code="invalid_time")
                once("payment", step.payment_id)
                rows.payments.append(
                    {
                        **_PAYMENT,
                        "external_id": step.payment_id,
                        "amount_minor": step.amount_minor,
                        "currency": order["currency"],
                        "method": step.method,
                        "paid_at": step.at,
                    }
                )
                order["status"] = S.PAID
                order["amount_paid_minor"] = step.amount_minor
                order["payment_method"] = step.method
                order["paid_at"] = step.at
            case Cancel():  # order_cancel
                _require(order, [S.PENDING_PAYMENT, S.PAID], "cancelled")
                order["status"] = S.CANCELLED
                order["cancelled_at"] = step.at
            case Ship():  # order_ship
                _require(order, [S.PAID], "shipped")
                tracking_number = step.tracking_number.strip()
                if not tracking_number:
                    raise DomainError(
                        "A shipment needs a tracking number.", code="missing_tracking_number"
                    )
                if step.at < (order["paid_at"] or order["placed_at"]):
                    raise DomainError("Shipping cannot precede payment.", code="invalid_time")
                rows.shipment = {
                    **_SHIPMENT,
                    "carrier": step.carrier,
                    "tracking_number": tracking_number,
                    "official": step.carrier in OFFICIAL_CARRIERS,
                    "shipped_at": step.at,
                }
                order["status"] = S.SHIPPED
                order["shipped_at"] = step.at
                order["logistics_service"] = step.carrier
                order["tracking_number"] = tracking_number
            case Track():  # tracking_update
                if step.status not in _TRACKING_STATUSES:
                    raise DomainError(
                        f"Unknown tracking status {step.status!r}.", code="invalid_tracking_status"
                    )
                shipment = rows.shipment
                if shipment is None:
                    raise InvalidTransition(
                        f"Order {number} has no shipment to track.", code="not_shipped"
                    )
                rows.tracking.append(
                    {
                        **_EVENT,
                        "status": step.status,
                        "occurred_at": step.at,
                        "location": step.location,
                        "description": step.description,
                    }
                )
                # SPEC E-3: the latest scan, and the latest scan that moved the parcel forward.
                if shipment["last_event_at"] is None or step.at > shipment["last_event_at"]:
                    shipment["last_event_at"] = step.at
                if step.status in PROGRESS_STATUSES and (
                    shipment["last_progress_at"] is None or step.at > shipment["last_progress_at"]
                ):
                    shipment["last_progress_at"] = step.at
            case Deliver():  # order_deliver
                _require(order, [S.SHIPPED], "delivered")
                order["status"] = S.DELIVERED
                order["delivered_at"] = step.at
            case Complete():  # order_complete
                _require(order, [S.DELIVERED], "completed")
                if order["disputed"]:
                    raise InvalidTransition(f"Order {number} has an open dispute.", code="disputed")
                order["status"] = S.COMPLETED
                order["completed_at"] = step.at
            case RefundStep():  # order_refund
                _require(order, [*PAID_STATES, S.CANCELLED], "refunded")
                if order["status"] == S.CANCELLED and order["paid_at"] is None:
                    raise InvalidTransition(f"Order {number} was never paid.", code="not_paid")
                _check_amount("refund amount", step.amount_minor)
                if step.amount_minor == 0:
                    raise DomainError("A refund must be more than zero.", code="invalid_amount")
                remaining = order["amount_paid_minor"] - order["refunded_minor"]
                if step.amount_minor > remaining:
                    raise DomainError(
                        f"Refund of {step.amount_minor} exceeds the {remaining} still refundable "
                        f"on order {number}.",
                        code="refund_exceeds_paid",
                    )
                once("refund", step.refund_id)
                rows.refunds.append(
                    {
                        **_REFUND,
                        "external_id": step.refund_id,
                        "amount_minor": step.amount_minor,
                        "full": step.amount_minor == remaining,
                        "reason": step.reason,
                        "refunded_at": step.at,
                    }
                )
                order["refunded_minor"] += step.amount_minor
                if (
                    order["refunded_minor"] == order["amount_paid_minor"]
                    and order["status"] != S.CANCELLED
                ):
                    order["status"] = S.REFUNDED
                    order["refunded_at"] = step.at
            case DisputeOpen():  # dispute_open
                _require(order, PAID_STATES, "disputed")
                if order["disputed"]:
                    raise InvalidTransition(
                        f"Order {number} already has an open dispute.", code="already_disputed"
                    )
                once("dispute", step.dispute_id)
                dispute = {
                    **_DISPUTE,
                    "external_id": step.dispute_id,
                    "reason": step.reason,
                    "opened_at": step.at,
                }
                rows.disputes.append(dispute)
                disputes[step.dispute_id] = dispute
                order["disputed"] = True
            case DisputeClose():  # dispute_close
                dispute = disputes.get(step.dispute_id)
                if dispute is None:
                    raise DomainError(
                        f"No dispute {step.dispute_id} on order {number}.", code="unknown_dispute"
                    )
                if dispute["closed_at"] is not None:
                    raise InvalidTransition(
                        f"Dispute {step.dispute_id} is already closed.", code="dispute_closed"
                    )
                if step.outcome not in _DISPUTE_OUTCOMES:
                    raise DomainError(
                        f"Unknown dispute outcome {step.outcome!r}.", code="invalid_outcome"
                    )
                dispute["closed_at"] = step.at
                dispute["outcome"] = step.outcome
                order["disputed"] = False
            case ReviewStep():  # review_post
                _require(order, [S.DELIVERED, S.COMPLETED, S.REFUNDED], "reviewed")
                if step.sku_id not in sku_ids:
                    raise DomainError(
                        f"SKU {step.sku_id} is not on order {number}.", code="sku_not_on_order"
                    )
                for name, value in (
                    ("rating", step.rating),
                    ("item as described", step.dsr_item_as_described),
                    ("communication", step.dsr_communication),
                    ("shipping", step.dsr_shipping),
                ):
                    if not isinstance(value, int) or not 1 <= value <= 5:
                        raise DomainError(
                            f"{name} must be a whole number from 1 to 5.", code="invalid_score"
                        )
                if step.sku_id in reviewed:
                    raise DomainError(
                        "This SKU on this order is already reviewed.", code="duplicate_review"
                    )
                reviewed.add(step.sku_id)
                rows.reviews.append(
                    {
                        **_REVIEW,
                        "shop_id": order["shop_id"],
                        "sku_id": step.sku_id,
                        "buyer_id": order["buyer_id"],
                        "rating": step.rating,
                        "text": step.text,
                        "language": step.language,
                        "dsr_item_as_described": step.dsr_item_as_described,
                        "dsr_communication": step.dsr_communication,
                        "dsr_shipping": step.dsr_shipping,
                        "posted_at": step.at,
                    }
                )
            case FeedbackStep():  # feedback_post
                if step.kind not in _FEEDBACK_KINDS:
                    raise DomainError(
                        f"Unknown feedback kind {step.kind!r}.", code="invalid_feedback"
                    )
                _require(order, [S.DELIVERED, S.COMPLETED, S.REFUNDED], "given feedback")
                if rows.feedback is not None:
                    raise DomainError(
                        f"Order {number} already has feedback.", code="duplicate_feedback"
                    )
                rows.feedback = {
                    **_FEEDBACK,
                    "shop_id": order["shop_id"],
                    "kind": step.kind,
                    "posted_at": step.at,
                }
            case _:  # pragma: no cover - the Step union is closed
                raise TypeError(f"unknown step {step!r}")
    return rows


# --- writing --------------------------------------------------------------------------------


@dataclass
class WriteCounts:
    orders: int = 0
    lines: int = 0
    payments: int = 0
    shipments: int = 0
    tracking_events: int = 0
    refunds: int = 0
    disputes: int = 0
    reviews: int = 0
    feedback: int = 0

    def add(self, other: WriteCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class BulkWriter:
    """Insert ``OrderRows`` in bulk, one transaction per ``write``.

    ``method``: ``"copy"`` (PostgreSQL, psycopg 3 ``COPY … FROM STDIN``), ``"executemany"``
    (SQLite: one prepared INSERT run over all rows) or ``"orm"`` (``bulk_create`` in batches,
    any backend). The default is the fastest the connection supports. With COPY and
    executemany the order and shipment ids are drawn beforehand (from the PostgreSQL sequence,
    or past SQLite's ``MAX(id)`` inside the write transaction, which holds SQLite's single
    writer lock), so the children can be linked without reading ids back.
    """

    METHODS = ("copy", "executemany", "orm")

    def __init__(
        self, *, using: str = "default", method: str | None = None, batch_size: int = 2000
    ) -> None:
        self.using = using
        self.batch_size = batch_size
        vendor = connections[using].vendor
        default = {"postgresql": "copy", "sqlite": "executemany"}.get(vendor, "orm")
        self.method = method or default
        if self.method not in self.METHODS:
            raise ValueError(f"unknown method {self.method!r}")
        if self.method == "copy" and vendor != "postgresql":
            raise ValueError("COPY needs PostgreSQL")
        if self.method == "executemany" and vendor != "sqlite":
            raise ValueError("executemany with pre-drawn ids is written for SQLite")

    def write(self, chunk: Sequence[OrderRows]) -> WriteCounts:
        orders = [r.order for r in chunk]
        shipments = [r.shipment for r in chunk if r.shipment is not None]
        with transaction.atomic(using=self.using):
            # Parents first; their ids then go to the children.
            self._insert(Order, orders, parents=True)
            self._insert(Shipment, _linked(chunk, "shipment", "order_id", "order"), parents=True)
            counts = WriteCounts(orders=len(orders), shipments=len(shipments))
            for model, attr, count in (
                (OrderLine, "lines", "lines"),
                (Payment, "payments", "payments"),
                (Refund, "refunds", "refunds"),
                (Dispute, "disputes", "disputes"),
                (Review, "reviews", "reviews"),
                (Feedback, "feedback", "feedback"),
            ):
                rows = _linked(chunk, attr, "order_id", "order")
                self._insert(model, rows)
                setattr(counts, count, len(rows))
            events = _linked(chunk, "tracking", "shipment_id", "shipment")
            self._insert(TrackingEvent, events)
            counts.tracking_events = len(events)
        return counts

    # -- internals --

    def _insert(self, model: type[Model], rows: list[Row], *, parents: bool = False) -> None:
        if not rows:
            return
        now = timezone.now()
        for row in rows:
            if "created_at" in row:
                row["created_at"] = row["updated_at"] = now
        if self.method == "orm":
            objs = [model(**row) for row in rows]
            model._default_manager.using(self.using).bulk_create(objs, batch_size=self.batch_size)
            if parents:
                for row, obj in zip(rows, objs, strict=True):
                    row["id"] = obj.pk
            return
        conn = connections[self.using]
        meta = model._meta
        fields = [f for f in meta.concrete_fields if parents or not f.primary_key]
        names = [f.attname for f in fields]
        table = conn.ops.quote_name(meta.db_table)
        columns = ", ".join(conn.ops.quote_name(f.column) for f in fields)
        # wrap_database_errors: COPY runs on the raw psycopg cursor; errors still surface as
        # django.db.IntegrityError & co., as bulk_create's would.
        with conn.wrap_database_errors, conn.cursor() as cursor:
            if parents:
                for row, pk in zip(rows, self._draw_ids(cursor, meta, len(rows)), strict=True):
                    row["id"] = pk
            if self.method == "copy":
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([row[name] for name in names])
            else:
                adapt = _sqlite_datetime_adapter(conn)
                dt = [i for i, f in enumerate(fields) if f.get_internal_type() == "DateTimeField"]
                get = itemgetter(*names)
                params = []
                for row in rows:
                    values = list(get(row))
                    for i in dt:
                        values[i] = adapt(values[i])
                    params.append(values)
                marks = ", ".join(["%s"] * len(names))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", params)  # noqa: S608 - identifiers from model meta

    def _draw_ids(self, cursor, meta, n: int) -> list[int]:
        table = meta.db_table
        if self.method == "copy":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, meta.pk.column, n],
            )
            return [pk for (pk,) in cursor.fetchall()]
        # SQLite AUTOINCREMENT: never reuse an id, so start past both MAX(id) and the sequence.
        quoted = connections[self.using].ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX({meta.pk.column}), 0) FROM {quoted}")  # noqa: S608
        top = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        seq = cursor.fetchone()
        start = max(top, seq[0] if seq else 0) + 1
        return list(range(start, start + n))


def _sqlite_datetime_adapter(conn):
    """``ops.adapt_datetimefield_value`` with a fast path for UTC values into a UTC connection
    (what every generated timestamp is): the same text, a tenth of the cost."""
    adapt = conn.ops.adapt_datetimefield_value
    if conn.timezone_name != "UTC":
        return adapt

    def fast(value):
        if value is not None and value.tzinfo is UTC:
            return value.isoformat(" ")[:-6]  # str() of the naive value, without "+00:00"
        return adapt(value)

    return fast


def _linked(chunk: Sequence[OrderRows], attr: str, fk: str, parent_attr: str) -> list[Row]:
    """The ``attr`` rows of every plan in ``chunk``, their ``fk`` set to the parent's id."""
    out = []
    for r in chunk:
        value = getattr(r, attr)
        if not value:
            continue
        parent_id = getattr(r, parent_attr)["id"]
        for row in value if isinstance(value, list) else [value]:
            row[fk] = parent_id
            out.append(row)
    return out


def write_plans(plans: Iterable[OrderPlan], *, writer: BulkWriter | None = None) -> WriteCounts:
    """Build and write ``plans`` (one transaction); the caller rebuilds ShopDailyStats."""
    writer = writer or BulkWriter()
    return writer.write([build_order_rows(p) for p in plans])
