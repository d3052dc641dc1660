"""``build_order_rows``: the rows the services would leave for a plan, computed in memory.

Same amounts, statuses, timestamps and ``Shipment.last_event_at`` / ``last_progress_at`` as the
services, and the same refusals: every step runs the services' own guards (``orders.guards``)
on the rows, so an invalid plan is refused with the same ``DomainError`` code and message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model

from orders import guards, stats
from orders.models import (
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
    TrackingEvent,
)
from shops.models import OFFICIAL_CARRIERS

from .plan import (
    Cancel,
    Complete,
    Deliver,
    DisputeClose,
    DisputeOpen,
    FeedbackStep,
    OrderPlan,
    Pay,
    RefundStep,
    ReviewStep,
    Ship,
    Track,
)

S = OrderStatus
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
    # The order event log rows, in the order of the facts: (type, occurred_at, payload, refs),
    # ``refs`` naming payload keys whose value is the id of a row above (known once written).
    events: list[tuple[str, Any, dict, dict[str, Row]]] = field(default_factory=list)


def _build_order(plan: OrderPlan) -> tuple[Row, list[Row]]:
    """``order_create``'s guards (``guards.check_order``) and rows, without the query."""
    data = plan.order
    shop = data.shop
    subtotal = guards.check_order(data)
    order = {
        **_ORDER,
        "shop_id": shop.pk,
        "buyer_id": data.buyer.pk,
        "number": data.number,
        "currency": shop.currency,
        "subtotal_minor": subtotal,
        "shipping_fee_minor": data.shipping_fee_minor,
        "coupon_discount_minor": data.coupon_discount_minor,
        "coin_deduction_coins": data.coin_deduction_coins,
        "coin_deduction_minor": data.coin_deduction_minor,
        "platform_subsidy_minor": data.platform_subsidy_minor,
        "cashback_red_packet_minor": data.cashback_red_packet_minor,
        "payment_method": data.payment_method,
        "logistics_service": data.logistics_service,
        "activity_id": data.activity_id,
        "affiliate_click_id": data.affiliate_click_id,
        "country": data.order_country,
        "placed_at": data.placed_at,
    }
    lines = [
        {
            **_LINE,
            "sku_id": line.sku.pk,
            "quantity": line.quantity,
            "unit_price_minor": line.unit_price_minor,
        }
        for line in data.lines
    ]
    return order, lines


def build_order_rows(plan: OrderPlan, figures: stats.Deltas | None = None) -> OrderRows:
    """The rows the services would write for ``plan``, order event log rows included; raises
    what they would raise. The daily-figure changes are added to ``figures`` when given.

    Pure: no query, no lock (see the package docstring).
    """
    order, lines = _build_order(plan)
    rows = OrderRows(order=order, lines=lines)
    f = figures if figures is not None else stats.Deltas()
    shop_id = order["shop_id"]
    placed_at = order["placed_at"]
    f.created(shop_id=shop_id, placed_at=placed_at)

    def log(type: str, at, refs: dict[str, Row] | None = None, **payload) -> None:
        rows.events.append((type, at, payload, refs or {}))

    log("order.created", placed_at, buyer_id=order["buyer_id"])
    number = order["number"]
    # The amounts never change after creation, so neither does what the payment must be.
    due = guards.amount_due_minor(
        subtotal_minor=order["subtotal_minor"],
        shipping_fee_minor=order["shipping_fee_minor"],
        coupon_discount_minor=order["coupon_discount_minor"],
        coin_deduction_minor=order["coin_deduction_minor"],
    )
    sku_ids = {line.sku.pk for line in plan.order.lines}
    disputes: dict[str, Row] = {}
    reviewed: set[int] = set()
    seen: set[tuple[str, str]] = set()

    def once(kind: str, external_id: str) -> None:
        # The services' UNIQUE external ids, within the plan (the database checks across plans).
        if (kind, external_id) in seen:
            raise guards.duplicate_error(kind, external_id)
        seen.add((kind, external_id))

    for step in plan.steps:
        match step:
            case Pay():  # order_pay
                guards.check_payment(
                    number=number,
                    status=order["status"],
                    placed_at=order["placed_at"],
                    due_minor=due,
                    amount_minor=step.amount_minor,
                    method=step.method,
                    paid_at=step.at,
                )
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
                f.paid(
                    shop_id=shop_id,
                    placed_at=placed_at,
                    paid_at=step.at,
                    amount_minor=step.amount_minor,
                )
                log("order.paid", step.at, amount_minor=step.amount_minor)
            case Cancel():  # order_cancel
                guards.check_cancel(number=number, status=order["status"])
                f.cancelled(shop_id=shop_id, placed_at=placed_at, was=order["status"])
                order["status"] = S.CANCELLED
                order["cancelled_at"] = step.at
                log("order.cancelled", step.at)
            case Ship():  # order_ship
                tracking_number = guards.check_shipment(
                    number=number,
                    status=order["status"],
                    placed_at=order["placed_at"],
                    paid_at=order["paid_at"],
                    tracking_number=step.tracking_number,
                    shipped_at=step.at,
                )
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
                f.shipped(shop_id=shop_id, placed_at=placed_at)
                log("order.shipped", step.at)
            case Track():  # tracking_update
                shipment = rows.shipment
                guards.check_tracking(
                    number=number, status=step.status, shipped=shipment is not None
                )
                scan = {
                    **_EVENT,
                    "status": step.status,
                    "occurred_at": step.at,
                    "location": step.location,
                    "description": step.description,
                }
                rows.tracking.append(scan)
                log("tracking.updated", step.at, {"tracking_event_id": scan}, status=step.status)
                # tracking_update: a scan ending a quiet spell, then the marks, then the verdict
                if shipment["anomaly_at"] is None and guards.parcel_quiet(
                    shipped_at=shipment["shipped_at"],
                    last_event_at=shipment["last_event_at"],
                    last_progress_at=shipment["last_progress_at"],
                    at=step.at,
                ):
                    shipment["anomaly_at"] = step.at
                    f.anomaly(shop_id=shop_id, placed_at=placed_at, official=shipment["official"])
                shipment.update(
                    guards.shipment_scan_marks(
                        status=step.status,
                        occurred_at=step.at,
                        last_event_at=shipment["last_event_at"],
                        last_progress_at=shipment["last_progress_at"],
                    )
                )
                verdict = guards.scan_verdict(
                    placed_at=placed_at, scanned_at=step.at, verdict=order["ship_verdict"]
                )
                if verdict is not None:
                    f.verdict(
                        shop_id=shop_id, placed_at=placed_at, old=order["ship_verdict"], new=verdict
                    )
                    order["ship_verdict"] = verdict
            case Deliver():  # order_deliver
                guards.check_delivery(number=number, status=order["status"])
                order["status"] = S.DELIVERED
                order["delivered_at"] = step.at
                f.delivered(shop_id=shop_id, placed_at=placed_at)
                shipment = rows.shipment
                if (
                    shipment is not None
                    and shipment["anomaly_at"] is None
                    and guards.parcel_quiet(
                        shipped_at=shipment["shipped_at"],
                        last_event_at=shipment["last_event_at"],
                        last_progress_at=shipment["last_progress_at"],
                        at=step.at,
                    )
                ):
                    shipment["anomaly_at"] = step.at
                    f.anomaly(shop_id=shop_id, placed_at=placed_at, official=shipment["official"])
                log("order.delivered", step.at)
            case Complete():  # order_complete
                guards.check_completion(
                    number=number, status=order["status"], disputed=order["disputed"]
                )
                order["status"] = S.COMPLETED
                order["completed_at"] = step.at
                f.completed(shop_id=shop_id, placed_at=placed_at)
                log("order.completed", step.at)
            case RefundStep():  # order_refund
                remaining = guards.check_refund(
                    number=number,
                    status=order["status"],
                    paid_at=order["paid_at"],
                    amount_paid_minor=order["amount_paid_minor"],
                    refunded_minor=order["refunded_minor"],
                    amount_minor=step.amount_minor,
                )
                once("refund", step.refund_id)
                refund = {
                    **_REFUND,
                    "external_id": step.refund_id,
                    "amount_minor": step.amount_minor,
                    "full": step.amount_minor == remaining,
                    "reason": step.reason,
                    "refunded_at": step.at,
                }
                rows.refunds.append(refund)
                order["refunded_minor"] += step.amount_minor
                was = None
                if (
                    order["refunded_minor"] == order["amount_paid_minor"]
                    and order["status"] != S.CANCELLED
                ):
                    was = order["status"]
                    order["status"] = S.REFUNDED
                    order["refunded_at"] = step.at
                f.refunded(
                    shop_id=shop_id,
                    placed_at=placed_at,
                    refunded_at=step.at,
                    amount_minor=step.amount_minor,
                    was=was,
                )
                log(
                    "order.refunded",
                    step.at,
                    {"refund_id": refund},
                    amount_minor=step.amount_minor,
                    full=order["refunded_minor"] == order["amount_paid_minor"],
                )
            case DisputeOpen():  # dispute_open
                guards.check_dispute_open(
                    number=number, status=order["status"], disputed=order["disputed"]
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
                log("dispute.opened", step.at, {"dispute_id": dispute})
            case DisputeClose():  # dispute_close
                found = disputes.get(step.dispute_id)
                guards.check_dispute_close(
                    number=number,
                    dispute_id=step.dispute_id,
                    exists=found is not None,
                    closed=found is not None and found["closed_at"] is not None,
                    outcome=step.outcome,
                )
                found["closed_at"] = step.at
                found["outcome"] = step.outcome
                order["disputed"] = False
                log("dispute.closed", step.at, {"dispute_id": found}, outcome=step.outcome)
            case ReviewStep():  # review_post
                guards.check_review(
                    number=number,
                    status=order["status"],
                    sku=step.sku_id,
                    on_order=step.sku_id in sku_ids,
                    rating=step.rating,
                    dsr_item_as_described=step.dsr_item_as_described,
                    dsr_communication=step.dsr_communication,
                    dsr_shipping=step.dsr_shipping,
                )
                if step.sku_id in reviewed:
                    raise guards.duplicate_error("review")
                reviewed.add(step.sku_id)
                review = {
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
                rows.reviews.append(review)
                f.review(
                    shop_id=shop_id,
                    posted_at=step.at,
                    item=step.dsr_item_as_described,
                    communication=step.dsr_communication,
                    shipping=step.dsr_shipping,
                    rating=step.rating,
                    text=step.text,
                    activity=order["activity_id"] is not None,
                )
                log(
                    "review.posted",
                    step.at,
                    {"review_id": review},
                    sku_id=step.sku_id,
                    rating=step.rating,
                )
            case FeedbackStep():  # feedback_post
                guards.check_feedback(number=number, status=order["status"], kind=step.kind)
                if rows.feedback is not None:
                    raise guards.duplicate_error("feedback", number)
                rows.feedback = {
                    **_FEEDBACK,
                    "shop_id": order["shop_id"],
                    "kind": step.kind,
                    "posted_at": step.at,
                }
                f.feedback(
                    shop_id=shop_id, posted_at=step.at, positive=step.kind == FeedbackKind.POSITIVE
                )
                log("feedback.posted", step.at, {"feedback_id": rows.feedback}, kind=step.kind)
            case _:  # pragma: no cover - the Step union is closed
                raise TypeError(f"unknown step {step!r}")
    return rows
