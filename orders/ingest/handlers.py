"""The slow path: one event, applied through the same services the rest of the product uses
(``shops.services``, ``buyers.services``, ``orders.services``). Each handler returns the ids it
wrote (the event's ``result``) or raises ``DomainError`` (final) / ``Retryable``.

Handlers run inside the event's savepoint (``pipeline``): whatever they wrote is rolled back if
any later step of the same event fails.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from buyers.services import buyer_upsert
from core.errors import DomainError
from core.money import Money
from shops.notices import Reason
from shops.services import (
    balance_credit,
    logistics_set,
    product_upsert,
    shop_upsert,
    violation_record,
)

from .. import services
from ..models import Order, OrderStatus
from .base import FORWARD_RANK, BatchContext, Retryable, check_time

S = OrderStatus

# The earliest status an order must have reached for the event to make sense. An order that
# has not reached it yet (and is still on the forward path) gets a retryable rejection.
NEEDS = {
    "order.shipped": S.PAID,
    "tracking.updated": S.SHIPPED,
    "order.delivered": S.SHIPPED,
    "order.completed": S.DELIVERED,
    "order.refunded": S.PAID,
    "dispute.opened": S.PAID,
    "review.posted": S.DELIVERED,
    "feedback.posted": S.DELIVERED,
}


def _order(ctx: BatchContext, ev) -> Order:
    order = ctx.order(ev.data.shop_id, ev.data.order_number)
    need = NEEDS.get(ev.type)
    rank = FORWARD_RANK.get(order.status)
    if need is not None and rank is not None and rank < FORWARD_RANK[need]:
        raise Retryable(
            f"Order {order.number} is {order.status}; {ev.type} needs it {need} first "
            "(an earlier event has not arrived yet); retry later.",
            code="order_not_ready",
        )
    return order


def _order_result(order: Order, **extra: Any) -> dict[str, Any]:
    return {"order_id": order.pk, "order_status": order.status, **extra}


def shop_upserted(ctx: BatchContext, ev) -> dict:
    d = ev.data
    check_time(d.opened_at, "opened_at")
    ctx.forget_shop(d.shop_id)
    shop = shop_upsert(
        external_id=d.shop_id,
        name=d.name,
        opened_at=d.opened_at,
        main_category=d.main_category,
        registration_region=d.registration_region,
        enterprise_certified=d.enterprise_certified,
        store_level=d.store_level,
        store_rating=Decimal(str(d.store_rating)),
        dsr_item_as_described=Decimal(str(d.dsr_item_as_described)),
        dsr_communication=Decimal(str(d.dsr_communication)),
        dsr_shipping=Decimal(str(d.dsr_shipping)),
        currency=d.currency,
    )
    for item in d.logistics:
        logistics_set(
            shop=shop, carrier=item.carrier, enabled=item.enabled, certified=item.certified
        )
    return {"shop_id": shop.pk}


def product_upserted(ctx: BatchContext, ev) -> dict:
    d = ev.data
    shop = ctx.shop(d.shop_id)
    codes = [s.sku for s in d.skus]
    ctx.forget_skus(d.shop_id, codes)
    product = product_upsert(
        shop=shop,
        external_id=d.product_id,
        title=d.title,
        category=d.category,
        review_status=d.review_status,
        image_url=d.image_url,
        skus=[
            {
                "code": s.sku,
                "name": s.name,
                "price_minor": s.price_minor,
                "stock": s.stock,
                "lowest_price_30d_minor": s.lowest_price_30d_minor,
            }
            for s in d.skus
        ],
    )
    return {"product_id": product.pk, "skus": len(set(codes))}


def buyer_upserted(ctx: BatchContext, ev) -> dict:
    d = ev.data
    registered_at = d.registered_at or ev.occurred_at
    check_time(registered_at, "registered_at")
    ctx.forget_buyer(d.buyer_id)
    buyer = buyer_upsert(
        external_id=d.buyer_id,
        email=d.email,
        phone=d.phone,
        country=d.country,
        site=d.site,
        device_id=d.device_id,
        registered_at=registered_at,
        risk_status=d.risk_status,
    )
    return {"buyer_id": buyer.pk}


def cart_updated(ctx: BatchContext, ev) -> dict:
    d = ev.data
    shop = ctx.shop(d.shop_id)
    buyer = ctx.buyer(d.buyer_id)
    codes = [i.sku for i in d.items]
    if len(set(codes)) != len(codes):
        raise DomainError("A cart lists each SKU once.", code="duplicate_sku")
    items = [(ctx.sku(shop, i.sku), i.quantity) for i in d.items]
    cart = services.cart_update(shop=shop, buyer=buyer, items=items, at=ev.occurred_at)
    return {"cart_id": cart.pk}


def order_created(ctx: BatchContext, ev) -> dict:
    d = ev.data
    shop = ctx.shop(d.shop_id)
    d.check_currency(shop.currency)
    data = d.order_input(
        shop=shop,
        buyer=ctx.buyer(d.buyer_id),
        sku=lambda code: ctx.sku(shop, code),
        placed_at=ev.occurred_at,
    )
    return _order_result(services.order_create(data))


def order_paid(ctx: BatchContext, ev) -> dict:
    d = ev.data
    order = services.order_pay(
        order=_order(ctx, ev),
        payment_id=d.payment_id,
        amount_minor=d.amount_minor,
        method=d.method,
        paid_at=ev.occurred_at,
    )
    return _order_result(order)


def order_cancelled(ctx: BatchContext, ev) -> dict:
    order = services.order_cancel(
        order=_order(ctx, ev), cancelled_at=ev.occurred_at, reason=ev.data.reason
    )
    return _order_result(order)


def order_shipped(ctx: BatchContext, ev) -> dict:
    d = ev.data
    order = services.order_ship(
        order=_order(ctx, ev),
        carrier=d.carrier,
        tracking_number=d.tracking_number,
        shipped_at=ev.occurred_at,
    )
    return _order_result(order)


def tracking_updated(ctx: BatchContext, ev) -> dict:
    d = ev.data
    order = _order(ctx, ev)
    event = services.tracking_update(
        order=order,
        status=d.status,
        occurred_at=ev.occurred_at,
        location=d.location,
        description=d.description,
    )
    return _order_result(order, tracking_event_id=event.pk)


def order_delivered(ctx: BatchContext, ev) -> dict:
    return _order_result(services.order_deliver(order=_order(ctx, ev), delivered_at=ev.occurred_at))


def order_completed(ctx: BatchContext, ev) -> dict:
    order = _order(ctx, ev)
    if order.disputed and order.status == S.DELIVERED:
        raise Retryable(
            f"Order {order.number} has an open dispute; retry after its dispute.closed.",
            code="disputed",
        )
    return _order_result(services.order_complete(order=order, completed_at=ev.occurred_at))


def order_refunded(ctx: BatchContext, ev) -> dict:
    d = ev.data
    refund = services.order_refund(
        order=_order(ctx, ev),
        refund_id=d.refund_id,
        amount_minor=d.amount_minor,
        refunded_at=ev.occurred_at,
        reason=d.reason,
    )
    return _order_result(refund.order, refund_id=refund.pk)


def dispute_opened(ctx: BatchContext, ev) -> dict:
    d = ev.data
    order = _order(ctx, ev)
    dispute = services.dispute_open(
        order=order, dispute_id=d.dispute_id, opened_at=ev.occurred_at, reason=d.reason
    )
    return _order_result(dispute.order, dispute_id=dispute.pk)


def dispute_closed(ctx: BatchContext, ev) -> dict:
    d = ev.data
    order = _order(ctx, ev)
    try:
        dispute = services.dispute_close(
            order=order, dispute_id=d.dispute_id, closed_at=ev.occurred_at, outcome=d.outcome
        )
    except DomainError as exc:
        if exc.code == "unknown_dispute":  # its dispute.opened may still be on its way
            raise Retryable(exc.message, code="unknown_dispute") from None
        raise
    return _order_result(dispute.order, dispute_id=dispute.pk)


def review_posted(ctx: BatchContext, ev) -> dict:
    d = ev.data
    order = _order(ctx, ev)
    review = services.review_post(
        order=order,
        sku=ctx.sku(ctx.shop(d.shop_id), d.sku),
        rating=d.rating,
        dsr_item_as_described=d.dsr_item_as_described,
        dsr_communication=d.dsr_communication,
        dsr_shipping=d.dsr_shipping,
        posted_at=ev.occurred_at,
        text=d.text,
        language=d.language,
    )
    return {"order_id": order.pk, "review_id": review.pk}


def feedback_posted(ctx: BatchContext, ev) -> dict:
    order = _order(ctx, ev)
    feedback = services.feedback_post(order=order, kind=ev.data.kind, posted_at=ev.occurred_at)
    return {"order_id": order.pk, "feedback_id": feedback.pk}


def violation_recorded(ctx: BatchContext, ev) -> dict:
    d = ev.data
    violation = violation_record(
        shop=ctx.shop(d.shop_id),
        external_id=d.violation_id,
        kind=d.kind,
        serious=d.serious,
        occurred_at=ev.occurred_at,
        description=d.description,
    )
    return {"violation_id": violation.pk}


def shop_balance_credited(ctx: BatchContext, ev) -> dict:
    d = ev.data
    shop = ctx.shop(d.shop_id)
    # Idempotent twice over: by event id (the pipeline) and by the marketplace's credit id (the
    # ledger's key), so the same credit re-sent under a new event id is credited once.
    entry = balance_credit(
        shop=shop,
        amount=Money(d.amount_minor, d.currency),
        # A blank reason ("   ") is no reason: the ledger would refuse it (invalid_reason) and
        # the marketplace's money would never be credited.
        reason=(d.reason or "").strip() or Reason("shops.marketplace_credit"),
        idempotency_key=f"marketplace-credit:{shop.pk}:{d.credit_id}",
    )
    return {"balance_entry_id": entry.pk, "balance_after_minor": entry.balance_after_minor}


HANDLERS: dict[str, Callable[[BatchContext, Any], dict]] = {
    "shop.upserted": shop_upserted,
    "product.upserted": product_upserted,
    "buyer.upserted": buyer_upserted,
    "cart.updated": cart_updated,
    "order.created": order_created,
    "order.paid": order_paid,
    "order.cancelled": order_cancelled,
    "order.shipped": order_shipped,
    "tracking.updated": tracking_updated,
    "order.delivered": order_delivered,
    "order.completed": order_completed,
    "order.refunded": order_refunded,
    "dispute.opened": dispute_opened,
    "dispute.closed": dispute_closed,
    "review.posted": review_posted,
    "feedback.posted": feedback_posted,
    "violation.recorded": violation_recorded,
    "shop.balance_credited": shop_balance_credited,
}
