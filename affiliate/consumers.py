"""The affiliate module's order events (DESIGN §1b; SPEC A-5, A-6): consumer ``affiliate``.

``order.created`` attributes the order and locks its commission once a payment method is chosen
(A-6; an order created without one locks at ``order.paid``, which also catches a click that was
still in the click buffer at ``order.created`` — the click flusher attributes those too);
``order.paid`` makes it due for pre-issue; ``order.cancelled`` voids it; ``order.refunded``
reverses its share; ``dispute.opened``/``dispute.closed`` hold and release it;
``order.completed`` starts the return window before settlement; ``order.shipped`` recomputes the
A-7 base now that the logistics line (and so whether freight is deducted) is known. The event
log hands each event over once; each effect is idempotent.
"""

from __future__ import annotations

from orders.models import OrderEvent

from . import services

CONSUMER = "affiliate"
TYPES = {
    "order.created",
    "order.paid",
    "order.cancelled",
    "order.shipped",
    "order.completed",
    "order.refunded",
    "dispute.opened",
    "dispute.closed",
}


def handle_event(event: OrderEvent) -> None:
    if event.order_id is None:
        return
    services.order_event_apply(
        event_type=event.type,
        order_id=event.order_id,
        payload=event.payload,
        occurred_at=event.occurred_at,
    )


def register() -> None:
    from orders import events

    events.consumer(CONSUMER, TYPES, handle_event)
