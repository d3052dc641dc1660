"""The bulk path for ``order.created`` and ``order.paid``: the bulk of the marketplace's traffic.

Per-event service calls cost ~10 round trips each (savepoints, lock, insert, stats upsert …);
here a run of such events costs a handful of queries in all. The *rules* are not copied: each
order is built by ``services.order_build`` and each payment checked by
``services.order_pay_check``, the very guards ``order_create`` / ``order_pay`` run, so both paths
refuse with the same code. What differs is only how the rows are written:

* the existing orders a run pays are locked in one ``SELECT … FOR UPDATE`` in primary-key order;
* orders, lines, payments and idempotency records are written in one statement each
  (``rows.insert_objects``: ``bulk_create`` without its compile cost), paid orders with one
  pipelined UPDATE; everything after the orders (which give the others their ids) goes to
  PostgreSQL in one round trip (``rows.write_many``);
* ``ShopDailyStats`` is bumped once per (shop, natural day) through ``orders.stats`` — the same
  definition of each fact's figures the services use, in the same lock order;
* the ``order_placing`` guard runs for each order without a savepoint of its own (two round
  trips per order saved), and a receiver may defer its work to one call for the run's new
  orders (``events.PlacingBatch``: the coin guard locks and writes a run's redemptions
  set-based); a refusal is rare, and when one comes the whole run is rolled back
  and replayed one event at a time on the slow path (``GuardRefused``), where each event has its
  own savepoint and the refusal rejects that order only; the ``order.created`` /
  ``order.paid`` rows of the order event log are inserted in event order, in the same
  transaction, exactly as the services do.

Which events may take this path is decided up front by ``plan``; anything unusual (an order
with other events in the batch, ids that do not exist yet, duplicates …) goes the slow path.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db import connection

from core import clock
from core.errors import DomainError

from .. import events as domain_events
from .. import services, stats
from ..inputs import LineInput
from ..models import IngestedEvent, Order, OrderEvent, OrderLine, OrderStatus, Payment
from .base import MAX_YEAR, MIN_YEAR, BatchContext, Outcome, Retryable
from .rows import Rows, insert_objects, write_many

FAST_TYPES = frozenset({"order.created", "order.paid"})


class GuardRefused(Exception):
    """An ``order_placing`` receiver refused an order of the run (see the module docstring)."""


_PATTERNS = (("order.created",), ("order.paid",), ("order.created", "order.paid"))
_PAID_FIELDS = ["status", "amount_paid_minor", "payment_method", "paid_at", "updated_at"]


def plan(ctx: BatchContext, events: list, skip: set[int]) -> set[int]:
    """Indices of the events the bulk path takes (needs ``ctx.prefetch`` first).

    An order qualifies when its only events in the batch are ``order.created``, ``order.paid``
    or both in that order; its shop, buyer and SKUs existed before the batch and are not
    upserted by it; it is not in the database yet (created) or is (paid only); and the payment
    id is new. Everything else keeps the slow path's exact behaviour.
    """
    if not any(ev.type in FAST_TYPES for ev in events):
        return set()
    dirty_shops = {ev.data.shop_id for ev in events if ev.type == "shop.upserted"}
    dirty_buyers = {ev.data.buyer_id for ev in events if ev.type == "buyer.upserted"}
    dirty_skus = {
        (ev.data.shop_id, s.sku)
        for ev in events
        if ev.type == "product.upserted"
        for s in ev.data.skus
    }
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    payment_ids: Counter[str] = Counter()
    for i, ev in enumerate(events):
        number = getattr(ev.data, "order_number", None)
        if number is not None:
            by_key[(ev.data.shop_id, number)].append(i)
        if ev.type == "order.paid":
            payment_ids[ev.data.payment_id] += 1
    taken = (
        set(
            Payment.objects.filter(external_id__in=list(payment_ids)).values_list(
                "external_id", flat=True
            )
        )
        if payment_ids
        else set()
    )

    fast: set[int] = set()
    for key, idxs in by_key.items():
        if tuple(events[i].type for i in idxs) not in _PATTERNS or any(i in skip for i in idxs):
            continue
        shop = ctx.shops.get(key[0])
        if shop is None or key[0] in dirty_shops:
            continue
        ok = True
        for i in idxs:
            ev, d = events[i], events[i].data
            if not MIN_YEAR <= ev.occurred_at.year <= MAX_YEAR:
                ok = False
            elif ev.type == "order.created":
                ok = (
                    key not in ctx.orders
                    and ctx.buyers.get(d.buyer_id) is not None
                    and d.buyer_id not in dirty_buyers
                    and all(
                        ctx.sku_known(shop, x.sku) is not None and (key[0], x.sku) not in dirty_skus
                        for x in d.lines
                    )
                )
            else:
                ok = (len(idxs) == 2 or key in ctx.orders) and (
                    payment_ids[d.payment_id] == 1 and d.payment_id not in taken
                )
            if not ok:
                break
        if ok:
            fast.update(idxs)
    return fast


def apply(ctx: BatchContext, items: list[tuple[int, object]]) -> dict[int, Outcome]:
    """Apply a run of planned events (in batch order). Raises ``IntegrityError`` when a concurrent
    writer took one of its keys first: the caller rolls the run back and replays it slowly."""
    guarded = domain_events.order_placing.has_listeners(Order)
    placing = domain_events.PlacingBatch() if guarded else None
    keys = [(ev.data.shop_id, ev.data.order_number) for _, ev in items if ev.type == "order.paid"]
    to_lock = [ctx.orders[key][0] for key in keys if key in ctx.orders]
    locked = {}
    if to_lock:
        # Lock order: primary key, like every multi-row lock in the product (DESIGN §3).
        for order in Order.objects.select_for_update().filter(pk__in=to_lock).order_by("pk"):
            locked[order.pk] = order

    outcomes: dict[int, Outcome] = {}
    new_orders: list[Order] = []
    paid_existing: list[Order] = []
    payments: list[Payment] = []
    figures = stats.Deltas()
    lines: dict[int, list] = {}  # id(order) -> its LineInputs
    done: list[tuple[int, object, Order, str]] = []  # (index, event, order, status after it)
    now = clock.now()
    for i, ev in items:
        d = ev.data
        key = (d.shop_id, d.order_number)
        try:
            if ev.type == "order.created":
                order, order_lines = _build(ctx, ev)
                if guarded:
                    try:
                        domain_events.order_placing.send(
                            sender=Order, order=order, lines=order_lines, batch=placing
                        )
                    except DomainError as exc:
                        # Its writes may be half done: the caller rolls the run back and
                        # replays it on the slow path, where the refusal is this order's alone.
                        raise GuardRefused(str(exc)) from exc
                new_orders.append(order)
                lines[id(order)] = order_lines
                ctx.fast_orders[key] = order
                figures.created(shop_id=order.shop_id, placed_at=order.placed_at)
            else:
                order = ctx.fast_orders.get(key)
                if order is None and key in ctx.orders:
                    order = locked.get(ctx.orders[key][0])
                if order is None:
                    raise Retryable(
                        f"No order {d.order_number!r} in shop {d.shop_id!r} (yet): its "
                        "order.created has not been received; retry later.",
                        code="unknown_order",
                    )
                services.order_pay_check(
                    order=order,
                    amount_minor=d.amount_minor,
                    method=d.method,
                    paid_at=ev.occurred_at,
                )
                payments.append(
                    Payment(
                        order=order,
                        external_id=d.payment_id,
                        amount_minor=d.amount_minor,
                        currency=order.currency,
                        method=d.method,
                        paid_at=ev.occurred_at,
                    )
                )
                order.status = OrderStatus.PAID
                order.amount_paid_minor = d.amount_minor
                order.payment_method = d.method
                order.paid_at = ev.occurred_at
                order.updated_at = now
                if order.pk is not None:
                    paid_existing.append(order)
                figures.paid(
                    shop_id=order.shop_id,
                    placed_at=order.placed_at,
                    paid_at=ev.occurred_at,
                    amount_minor=d.amount_minor,
                )
        except DomainError as exc:
            outcomes[i] = Outcome.rejected(exc)
        else:
            done.append((i, ev, order, order.status))

    if placing is not None:
        try:
            placing.run()  # the deferred guards, for every new order of the run at once
        except DomainError as exc:
            raise GuardRefused(str(exc)) from exc
    if new_orders:
        insert_objects(new_orders)  # their ids, for everything written after them
    if paid_existing:
        _mark_paid(paid_existing)
    log_events = [
        domain_events.row(
            "order.created",
            shop_id=order.shop_id,
            order_id=order.pk,
            occurred_at=order.placed_at,
            recorded_at=now,
            buyer_id=order.buyer_id,
        )
        if ev.type == "order.created"
        else domain_events.row(
            "order.paid",
            shop_id=order.shop_id,
            order_id=order.pk,
            occurred_at=ev.occurred_at,
            recorded_at=now,
            amount_minor=ev.data.amount_minor,
        )
        for _i, ev, order, _status in done
    ]
    for i, _ev, order, status in done:
        outcomes[i] = Outcome.applied({"order_id": order.pk, "order_status": status})
    by_index = dict(items)
    # The rest in one round trip, in this order: lines, payments, daily figures, the order
    # event log, the idempotency records (rows without model instances where nothing reads
    # them afterwards).
    _lines, event_ids, _records = write_many(
        [
            Rows(
                OrderLine,
                [
                    {
                        "order_id": o.pk,
                        "sku_id": x.sku.pk,
                        "quantity": x.quantity,
                        "unit_price_minor": x.unit_price_minor,
                    }
                    for o in new_orders
                    for x in lines[id(o)]
                ],
            ),
            payments,
            stats.statement(figures),
            Rows(OrderEvent, log_events),
            Rows(
                IngestedEvent,
                [
                    outcome.record_row(
                        integration_id=ctx.integration.pk,
                        event=by_index[i],
                        received_at=ctx.received_at,
                    )
                    for i, outcome in sorted(outcomes.items())
                    if outcome.recorded
                ],
            ),
        ]
    )
    figures.rows.clear()
    domain_events.written(event_ids)
    return outcomes


def _build(ctx: BatchContext, ev) -> tuple[Order, list[LineInput]]:
    d = ev.data
    # Through the lookups, not the prefetched dicts: a lost race earlier in the batch clears
    # the caches (``pipeline._lost_race``), and a miss must query again, not raise KeyError.
    shop = ctx.shop(d.shop_id)
    d.check_currency(shop.currency)
    data = d.order_input(
        shop=shop,
        buyer=ctx.buyer(d.buyer_id),
        sku=lambda code: ctx.sku(shop, code),
        placed_at=ev.occurred_at,
    )
    return services.order_build(data), list(data.lines)


def _mark_paid(orders: list[Order]) -> None:
    """Write the paid fields of ``orders`` in one statement.

    Not ``bulk_update``: its per-row ``CASE WHEN`` is quadratic to compile and plan (~1 s for
    500 rows). PostgreSQL: ``UPDATE … FROM unnest(arrays)``; elsewhere ``executemany``.
    """
    qn = connection.ops.quote_name
    table = qn(Order._meta.db_table)
    if connection.vendor == "postgresql":
        columns = [
            [o.pk for o in orders],
            [o.status for o in orders],
            [o.amount_paid_minor for o in orders],
            [o.payment_method for o in orders],
            [o.paid_at for o in orders],
            [o.updated_at for o in orders],
        ]
        sets = ", ".join(f"{qn(f)} = v.{qn(f)}" for f in _PAID_FIELDS)
        sql = (
            f"UPDATE {table} AS o SET {sets} FROM unnest(%s::bigint[], %s::varchar[], "  # noqa: S608
            "%s::bigint[], %s::varchar[], %s::timestamptz[], %s::timestamptz[]) "
            f"AS v(id, {', '.join(qn(f) for f in _PAID_FIELDS)}) WHERE o.{qn('id')} = v.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, columns)
        return
    sets = ", ".join(f"{qn(f)} = %s" for f in _PAID_FIELDS)
    adapt = connection.ops.adapt_datetimefield_value
    rows = [
        (
            o.status,
            o.amount_paid_minor,
            o.payment_method,
            adapt(o.paid_at),
            adapt(o.updated_at),
            o.pk,
        )
        for o in orders
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE {qn('id')} = %s", rows)  # noqa: S608
