"""An order's whole life as the marketplace would report it, and the services path that applies it.

An ``OrderPlan`` is the ``order_create`` inputs, then the steps that follow (pay, ship, tracking,
deliver, refund, dispute, review, feedback…), in the order they happen.
``apply_with_services`` calls the real per-order services one step at a time; ``rows`` builds the
very rows they would leave, in memory, for ``writer`` to insert in bulk.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from buyers.models import Buyer
from orders import guards, services
from orders.inputs import OrderInput
from orders.models import Order


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
    """The ``order_create`` input (``OrderInput``) plus the steps that follow, in the order they
    happen.

    ``order.buyer`` may be an unsaved ``Buyer(pk=…, country=…)`` stub (all the order row needs),
    so a generator of a million plans, streamed in chunks, loads no buyer;
    ``apply_with_services`` loads the buyer.
    """

    order: OrderInput
    steps: list[Step] = field(default_factory=list)

    @property
    def number(self) -> str:
        return self.order.number

    @property
    def due_minor(self) -> int:
        """What ``order_pay`` expects: payable before coins less the coin deduction (SPEC C-3)."""
        o = self.order
        return guards.amount_due_minor(
            subtotal_minor=o.subtotal_minor,
            shipping_fee_minor=o.shipping_fee_minor,
            coupon_discount_minor=o.coupon_discount_minor,
            coin_deduction_minor=o.coin_deduction_minor,
        )


# --- the services path ----------------------------------------------------------------------


def apply_with_services(plan: OrderPlan) -> Order:
    """Apply ``plan`` through the real services, step by step (events, stats, locks)."""
    data = replace(plan.order, buyer=Buyer.objects.get(pk=plan.order.buyer.pk))
    order = services.order_create(data)
    skus = {line.sku.pk: line.sku for line in data.lines}
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
                if sku is None:  # not on the order: refused as the rows builder refuses it
                    guards.check_review(
                        number=order.number,
                        status=order.status,
                        sku=step.sku_id,
                        on_order=False,
                        rating=step.rating,
                        dsr_item_as_described=step.dsr_item_as_described,
                        dsr_communication=step.dsr_communication,
                        dsr_shipping=step.dsr_shipping,
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
