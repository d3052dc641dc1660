"""The order event log (DESIGN §1b): what happened to orders, for the marketing modules.

Every fact that changes an order writes one ``OrderEvent`` row **in the same transaction** as the
fact (``record``), on every write path: the services, the ingestion fast path and bulk seeding.
A fact without its event, or an event without its fact, cannot exist.

Modules are *consumers*: they register in their ``apps.py``::

    from orders.events import consumer
    consumer("coins.cashback", {"order.paid", "order.refunded"}, handle_event)

``handle_event(event: OrderEvent)`` runs in a transaction together with the record that the
consumer has handled the event (``ConsumedEvent``, UNIQUE (consumer, event)), so its effects
happen exactly once. It should only write to the database (enqueue other work with
``delay_on_commit``), read the facts through selectors, and raise to have the event retried.
Events of one order reach a consumer in the order they were recorded. Delivery is a task soon
after commit plus a beat catch-up (``orders.eventlog``), so a lost task, a killed worker or a
failing handler delays an event but never loses it.

``order_placing`` is the one synchronous exception: sent inside the ingestion transaction before
the order is saved, with the unsaved ``order`` and its ``lines`` (``inputs.LineInput``), for a
receiver guarding an invariant of the same fact (coin deduction, SPEC C-3). It may refuse the
order by raising ``core.errors.DomainError``; it locks rows in primary-key order. The ingestion
fast path also passes ``batch`` (a ``PlacingBatch``; None elsewhere): a receiver may
``batch.defer(handler, order, lines)`` instead of acting at once, and the fast path then calls
``handler(items)`` once with every (order, lines) deferred to it in the run, before the orders
are saved — one set of locks and writes for the run instead of one per order. A deferred
handler refuses all or nothing (nothing written, ``DomainError``): the run is then replayed
one event at a time, where each order is sent without ``batch`` and a refusal is its own.

Payloads (``OrderEvent.payload``; ``shop``, ``order`` and ``occurred_at`` are columns):

================== ==================================================== ========================
type               payload                                              occurred_at
================== ==================================================== ========================
order.created      buyer_id                                             placed_at
order.paid         amount_minor (what was paid)                         paid_at
order.cancelled    —                                                    cancelled_at
order.shipped      —                                                    shipped_at
tracking.updated   tracking_event_id, status                            the scan's time
order.delivered    —                                                    delivered_at
order.completed    —                                                    completed_at
order.refunded     refund_id, amount_minor, full (the order is now      refunded_at
                   fully refunded)
dispute.opened     dispute_id                                           opened_at
dispute.closed     dispute_id, outcome                                  closed_at
review.posted      review_id, sku_id, rating                            posted_at
feedback.posted    feedback_id, kind                                    posted_at
cart.updated       cart_id, buyer_id (no order)                         the cart's activity
================== ==================================================== ========================
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.dispatch import Signal

from core import clock

if TYPE_CHECKING:
    from .models import OrderEvent

log = logging.getLogger(__name__)

# In-transaction guard: kwargs ``order`` (unsaved), ``lines`` (list of inputs.LineInput) and,
# from the ingestion fast path, ``batch`` (``PlacingBatch``).
order_placing = Signal()


class PlacingBatch:
    """The new orders of one fast-path run, for ``order_placing`` receivers that check and
    write them together (``defer``); ``run`` hands each handler its orders, in event order."""

    def __init__(self) -> None:
        self._deferred: dict[Callable[[list], Any], list[tuple[Any, list]]] = {}

    def defer(self, handler: Callable[[list], Any], order: Any, lines: list) -> None:
        self._deferred.setdefault(handler, []).append((order, lines))

    def run(self) -> None:
        for handler, items in self._deferred.items():
            handler(items)


PAYLOADS: dict[str, tuple[str, ...]] = {
    "order.created": ("buyer_id",),
    "order.paid": ("amount_minor",),
    "order.cancelled": (),
    "order.shipped": (),
    "tracking.updated": ("tracking_event_id", "status"),
    "order.delivered": (),
    "order.completed": (),
    "order.refunded": ("refund_id", "amount_minor", "full"),
    "dispute.opened": ("dispute_id",),
    "dispute.closed": ("dispute_id", "outcome"),
    "review.posted": ("review_id", "sku_id", "rating"),
    "feedback.posted": ("feedback_id", "kind"),
    "cart.updated": ("cart_id", "buyer_id"),
}
TYPES = frozenset(PAYLOADS)


# --- consumers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Consumer:
    name: str
    types: frozenset[str]
    handler: Callable[[OrderEvent], None]


_CONSUMERS: dict[str, Consumer] = {}


def consumer(name: str, types: Iterable[str], handler: Callable[[OrderEvent], None]) -> Consumer:
    """Register ``handler`` for the event ``types`` under a stable ``name`` (the key of what it
    has handled: renaming a consumer makes it handle every retained event again)."""
    types = frozenset(types)
    unknown = types - TYPES
    if unknown:
        raise ValueError(f"unknown order event types: {sorted(unknown)}")
    if not name or len(name) > 64:
        raise ValueError("a consumer name is 1 to 64 characters")
    existing = _CONSUMERS.get(name)
    if existing is not None and existing.handler is not handler:
        raise ValueError(f"consumer {name!r} is already registered")
    registered = Consumer(name=name, types=types, handler=handler)
    _CONSUMERS[name] = registered
    return registered


def unregister(name: str) -> None:
    _CONSUMERS.pop(name, None)


def consumers() -> list[Consumer]:
    return list(_CONSUMERS.values())


# --- writing events ------------------------------------------------------------------------

# Inside ``collecting()`` (an ingestion batch) the ids are gathered and delivered once, after
# the batch commits, instead of once per event.
_collector: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "order_event_collector", default=None
)


def new(
    type: str,
    *,
    shop_id: int,
    order_id: int | None,
    occurred_at: datetime,
    recorded_at: datetime | None = None,
    **payload: Any,
) -> OrderEvent:
    """An unsaved event (for bulk inserts); checks the payload against ``PAYLOADS``."""
    from .models import OrderEvent

    return OrderEvent(
        **row(
            type,
            shop_id=shop_id,
            order_id=order_id,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            **payload,
        )
    )


def row(
    type: str,
    *,
    shop_id: int,
    order_id: int | None,
    occurred_at: datetime,
    recorded_at: datetime | None = None,
    **payload: Any,
) -> dict[str, Any]:
    """``new``'s event as the fields of its row (for an insert that builds no model)."""
    keys = PAYLOADS.get(type)
    if keys is None:
        raise ValueError(f"unknown order event type {type!r}")
    if set(payload) != set(keys):
        raise ValueError(f"{type} payload needs {sorted(keys)}, got {sorted(payload)}")
    return {
        "type": type,
        "shop_id": shop_id,
        "order_id": order_id,
        "occurred_at": occurred_at,
        "created_at": recorded_at or clock.now(),
        "payload": payload,
    }


def record(
    type: str, *, shop_id: int, order_id: int | None, occurred_at: datetime, **payload: Any
) -> OrderEvent:
    """Write one event in the current transaction; it is delivered once that commits."""
    event = new(type, shop_id=shop_id, order_id=order_id, occurred_at=occurred_at, **payload)
    event.save()
    written([event.pk])
    return event


def written(ids: list[int]) -> None:
    """Events ``ids`` were written in the current transaction: deliver them after it commits."""
    if not ids or not _CONSUMERS:
        return
    collected = _collector.get()
    if collected is not None:
        collected.extend(ids)
    else:
        transaction.on_commit(lambda: enqueue(ids), robust=True)


@contextlib.contextmanager
def collecting() -> Iterator[list[int]]:
    """Gather the ids written inside; the caller hands them to ``written`` at the end (ids of
    events rolled back with a savepoint are harmless: delivery skips ids that do not exist)."""
    ids: list[int] = []
    token = _collector.set(ids)
    try:
        yield ids
    finally:
        _collector.reset(token)


def enqueue(ids: list[int]) -> None:
    """Hand ``ids`` to a delivery task. If the broker refuses, the beat catch-up delivers them."""
    from .tasks import order_events_deliver_task

    try:
        order_events_deliver_task.delay(ids)
    except Exception:  # broker down: not lost, the catch-up finds them
        log.warning("order events %s… not enqueued; the catch-up will deliver them", ids[:5])
