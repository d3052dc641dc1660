"""The ``metrics`` benchmark's Django side (run through ``python -m bench.djangotasks``): the
SPEC E-3 hourly evaluation over many orders in many shops against one hand-written ``GROUP BY``
computing the same four rates from the raw orders.

``metrics-setup`` writes ``--shops`` shops and ``--orders`` orders (set-based, ``INSERT …
SELECT generate_series``) placed over the 29 days before ``--at``, with their shipments (some
official, some with a logistics anomaly), shipping verdicts (on time, late, void), activity
orders and their reviews (some "not as described"); then the daily figures are rebuilt from
those facts in one statement (``DAILY_FIGURES_SQL``: what the nightly reconcile,
``orders.services.daily_stats_rebuild``, does shop-day by shop-day), so the job reads what
production keeps. Nothing is left undecided for the fulfilment sweep but what production would
also have (parcels in transit with recent scans) — unless ``--backlog``: then the parcels in
transit were last scanned two days after shipping, and the first sweep records every one of
them gone quiet (a first run after an outage).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

BENCH_SHOP_PREFIX = "bench-metrics-"


def _spec_defaults(model, given: dict[str, str]) -> tuple[list[str], list[str], list]:
    """Columns, SQL expressions and params for an ``INSERT … SELECT``: ``given`` expressions,
    every other column its model default (the ORM's defaults live in Python, not the DB)."""
    from .djangotasks import _table_spec

    spec = _table_spec(model)
    cols, exprs, params = [], [], []
    for col, default in spec["columns"].items():
        if default == "__pk__":
            continue
        cols.append(col)
        if col in given:
            exprs.append(given[col])
        elif default == "__now__":
            exprs.append("now()")
        elif default == "__required__":
            raise RuntimeError(f"{spec['table']}.{col} needs a value")
        else:
            exprs.append("%s")
            params.append(default)
    return cols, exprs, params


def _insert_select(cur, model, given: dict[str, str], from_sql: str, params: dict) -> int:
    cols, exprs, defaults = _spec_defaults(model, given)
    # the given expressions use %(name)s; the defaults are positional: name them too
    named = {f"d{i}": v for i, v in enumerate(defaults)}
    it = iter(named)
    exprs = [e if e != "%s" else f"%({next(it)})s" for e in exprs]
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(cols)}) "
        f"SELECT {', '.join(exprs)} {from_sql}"
    )
    cur.execute(sql, {**params, **named})
    return cur.rowcount


# The bench shops' daily figures from their facts, set-based, where ``orders.stats`` puts each
# (SPEC E-3 columns: the order's placing day, reviews by posting day, natural days in the
# platform time zone). ``orders.services.daily_stats_rebuild`` computes the same shop-day by
# shop-day — about 100 s for 60,000 orders on the loaded machine, hours for 3,000,000.
DAILY_FIGURES_SQL = """
WITH o AS (
    SELECT o.shop_id, (o.placed_at AT TIME ZONE %(tz)s)::date AS day,
           COUNT(*) AS created,
           COUNT(*) FILTER (WHERE o.status = 'cancelled') AS cancelled,
           COUNT(*) FILTER (WHERE o.status = 'shipped') AS st_shipped,
           COUNT(*) FILTER (WHERE o.status = 'completed') AS st_completed,
           COUNT(*) FILTER (WHERE o.ship_verdict = 'on_time') AS on_time,
           COUNT(*) FILTER (WHERE o.ship_verdict = 'late') AS late,
           COUNT(s.id) AS shipped,
           COUNT(s.id) FILTER (WHERE s.anomaly_at IS NOT NULL AND NOT s.official) AS anomalies,
           COUNT(s.id) FILTER (WHERE s.anomaly_at IS NOT NULL AND s.official) AS anomalies_off
    FROM orders_order o LEFT JOIN orders_shipment s ON s.order_id = o.id
    WHERE o.shop_id = ANY(%(shops)s)
    GROUP BY 1, 2
), rv AS (
    SELECT r.shop_id, (r.posted_at AT TIME ZONE %(tz)s)::date AS day,
           COUNT(*) AS reviews,
           COUNT(*) FILTER (WHERE r.rating <= 2 AND lower(r.text) LIKE ANY(%(patterns)s)) AS neg
    FROM orders_review r JOIN orders_order ao ON ao.id = r.order_id
    WHERE r.shop_id = ANY(%(shops)s) AND ao.activity_id IS NOT NULL
    GROUP BY 1, 2
)
INSERT INTO orders_shopdailystats (
    shop_id, day, orders_created, orders_paid, orders_cancelled, orders_shipped, gmv_minor,
    refunded_minor, status_pending_payment, status_paid, status_shipped, status_delivered,
    status_completed, status_cancelled, status_refunded, feedback_total, feedback_positive,
    reviews, dsr_item_as_described_sum, dsr_communication_sum, dsr_shipping_sum,
    ship_on_time, ship_late, anomalies, anomalies_official, activity_reviews,
    activity_reviews_negative
)
SELECT COALESCE(o.shop_id, rv.shop_id), COALESCE(o.day, rv.day),
       COALESCE(o.created, 0), COALESCE(o.created, 0), COALESCE(o.cancelled, 0),
       COALESCE(o.shipped, 0), 0, 0, 0, 0, COALESCE(o.st_shipped, 0), 0,
       COALESCE(o.st_completed, 0), COALESCE(o.cancelled, 0), 0, 0, 0,
       COALESCE(rv.reviews, 0), 0, 0, 0,
       COALESCE(o.on_time, 0), COALESCE(o.late, 0), COALESCE(o.anomalies, 0),
       COALESCE(o.anomalies_off, 0), COALESCE(rv.reviews, 0), COALESCE(rv.neg, 0)
FROM o FULL OUTER JOIN rv ON rv.shop_id = o.shop_id AND rv.day = o.day
"""


def _daily_figures(shop_ids: list[int]) -> int:
    from django.conf import settings
    from django.db import connection, transaction

    from activities import rules

    patterns = [f"%{k.lower()}%" for k in rules.not_as_described_keywords()]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM orders_shopdailystats WHERE shop_id = ANY(%s)", [shop_ids])
        cur.execute(
            DAILY_FIGURES_SQL,
            {"shops": shop_ids, "tz": settings.PLATFORM_TIME_ZONE, "patterns": patterns},
        )
        return cur.rowcount


def cmd_metrics_setup(args) -> dict:
    from django.db import connection, transaction

    from buyers.models import Buyer
    from orders.models import Order, Review, Shipment
    from shops.models import Category, Product, Shop, Sku

    at = datetime.fromisoformat(args.at)
    prefix = f"{BENCH_SHOP_PREFIX}{args.tag}-"
    backlog = "true" if getattr(args, "backlog", False) else "false"
    t0 = time.perf_counter()
    categories = [c for c, _label in Category.choices]
    with transaction.atomic(), connection.cursor() as cur:
        fresh = not Shop.objects.filter(external_id__startswith=prefix).exists()
        fresh and _insert_select(
            cur,
            Shop,
            {
                "external_id": "%(prefix)s || g",
                "name": "'Bench metrics ' || g",
                "opened_at": "%(at)s::timestamptz - interval '400 days'",
                "main_category": "(%(cats)s::text[])[1 + g %% %(ncats)s]",
                "registration_region": "'CN'",
            },
            "FROM generate_series(1, %(shops)s) g",
            {
                "prefix": prefix,
                "at": at,
                "cats": categories,
                "ncats": len(categories),
                "shops": args.shops,
            },
        )
        shop_ids = list(
            Shop.objects.filter(external_id__startswith=prefix)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        buyer, _new = Buyer.objects.get_or_create(
            external_id=f"{prefix}buyer",
            defaults={
                "country": "US",
                "email": f"{prefix}buyer@bench.invalid",
                "registered_at": at - timedelta(days=400),
            },
        )
        shop0 = Shop.objects.get(pk=shop_ids[0])
        product, _new = Product.objects.get_or_create(
            shop=shop0, external_id=f"{prefix}p", defaults={"title": "Bench", "category": "toys"}
        )
        sku, _new = Sku.objects.get_or_create(
            shop=shop0,
            code=f"{prefix}sku",
            defaults={"product": product, "currency": "USD", "price_minor": 10_00},
        )
        have = Order.objects.filter(shop_id__in=shop_ids).count()
        if have >= args.last:  # a kept database: these orders exist already
            args.first = args.last + 1
        else:
            args.first = max(args.first, have + 1)
        # r: a deterministic pseudo-random per order; k: the shop's skew (some shops are worse)
        p = {
            "shops": shop_ids,
            "n": len(shop_ids),
            "first": args.first,
            "last": args.last,
            "at": at,
            "tag": args.tag,
            "buyer": buyer.pk,
        }
        base = (
            "FROM (SELECT g, (g * 7919 + g / 13) %% 1000 AS r, "
            "(g %% %(n)s) %% 9 * 12 AS k, (%(shops)s::bigint[])[1 + g %% %(n)s] AS shop, "
            "%(at)s::timestamptz - interval '1 hour' - (g %% 41760) * interval '1 minute' AS t "
            "FROM generate_series(%(first)s::bigint, %(last)s::bigint) g) x"
        )
        cancelled = "(r + k) %% 1000 < 60"
        orders_n = _insert_select(
            cur,
            Order,
            {
                "shop_id": "shop",
                "buyer_id": "%(buyer)s",
                "number": "'BM-' || %(tag)s || '-' || g",
                "status": f"CASE WHEN {cancelled} THEN 'cancelled' "
                "WHEN r %% 33 = 0 THEN 'shipped' ELSE 'completed' END",
                "currency": "'USD'",
                "subtotal_minor": "10000",
                "amount_paid_minor": "10000",
                "payment_method": "'card'",
                "logistics_service": "CASE WHEN r %% 2 = 0 THEN 'aliexpress_standard' "
                "ELSE 'cainiao_super_economy' END",
                "tracking_number": f"CASE WHEN {cancelled} THEN '' ELSE 'TN' || g END",
                "activity_id": "CASE WHEN r %% 10 = 0 THEN 1 END",
                "country": "'US'",
                "placed_at": "t",
                "paid_at": "t + interval '5 minutes'",
                "shipped_at": f"CASE WHEN {cancelled} THEN NULL ELSE t + interval '1 day' END",
                "completed_at": f"CASE WHEN {cancelled} OR r %% 33 = 0 THEN NULL "
                "ELSE t + interval '10 days' END",
                "cancelled_at": f"CASE WHEN {cancelled} THEN t + interval '1 hour' END",
                "ship_verdict": f"CASE WHEN {cancelled} THEN 'void' "
                "WHEN (r * 3 + k) %% 1000 < 150 THEN 'late' ELSE 'on_time' END",
            },
            base,
            p,
        )
        _insert_select(
            cur,
            Shipment,
            {
                "order_id": "o.id",
                "carrier": "o.logistics_service",
                "tracking_number": "o.tracking_number",
                "official": "o.logistics_service = 'aliexpress_standard'",
                "shipped_at": "o.shipped_at",
                # parcels in transit were scanned an hour ago (the steady state of an hourly
                # sweep: nothing left for it to record); the others two days after shipping.
                # --backlog: those in transit too, so the first sweep finds them quiet.
                "last_event_at": f"CASE WHEN o.status = 'shipped' AND NOT {backlog} "
                "THEN GREATEST(o.shipped_at, %(at)s::timestamptz - interval '1 hour') "
                "ELSE o.shipped_at + interval '2 days' END",
                "last_progress_at": f"CASE WHEN o.status = 'shipped' AND NOT {backlog} "
                "THEN GREATEST(o.shipped_at, %(at)s::timestamptz - interval '1 hour') "
                "ELSE o.shipped_at + interval '2 days' END",
                "anomaly_at": "CASE WHEN o.id %% 16 = 0 THEN o.shipped_at + interval '3 days' END",
            },
            "FROM orders_order o WHERE o.shop_id = ANY(%(shops)s) AND o.status <> 'cancelled' "
            "AND o.shipped_at < %(at)s::timestamptz AND o.number LIKE 'BM-' || %(tag)s || '-%%' "
            "AND NOT EXISTS (SELECT 1 FROM orders_shipment x WHERE x.order_id = o.id)",
            p,
        )
        _insert_select(
            cur,
            Review,
            {
                "order_id": "o.id",
                "shop_id": "o.shop_id",
                "sku_id": "%(sku)s",
                "buyer_id": "o.buyer_id",
                "rating": "1 + o.id %% 5",
                "text": "CASE WHEN o.id %% 3 = 0 THEN 'Not as described' ELSE 'ok' END",
                "language": "'en'",
                "dsr_item_as_described": "5",
                "dsr_communication": "5",
                "dsr_shipping": "5",
                "posted_at": "LEAST(o.placed_at + interval '3 days', %(at)s::timestamptz)",
            },
            "FROM orders_order o WHERE o.shop_id = ANY(%(shops)s) AND o.activity_id IS NOT NULL "
            "AND o.status = 'completed' "
            "AND NOT EXISTS (SELECT 1 FROM orders_review x WHERE x.order_id = o.id)",
            {**p, "sku": sku.pk},
        )
    written = time.perf_counter() - t0
    days = _daily_figures(shop_ids)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE orders_order")
        cur.execute("VACUUM ANALYZE orders_shipment")
        cur.execute("VACUUM ANALYZE orders_review")
        cur.execute("VACUUM ANALYZE orders_shopdailystats")
    return {
        "shops": len(shop_ids),
        "orders": orders_n,
        "shop_days": days,
        "write_seconds": written,
        "seconds": time.perf_counter() - t0,
        "prefix": prefix,
    }


# The baseline: the four rates of every shop from the raw orders of the 30-day window, in one
# statement — cancel (cancelled / created), late shipment (late / decided verdicts), logistics
# anomaly (official anomalies × weight + others, over shipped orders), negative review (reviews
# of activity orders rated ≤ 2 matching a keyword, over reviews of activity orders).
METRICS_SQL = """
WITH o AS (
    SELECT o.shop_id,
           COUNT(*) AS created,
           COUNT(*) FILTER (WHERE o.status = 'cancelled') AS cancelled,
           COUNT(*) FILTER (WHERE o.ship_verdict = 'late') AS late,
           COUNT(*) FILTER (WHERE o.ship_verdict IN ('on_time', 'late')) AS decided,
           COUNT(s.id) AS shipped,
           COUNT(s.id) FILTER (WHERE s.anomaly_at IS NOT NULL AND NOT s.official) AS anomalies,
           COUNT(s.id) FILTER (WHERE s.anomaly_at IS NOT NULL AND s.official) AS anomalies_off
    FROM orders_order o
    LEFT JOIN orders_shipment s ON s.order_id = o.id
    WHERE o.placed_at >= %(start)s AND o.placed_at < %(end)s
    GROUP BY o.shop_id
), rv AS (
    SELECT r.shop_id,
           COUNT(*) AS reviews,
           COUNT(*) FILTER (
               WHERE r.rating <= 2 AND lower(r.text) LIKE ANY(%(patterns)s)
           ) AS negative
    FROM orders_review r JOIN orders_order ao ON ao.id = r.order_id
    WHERE ao.activity_id IS NOT NULL AND r.posted_at >= %(start)s AND r.posted_at < %(end)s
    GROUP BY r.shop_id
)
SELECT o.shop_id,
       o.cancelled * 100.0 / NULLIF(o.created, 0),
       o.late * 100.0 / NULLIF(o.decided, 0),
       (o.anomalies + o.anomalies_off * %(weight)s) * 100.0 / NULLIF(o.shipped, 0),
       rv.negative * 100.0 / NULLIF(rv.reviews, 0),
       o.cancelled, o.created
FROM o LEFT JOIN rv ON rv.shop_id = o.shop_id
"""


def cmd_metrics_run(args) -> dict:
    """One side, timed inside the process: ``job`` = ``activities.services.metrics_evaluate``
    (fulfilment sweep, window sums, incidents, judging, snapshots, exits); ``sql`` =
    ``METRICS_SQL``. Both report the cancel figures of the bench shops, to prove they agree."""
    from django.db import connection, transaction

    from activities import rules
    from activities.models import MetricSnapshot
    from activities.services import metrics_evaluate, window_bounds
    from core import clock

    at = datetime.fromisoformat(args.at)
    prefix = f"{BENCH_SHOP_PREFIX}{args.tag}-"
    start = time.perf_counter()
    sweep_seconds = 0.0
    if args.side == "job":
        from activities.services import evaluation

        sweep = evaluation.orders_services.fulfilment_sweep

        def timed_sweep(**kwargs):
            nonlocal sweep_seconds
            t = time.perf_counter()
            try:
                return sweep(**kwargs)
            finally:
                sweep_seconds = time.perf_counter() - t

        evaluation.orders_services.fulfilment_sweep = timed_sweep
        try:
            result = metrics_evaluate(now=at)
        finally:
            evaluation.orders_services.fulfilment_sweep = sweep
        seconds = time.perf_counter() - start
        snaps = MetricSnapshot.objects.filter(
            evaluation=result.evaluation, shop__external_id__startswith=prefix
        ).values_list("shop_id", "metrics")
        cancel = {
            shop: (int(m["cancel"]["numerator"]), m["cancel"]["denominator"]) for shop, m in snaps
        }
        shops = result.evaluation.shops
    else:
        limits = rules.current_limits()
        _first, lo, hi = window_bounds(day=clock.natural_day(at), days=limits.window_days)
        patterns = [f"%{k.lower()}%" for k in rules.not_as_described_keywords()]
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                METRICS_SQL,
                {
                    "start": lo,
                    "end": hi,
                    "patterns": patterns,
                    "weight": limits.official_weight,
                },
            )
            rows = cur.fetchall()
        seconds = time.perf_counter() - start
        ids = set(
            __import__("shops.models", fromlist=["Shop"])
            .Shop.objects.filter(external_id__startswith=prefix)
            .values_list("pk", flat=True)
        )
        cancel = {r[0]: (int(r[5]), int(r[6])) for r in rows if r[0] in ids}
        shops = len(rows)
    total = [sum(v[0] for v in cancel.values()), sum(v[1] for v in cancel.values())]
    return {
        "seconds": seconds,
        "sweep_seconds": sweep_seconds,
        "shops": shops,
        "cancel": total,
        "bench_shops": len(cancel),
    }
