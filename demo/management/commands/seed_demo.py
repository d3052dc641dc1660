"""``python manage.py seed_demo``: a believable, deterministic demo marketplace.

Shops (healthy, late shippers, high cancellers, new, with serious violations), their
catalogue and logistics, thousands of buyers, tens of thousands of orders over the last 60
days with payments, shipments, tracking, refunds, disputes, reviews and feedback, abandoned
carts, and the demo logins; then each module's own demo data (``demo/hooks.py``: every installed
app's ``demo.seed``).

Shops, products, buyers, logistics, violations, memberships and carts go through the real
services. The first ``--service-orders`` orders go through the real per-order services too;
every other order is built by ``demo.bulk`` with the same semantics and written in bulk, with
the same order event log rows (so every consumer of the log sees them) and daily figures; only
the in-process ``order_placing`` signal is not sent. ``ShopDailyStats`` is re-derived at the end
with ``orders.services.daily_stats_rebuild()`` as a check.

Orders are generated, written and dropped chunk by chunk, so memory stays flat however many
orders are asked for (``--orders 1000000`` on PostgreSQL, where rows go through COPY).

Deterministic: ``--seed`` seeds one ``random.Random`` per part (shops, buyers, carts, orders;
never the global one), and every time is an offset from the run's ``core.clock.now()``. The
path an order takes (services or bulk) draws nothing, so it never changes the data.
"""

from __future__ import annotations

import random
import time
from itertools import batched, islice

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count

from buyers.models import Buyer
from core import clock
from demo import bulk, hooks
from demo.world import world
from demo.world.planner import OrderPlanner
from orders import eventlog, services, stats
from orders.models import (
    Cart,
    CartLine,
    ConsumedEvent,
    ConsumerCursor,
    ConsumerFailure,
    Dispute,
    Feedback,
    IngestedEvent,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Refund,
    Review,
    Shipment,
    ShopDailyStats,
    TrackingEvent,
)
from shops.models import LogisticsSetting, Membership, Product, Shop, Sku, Violation

WINDOW_DAYS = 60
LOGINS = [
    ("demo / demo", "owner of 4 shops: healthy, late shipper, new, high canceller"),
    ("demo_marketer / demo", "marketer of the first shop"),
    ("demo_analyst / demo", "analyst (read-only) of the first shop"),
    ("admin / admin", "Django admin superuser (/admin/)"),
    ("promoter1@promoters.example.com / demo", "promoter portal (/promoter/)"),
]

# Children before parents: the order the ORM deletes them in when TRUNCATE is not available.
# Received event ids go too: a batch replayed after a flush applies again instead of answering
# `duplicate` for orders that no longer exist.
MARKETPLACE_MODELS = [
    ConsumedEvent,
    ConsumerFailure,
    ConsumerCursor,
    OrderEvent,
    IngestedEvent,
    TrackingEvent,
    Shipment,
    OrderLine,
    Payment,
    Refund,
    Dispute,
    Review,
    Feedback,
    Order,
    CartLine,
    Cart,
    ShopDailyStats,
    Buyer,
    Membership,
    Violation,
    LogisticsSetting,
    Sku,
    Product,
    Shop,
]


class Command(BaseCommand):
    help = (
        "Seed a deterministic demo marketplace (shops, buyers, orders over the last 60 days, "
        "logins demo/demo and admin/admin). The first --service-orders orders go through the "
        "per-order services; the rest are bulk-created with the same rows, daily figures and "
        "order events. Refuses to run on a database "
        "that already has shops unless --flush (wipe first) or --if-empty (do nothing)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument(
            "--shops", type=int, default=20, help="number of shops (default 20, min 4)"
        )
        parser.add_argument(
            "--buyers", type=int, default=5000, help="number of buyers (default 5000)"
        )
        parser.add_argument(
            "--orders", type=int, default=50000, help="number of orders (default 50000)"
        )
        parser.add_argument(
            "--service-orders",
            type=int,
            default=200,
            help="how many of the orders go through the per-order services (default 200)",
        )
        parser.add_argument(
            "--chunk-size", type=int, default=5000, help="orders per bulk chunk (default 5000)"
        )
        parser.add_argument(
            "--flush",
            action="store_true",
            help="wipe marketplace data first: orders, carts, buyers, shops, received event ids "
            "and everything that references them (on PostgreSQL: TRUNCATE … CASCADE). Users and "
            "integrations are kept.",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing (exit 0) when shops already exist"
        )

    def handle(self, *args, **opts):
        if opts["shops"] < 4:
            raise CommandError("--shops must be at least 4 (the demo login owns four shops).")
        if opts["buyers"] < 1 or min(opts["orders"], opts["service_orders"]) < 0:
            raise CommandError(
                "--buyers must be at least 1; --orders and --service-orders 0 or more."
            )
        if opts["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        existing = Shop.objects.count()
        if existing and opts["if_empty"] and not opts["flush"]:
            if opts["verbosity"] >= 2:
                self.stdout.write(f"seed_demo: {existing} shops already exist; nothing to do.")
            return
        if existing and not opts["flush"]:
            raise CommandError(
                f"The database already has {existing} shop(s) (e.g. from `make run`). To wipe "
                "the marketplace data and seed again, run: manage.py seed_demo --flush "
                "(or --if-empty to keep what is there)."
            )
        self.verbose = opts["verbosity"] >= 1
        started = time.monotonic()
        if opts["flush"]:
            self._say("Flushing marketplace data…")
            flush_marketplace()
        seed = opts["seed"]
        rng = random.Random(seed)
        now = clock.now()

        self._say(f"Seeding the demo marketplace (seed {seed}).")
        with transaction.atomic():
            users = world.ensure_users()
            shops = world.create_shops(
                rng=rng, count=opts["shops"], now=now, window_days=WINDOW_DAYS
            )
            world.grant_demo_memberships(shops, users)
        products = Product.objects.count()
        self._say(f"  shops: {len(shops)} with {products} products ({self._since(started)})")

        t = time.monotonic()
        # Own random streams per part, so --orders does not change who the buyers are.
        with transaction.atomic():
            buyers = world.create_buyers(
                rng=random.Random(f"{seed}-buyers"), count=opts["buyers"], now=now
            )
        self._say(f"  buyers: {len(buyers)} ({self._since(t)})")

        t = time.monotonic()
        carts = world.create_carts(
            rng=random.Random(f"{seed}-carts"), buyers=buyers, shops=shops, now=now
        )
        self._say(f"  carts: {carts} ({self._since(t)})")

        counts = self._orders(
            opts, rng=random.Random(f"{seed}-orders"), shops=shops, buyers=buyers, now=now
        )

        t = time.monotonic()
        # What the passing of time decided over the seeded past (deadlines missed, parcels gone
        # quiet, SPEC E-3), as the hourly sweep would have recorded it.
        swept = services.fulfilment_sweep(now=now)
        self._say(
            f"  fulfilment: {swept.late} late shipments, {swept.anomalies} logistics anomalies"
        )
        days = services.daily_stats_rebuild()
        self._say(f"  daily stats: {days} shop-days rebuilt ({self._since(t)})")

        # Each module's own demo data (demo/hooks.py), on top of the marketplace just seeded.
        t = time.monotonic()
        with transaction.atomic():
            seeded = hooks.seed_all(shops=[info.shop for info in shops], seed=seed, now=now)
        if seeded:
            self._say(f"  modules: {', '.join(seeded)} ({self._since(t)})")
        # The seeded past is history, not news: each order-event consumer starts after it (its
        # module's demo hook seeded whatever it needs), instead of the worker replaying hundreds
        # of thousands of events through the embedded database at the first beat.
        moved = eventlog.start_consumers_after_history()
        if moved:
            self._say(f"  order event consumers start after event #{moved}")
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Fresh planner statistics, so the first pages and benchmarks after a big seed
            # do not plan their queries for empty tables (autovacuum would take a while).
            tables = ", ".join(
                connection.ops.quote_name(m._meta.db_table) for m in MARKETPLACE_MODELS
            )
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {tables}")
        self._summary(counts, started)

    # --- orders --------------------------------------------------------------------------------

    def _orders(self, opts, *, rng, shops, buyers, now) -> bulk.WriteCounts:
        total = opts["orders"]
        counts = bulk.WriteCounts()
        if not total:
            return counts
        planner = OrderPlanner(
            rng=rng, shops=shops, buyers=buyers, now=now, window_days=WINDOW_DAYS
        )
        plans = planner.plans(total)
        t = time.monotonic()
        sample = min(opts["service_orders"], total)
        if sample:
            # The services path, step by step (events emitted once the transaction commits).
            with transaction.atomic():
                for plan in islice(plans, sample):
                    bulk.apply_with_services(plan)
            counts.orders += sample
            self._say(f"  orders: {sample} through the services ({self._since(t)})")
        writer = bulk.BulkWriter()
        t = time.monotonic()
        done = 0
        rest = total - sample
        tty = self.stdout.isatty()
        step = max(rest // 10, 1)  # without a terminal: a line every tenth of the way
        shown = 0
        for chunk in batched(plans, max(1, opts["chunk_size"])):
            # Generate, write, drop: one chunk in memory at a time, however many orders.
            figures = stats.Deltas()
            rows = [bulk.build_order_rows(plan, figures) for plan in chunk]
            counts.add(writer.write(rows, figures=figures))
            done += len(rows)
            del rows, chunk
            if self.verbose and (tty or done - shown >= step or done == rest):
                shown = done
                elapsed = max(time.monotonic() - t, 1e-6)
                line = f"  orders: {done}/{rest} bulk ({done / elapsed:,.0f} orders/s)"
                self.stdout.write(line, ending="\r" if tty and done < rest else "\n")
                self.stdout.flush()
        return counts

    # --- output --------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        if self.verbose:
            self.stdout.write(text)

    @staticmethod
    def _since(t: float) -> str:
        return f"{time.monotonic() - t:.1f} s"

    def _summary(self, counts: bulk.WriteCounts, started: float) -> None:
        if not self.verbose:
            return
        statuses = dict(Order.objects.values_list("status").annotate(n=Count("id")).order_by())
        figures = [
            (Shop, "shops"),
            (Sku, "SKUs"),
            (Buyer, "buyers"),
            (Order, "orders"),
            (Shipment, "shipments"),
            (TrackingEvent, "tracking events"),
            (Refund, "refunds"),
            (Dispute, "disputes"),
            (Review, "reviews"),
            (Feedback, "feedback"),
            (Cart, "carts"),
        ]
        self.stdout.write(
            f"Done in {self._since(started)}: "
            + ", ".join(f"{m.objects.count()} {label}" for m, label in figures)
            + "\nOrders by status: "
            + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        )
        self.stdout.write(self.style.SUCCESS("Logins (existing users keep their passwords):"))
        for login, what in LOGINS:
            self.stdout.write(f"  {login:<22} {what}")


def flush_marketplace() -> None:
    """Wipe orders, carts, buyers and shops (and, on PostgreSQL, whatever references them), and
    the exchange rates the demo seeded (rates an admin entered stay)."""
    from core.demo import SOURCE
    from core.models import FxRate

    FxRate.objects.filter(source=SOURCE).delete()
    if connection.vendor == "postgresql":
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in MARKETPLACE_MODELS)
        with connection.cursor() as cursor:
            # Inside a transaction that already wrote these tables, deferred foreign-key checks
            # are pending and PostgreSQL refuses TRUNCATE: run them now, then defer again.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {tables} CASCADE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        return
    # Elsewhere (SQLite): TRUNCATE … CASCADE by hand, in one transaction. Every table that
    # references a marketplace table, directly or through another such table (the modules'
    # rows about shops and orders: coin ledgers, shop balance entries, notifications, …), is
    # emptied with the marketplace tables, with one DELETE each — as PostgreSQL's CASCADE
    # does, and never through the ORM, whose PROTECT foreign keys (ledgers) would refuse.
    # Append-only ledgers refuse a DELETE with a trigger (coins 0002, shops 0002): their
    # DELETE triggers are dropped for the flush and created again in the same transaction.
    tables = _cascade_tables()
    quoted = {connection.ops.quote_name(t) for t in tables}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("PRAGMA defer_foreign_keys = ON")
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE "
            "'%BEFORE DELETE%'"
        )
        triggers = [(name, sql) for name, sql in cursor.fetchall()]
        triggers = [
            (n, sql) for n, sql in triggers if any(f" ON {t}" in sql for t in tables | quoted)
        ]
        for name, _sql in triggers:
            cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
        for table in tables:
            # table names from model meta
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608
        for _name, sql in triggers:
            cursor.execute(sql)


def _cascade_tables() -> set[str]:
    """The marketplace tables and every table whose rows reference them, transitively."""
    from django.apps import apps

    inside = set(MARKETPLACE_MODELS)
    grew = True
    while grew:
        grew = False
        for model in apps.get_models(include_auto_created=True):
            if model in inside:
                continue
            if any(
                f.concrete
                and f.is_relation
                and (f.many_to_one or f.one_to_one)
                and f.related_model in inside
                for f in model._meta.get_fields()
            ):
                inside.add(model)
                grew = True
    return {m._meta.db_table for m in inside}
