"""Delivery of the order event log to its consumers (DESIGN §1b), exactly once per consumer.

How an event reaches a consumer, and why it is never lost nor handled twice:

* **Claim and handle in one transaction.** ``_handle`` inserts ``ConsumedEvent(consumer, event)``
  with ``ON CONFLICT DO NOTHING`` and runs the handler in the same transaction. If the handler
  raises, or the worker dies, the transaction rolls back together with the claim and the event
  is simply unhandled again. Two deliverers racing for the same pair: the second waits on the
  unique index until the first commits (then skips) or rolls back (then handles).
* **Soon after commit**: ``order_events_deliver_task(ids)`` is enqueued once the writing
  transaction commits (``events.written``).
* **Catch-up**: a beat task looks for what each consumer has not handled: events past its
  cursor, of its types, without a ``ConsumedEvent`` row. The cursor is not a plain "last id":
  ids commit out of order, so it only moves past events that are handled *and* older than
  ``SC_ORDER_EVENTS_SETTLE_SECONDS`` — longer than any transaction lives, so no event with a
  lower id can still be on its way.
* **Order per order**: a consumer handles the events of one order in the order they were
  recorded; an event whose earlier sibling is not handled yet waits for it.
* **Failures** are recorded (``ConsumerFailure``, shown in admin) and retried with backoff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Min, OuterRef

from core import clock

from . import events
from .models import ConsumedEvent, ConsumerCursor, ConsumerFailure, OrderEvent

log = logging.getLogger(__name__)

HANDLED, ALREADY, DEFERRED, FAILED, BACKING_OFF = (
    "handled",
    "already",
    "deferred",
    "failed",
    "backing_off",
)


@dataclass
class DeliveryReport:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def __getitem__(self, outcome: str) -> int:
        return self.counts.get(outcome, 0)


def settle_time() -> timedelta:
    return timedelta(seconds=settings.SC_ORDER_EVENTS_SETTLE_SECONDS)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the ``attempts``-th failure: 30 s, 1 min, 2 min … capped at an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _consumed(name: str):
    return ConsumedEvent.objects.filter(consumer=name, event_id=OuterRef("pk"))


def _claim(name: str, event_id: int) -> bool:
    """Insert the handled-record of (consumer, event); False when it already exists."""
    table = connection.ops.quote_name(ConsumedEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (consumer, event_id, handled_at) VALUES (%s, %s, %s) "  # noqa: S608 - identifier from the model
            "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING id",
            [name, event_id, clock.now()],
        )
        return cursor.fetchone() is not None


def _earlier_pending(c: events.Consumer, event: OrderEvent) -> bool:
    """An earlier event of the same order that ``c`` has not handled yet."""
    if event.order_id is None:
        return False
    return (
        OrderEvent.objects.filter(order_id=event.order_id, id__lt=event.pk, type__in=c.types)
        .filter(~Exists(_consumed(c.name)))
        .exists()
    )


def _handle(c: events.Consumer, event: OrderEvent) -> str:
    try:
        with transaction.atomic():
            if _earlier_pending(c, event):
                return DEFERRED
            if not _claim(c.name, event.pk):
                return ALREADY
            c.handler(event)
            ConsumerFailure.objects.filter(consumer=c.name, event_id=event.pk).delete()
    except Exception as exc:
        _record_failure(c, event, exc)
        return FAILED
    return HANDLED


def _record_failure(c: events.Consumer, event: OrderEvent, exc: Exception) -> None:
    now = clock.now()
    log.exception("consumer %s failed on order event %s (%s)", c.name, event.pk, event.type)
    try:
        with transaction.atomic():
            failure, _ = ConsumerFailure.objects.select_for_update().get_or_create(
                consumer=c.name,
                event_id=event.pk,
                defaults={"failed_at": now, "retry_at": now},
            )
            failure.attempts += 1
            failure.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            failure.failed_at = now
            failure.retry_at = now + retry_delay(failure.attempts)
            failure.save()
    except Exception:  # the database itself is failing: the catch-up will try again anyway
        log.exception("could not record the failure of %s on event %s", c.name, event.pk)


def _deliver_events(c: events.Consumer, batch: list[OrderEvent], report: DeliveryReport) -> None:
    for event in batch:
        report.add(_handle(c, event))


def deliver(event_ids: list[int]) -> DeliveryReport:
    """Hand the events ``event_ids`` to every consumer of their types (the after-commit task).

    Events in back-off after a failure are left to the catch-up."""
    report = DeliveryReport()
    regs = events.consumers()
    if not regs or not event_ids:
        return report
    batch = list(OrderEvent.objects.filter(pk__in=event_ids).order_by("pk"))
    now = clock.now()
    for c in regs:
        mine = [e for e in batch if e.type in c.types]
        if not mine:
            continue
        waiting = set(
            ConsumerFailure.objects.filter(
                consumer=c.name, event_id__in=[e.pk for e in mine], retry_at__gt=now
            ).values_list("event_id", flat=True)
        )
        for e in mine:
            if e.pk in waiting:
                report.add(BACKING_OFF)
            else:
                report.add(_handle(c, e))
    return report


def catch_up(*, limit: int = 2000) -> DeliveryReport:
    """Find and handle what each consumer has not handled yet, then advance its cursor."""
    report = DeliveryReport()
    for c in events.consumers():
        cursor, _ = ConsumerCursor.objects.get_or_create(consumer=c.name)
        pending = list(
            OrderEvent.objects.filter(id__gt=cursor.position, type__in=c.types)
            .filter(~Exists(_consumed(c.name)))
            .filter(
                ~Exists(
                    ConsumerFailure.objects.filter(
                        consumer=c.name, event_id=OuterRef("pk"), retry_at__gt=clock.now()
                    )
                )
            )
            .order_by("id")[:limit]
        )
        _deliver_events(c, pending, report)
        advance_cursor(c)
    return report


def advance_cursor(c: events.Consumer) -> int:
    """Move ``c``'s cursor to the highest id below which everything of its types is handled and
    settled (older than the settle time). Returns the new position."""
    with transaction.atomic():
        cursor, _ = ConsumerCursor.objects.select_for_update().get_or_create(consumer=c.name)
        pos = cursor.position
        settled = (
            OrderEvent.objects.filter(id__gt=pos, created_at__lt=clock.now() - settle_time())
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        if settled is None:
            return pos
        first_open = (
            OrderEvent.objects.filter(id__gt=pos, id__lte=settled, type__in=c.types)
            .filter(~Exists(_consumed(c.name)))
            .order_by("id")
            .values_list("id", flat=True)
            .first()
        )
        new = settled if first_open is None else first_open - 1
        if new > pos:
            cursor.position = new
            cursor.save(update_fields=["position", "updated_at"])
        return max(new, pos)


def prune(*, batch_size: int = 5000) -> int:
    """Delete events older than ``SC_ORDER_EVENTS_RETENTION_DAYS`` that every registered
    consumer has passed (its cursor is beyond them), with their handled-records."""
    cutoff = clock.now() - timedelta(days=settings.SC_ORDER_EVENTS_RETENTION_DAYS)
    names = [c.name for c in events.consumers()]
    bound = None
    if names:
        positions = dict(
            ConsumerCursor.objects.filter(consumer__in=names).values_list("consumer", "position")
        )
        bound = min(positions.get(n, 0) for n in names)
    deleted = 0
    while True:
        qs = OrderEvent.objects.filter(created_at__lt=cutoff)
        if bound is not None:
            qs = qs.filter(id__lte=bound)
        ids = list(qs.order_by("id").values_list("id", flat=True)[:batch_size])
        if not ids:
            return deleted
        with transaction.atomic():
            ConsumedEvent.objects.filter(event_id__in=ids).delete()
            ConsumerFailure.objects.filter(event_id__in=ids).delete()
            deleted += OrderEvent.objects.filter(id__in=ids).delete()[0]


def lag() -> dict[str, dict]:
    """Per consumer: cursor position and the oldest unhandled event (for admins and /readyz)."""
    out = {}
    for c in events.consumers():
        cursor = ConsumerCursor.objects.filter(consumer=c.name).first()
        pos = cursor.position if cursor else 0
        oldest = (
            OrderEvent.objects.filter(id__gt=pos, type__in=c.types)
            .filter(~Exists(_consumed(c.name)))
            .aggregate(at=Min("created_at"))["at"]
        )
        out[c.name] = {"position": pos, "oldest_unhandled_at": oldest}
    return out


def retry_now(*, failure_ids: list[int]) -> int:
    """An operator's "retry now": the failures' back-off ends and their events are delivered
    again at once (after this commits). Returns how many were due."""
    with transaction.atomic():
        failures = ConsumerFailure.objects.filter(pk__in=failure_ids)
        event_ids = sorted(set(failures.values_list("event_id", flat=True)))
        n = failures.update(retry_at=clock.now())
        if event_ids:
            events.written(event_ids)
    return n


def start_consumers_after_history() -> int:
    """Move every registered consumer's cursor to the newest event (never back): what is in
    the log now counts as handled. For seeded history only (``seed_demo``): a consumer added to
    a live system handles the retained log instead. Returns the position (0: empty log)."""
    newest = OrderEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    if not newest:
        return 0
    for c in events.consumers():
        cursor, _ = ConsumerCursor.objects.get_or_create(consumer=c.name)
        if cursor.position < newest:
            cursor.position = newest
            cursor.save(update_fields=["position", "updated_at"])
    return newest
