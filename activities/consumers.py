"""The activities module's order events (DESIGN §1b): consumer ``activities``.

``order.created`` of an order that carries an activity (SPEC E-1) records an ``ActivityOrder``:
the 15-minute consistency check (E-6 layer 1) claims it, the review report (layer 3) sums it.
The event log hands each event over once; the record is once per order anyway (one-to-one).
"""

from __future__ import annotations

from orders.models import OrderEvent

from . import services

CONSUMER = "activities"
TYPES = {"order.created"}


def handle_event(event: OrderEvent) -> None:
    if event.order_id is None:
        return
    services.activity_order_record(order_id=event.order_id)


def register() -> None:
    from orders import events

    events.consumer(CONSUMER, TYPES, handle_event)
