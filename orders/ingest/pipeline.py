"""One batch of events, applied in order, each whole or not at all (SPEC §0).

The batch runs in one transaction; each event in its own savepoint, so a refused event leaves
no trace and never blocks the others. Runs of ``order.created`` / ``order.paid`` take the bulk
path (``fast``) at their place in the batch, a run in one savepoint; the rest go one by one
through the services (``handlers``). A run that is the batch's first write takes no savepoint
(two round trips saved on the common batch): if it fails, the whole transaction is rolled back
and the batch runs again with that run on the slow path, so the outcome is the same.

Idempotency (DESIGN §3): ``IngestedEvent`` has UNIQUE (integration, event_id). An event whose
id is recorded is answered ``duplicate`` with the first result and nothing else happens. Two
copies arriving at once: both apply inside their own transaction, the second one's insert of
the record waits on the first's unique index entry and fails once it commits; its savepoint
(the event's writes included) is rolled back and it answers ``duplicate`` with the winner's
result. Only applied events and final rejections are recorded (see ``base.Retryable``).
"""

import logging
import time

from django.db import IntegrityError, OperationalError, transaction

from core import clock
from core.errors import DomainError
from integrations.models import Integration

from .. import events as order_events
from ..models import IngestedEvent
from . import fast
from .base import BatchContext, Outcome, Retryable, check_time
from .handlers import HANDLERS

log = logging.getLogger(__name__)

# SQLSTATEs after which the whole batch is simply run again: it was rolled back entirely.
_RETRY_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure
_ATTEMPTS = 3


def ingest_batch(*, integration: Integration, events: list) -> list[dict]:
    """Apply ``events`` (validated ``schemas.Event`` models) for ``integration``; one result each,
    in order. A deadlock with a concurrent batch retries the whole batch (it was rolled back)."""
    slow: set[int] = set()  # events a first attempt's bulk run could not write (``_Replay``)
    attempt = 0
    while True:
        attempt += 1
        try:
            with transaction.atomic():
                # The order events of the whole batch are delivered once, after it commits.
                with order_events.collecting() as written:
                    results = _ingest(integration, events, slow=slow)
                order_events.written(written)
                return results
        except _Replay as replay:
            # Nothing else was written: the whole transaction went back; again, with that run
            # one event at a time (each in its own savepoint), where a refusal is its own.
            log.info("fast path run of %d events replayed one by one (%s)", len(replay.run), replay)
            slow |= replay.run
            attempt -= 1  # not a failed attempt
        except OperationalError as exc:
            state = getattr(exc.__cause__, "sqlstate", None)
            transient = state in _RETRY_SQLSTATES or "database is locked" in str(exc)
            if not transient or attempt == _ATTEMPTS:
                raise
            log.warning("ingest batch retried after %s (attempt %d)", state or exc, attempt)
            time.sleep(0.05 * attempt)


class _Replay(Exception):
    """The batch's first write, a bulk run without a savepoint of its own, failed: the batch's
    transaction is rolled back and the batch runs again with ``run`` on the slow path."""

    def __init__(self, run: set[int], cause: Exception) -> None:
        super().__init__(str(cause))
        self.run = run


def _ingest(integration: Integration, events: list, *, slow: set[int]) -> list[dict]:
    ctx = BatchContext(integration=integration, received_at=clock.now())
    # The records of event ids already received, with the batch's shops, buyers, SKUs, orders.
    recorded: dict[str, IngestedEvent] = ctx.prefetch(events)
    seen: set[str] = set()
    repeated: set[int] = set()  # later copies of an id inside the batch, and ids already recorded
    for i, ev in enumerate(events):
        if ev.event_id in seen or ev.event_id in recorded:
            repeated.add(i)
        seen.add(ev.event_id)
    # Both copies of an id repeated inside the batch go the slow path, so the second sees the first.
    twice = {ev.event_id for i, ev in enumerate(events) if i in repeated}
    skip = {i for i, ev in enumerate(events) if ev.event_id in twice or ev.event_id in recorded}
    fast_set = fast.plan(ctx, events, skip | slow)

    outcomes: list[Outcome | None] = [None] * len(events)
    run: list[int] = []
    wrote = False  # has anything been written in this transaction yet?

    def flush() -> None:
        nonlocal wrote
        if not run:
            return
        items = [(i, events[i]) for i in run]
        first = not wrote
        wrote = True
        try:
            # The batch's first write needs no savepoint (two round trips): if it fails, the
            # whole transaction goes back and the batch runs again (``_Replay``).
            with transaction.atomic(savepoint=not first):
                done = fast.apply(ctx, items)
        except (IntegrityError, fast.GuardRefused) as exc:
            if first:
                raise _Replay(set(run), exc) from exc
            # A concurrent batch wrote one of these keys first (an order number, a payment or
            # event id), or a checkout guard refused an order: the run's savepoint is gone;
            # replay it one event at a time.
            log.info("fast path run of %d events replayed one by one (%s)", len(items), exc)
            for _i, ev in items:
                ctx.fast_orders.pop((ev.data.shop_id, ev.data.order_number), None)
            for i, ev in items:
                outcomes[i] = _apply_one(ctx, ev, recorded)
        else:
            for i, outcome in done.items():
                outcomes[i] = outcome
        run.clear()

    for i, ev in enumerate(events):
        if i in fast_set:
            run.append(i)
            continue
        flush()
        if ev.event_id in recorded:
            outcomes[i] = Outcome.replay(recorded[ev.event_id], ev)
        else:
            wrote = True
            outcomes[i] = _apply_one(ctx, ev, recorded)
    flush()

    # A retryable rejection may have lost a race with a concurrent copy that was applied.
    retry_ids = {
        events[i].event_id for i, o in enumerate(outcomes) if o is not None and o.retryable
    }
    if retry_ids:
        late = {
            r.event_id: r
            for r in IngestedEvent.objects.filter(integration=integration, event_id__in=retry_ids)
        }
        for i, o in enumerate(outcomes):
            if o is not None and o.retryable and events[i].event_id in late:
                outcomes[i] = Outcome.replay(late[events[i].event_id], events[i])
    return [o.as_dict(ev.event_id) for o, ev in zip(outcomes, events, strict=True)]  # type: ignore[union-attr]


def _apply_one(ctx: BatchContext, ev, recorded: dict[str, IngestedEvent]) -> Outcome:
    """The slow path: one event through the services, in its own savepoint."""
    try:
        with transaction.atomic():
            check_time(ev.occurred_at)
            outcome = Outcome.applied(HANDLERS[ev.type](ctx, ev))
            record = outcome.record(
                integration=ctx.integration, event=ev, received_at=ctx.received_at
            )
            record.save()
    except DomainError as exc:
        outcome = Outcome.rejected(exc)
        if not outcome.recorded:
            return outcome
        try:
            with transaction.atomic():
                record = outcome.record(
                    integration=ctx.integration, event=ev, received_at=ctx.received_at
                )
                record.save()
        except IntegrityError:
            return _lost_race(ctx, ev, recorded)
    except IntegrityError:
        return _lost_race(ctx, ev, recorded)
    recorded[ev.event_id] = record
    return outcome


def _lost_race(ctx: BatchContext, ev, recorded: dict[str, IngestedEvent]) -> Outcome:
    """The event's savepoint hit a unique constraint: usually a concurrent copy of the same event
    that committed first (answer its result); otherwise a conflicting concurrent write."""
    # Cached rows may describe writes that were just rolled back.
    ctx.shops.clear()
    ctx.buyers.clear()
    ctx.skus.clear()
    first = IngestedEvent.objects.filter(integration=ctx.integration, event_id=ev.event_id).first()
    if first is not None:
        recorded[ev.event_id] = first
        return Outcome.replay(first, ev)
    # Not a verdict on the event: like an out-of-order event it is not recorded, and may be resent.
    return Outcome.rejected(
        Retryable(f"{ev.type} conflicted with a concurrent write; send it again.", code="conflict")
    )
