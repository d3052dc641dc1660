"""The coin module's order events (DESIGN §1b) and its checkout guard (SPEC C-3).

- ``order_placing`` (synchronous, inside the ingestion transaction): ``redemption_place``
  checks and spends the coins an order deducts, or refuses the order with a stable code; on
  the ingestion fast path ``redemptions_place`` does it for the run's coin orders at once.
- consumer ``coins``: ``order.created`` links the redemption to the saved order;
  ``order.paid`` grants welcome, instant and threshold coins; ``order.completed`` grants
  completion cashback (C-7); ``order.refunded`` returns coins and claws back cashback (C-8);
  ``order.cancelled`` returns the coins a cancelled order deducted (an unpaid order is never
  refunded, so nothing else would give them back).
  Each grant is idempotent per (rule, order), and the event log hands each event over once.
"""

from __future__ import annotations

from orders.models import Order, OrderEvent

from . import services

CONSUMER = "coins"
TYPES = {
    "order.created",
    "order.paid",
    "order.cancelled",
    "order.completed",
    "order.refunded",
}


def on_order_placing(sender, *, order, lines, batch=None, **kwargs) -> None:
    if not order.coin_deduction_coins and not order.coin_deduction_minor:
        return  # no coins: not even a savepoint (most orders)
    if batch is not None:  # the ingestion fast path: the run's coin orders at once
        batch.defer(services.redemptions_place, order, lines)
    else:
        services.redemption_place(order=order, lines=lines)


def handle_event(event: OrderEvent) -> None:
    if event.type == "order.created":
        services.redemption_link(order=Order.objects.get(pk=event.order_id))
    elif event.type == "order.paid":
        services.order_grants_apply(
            order_id=event.order_id, kinds=services.ON_PAID, at=event.occurred_at
        )
    elif event.type == "order.completed":
        services.order_grants_apply(
            order_id=event.order_id, kinds=services.ON_COMPLETED, at=event.occurred_at
        )
    elif event.type == "order.cancelled":
        services.order_cancel_apply(order_id=event.order_id)
    elif event.type == "order.refunded":
        services.order_refund_apply(
            order_id=event.order_id,
            refund_id=int(event.payload["refund_id"]),
            full=bool(event.payload["full"]),
        )


def register() -> None:
    from orders import events

    events.consumer(CONSUMER, TYPES, handle_event)
    events.order_placing.connect(on_order_placing, sender=Order, dispatch_uid="coins.redeem")
