"""The mailing module's order events (DESIGN §1b): consumer ``mailing``.

``order.created`` → the order is attributed to the campaign whose message its buyer clicked
within 7 days before (SPEC M-11). The event log hands each event over once; the attribution is
idempotent (one row per order) besides.
"""

from __future__ import annotations

from orders.models import OrderEvent

from .services import tracking

CONSUMER = "mailing"
TYPES = {"order.created"}


def handle_event(event: OrderEvent) -> None:
    buyer_id = (event.payload or {}).get("buyer_id")
    if event.order_id is None or buyer_id is None:
        return
    tracking.order_attribute(
        order_id=event.order_id,
        shop_id=event.shop_id,
        buyer_id=int(buyer_id),
        ordered_at=event.occurred_at,
    )


def register() -> None:
    from orders import events

    events.consumer(CONSUMER, TYPES, handle_event)
