"""The buyer module's order events (DESIGN §1b): SPEC B-6 learns first payments here.

consumer ``buyers.activity``: ``order.paid`` records the buyer's first payment (idempotent:
only the first one is kept). The order's buyer is read through the orders selector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import services

if TYPE_CHECKING:
    from orders.models import OrderEvent

CONSUMER = "buyers.activity"
TYPES = {"order.paid"}


def handle_event(event: OrderEvent) -> None:
    from orders.selectors import get_order_for_shop

    order = get_order_for_shop(shop=event.shop, order_id=event.order_id)
    services.buyer_first_payment_record(buyer_id=order.buyer_id, paid_at=event.occurred_at)


def register() -> None:
    from orders import events

    events.consumer(CONSUMER, TYPES, handle_event)
