"""The ``segment`` benchmark (SPEC M-4 live count): a segment's count through
``mailing.segments.count`` against the same count in hand-written SQL, over one shop holding
``--orders`` order rows.

    python -m bench.segment setup --orders 1000000 --buyers 100000 --tag T
    python -m bench.segment run --shop ID --repeats 5

``setup`` writes the shop, its buyers (a mix of countries, 70% opted in to marketing), orders
spread over a year (90% paid, some refunded, delivered or shipped), a few consents and
suppressions, all set-based (``INSERT … SELECT generate_series``), then ``VACUUM ANALYZE``.
``run`` times, for each segment definition below, the ORM count and the hand-written SQL
(alternating, ``--repeats`` each, the median kept), checks both give the same number, and
prints one JSON document (the harness's ``@@BENCH-JSON@@`` line).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

SHOP_PREFIX = "bench-segment-"
COUNTRIES = ["US", "FR", "DE", "BR", "RU", "ES", "CN", "GB", "PL", "KR"]


def _insert_select(cur, model, values: dict[str, str], from_sql: str, params: dict) -> None:
    """``INSERT INTO <model> (every column) SELECT …``: the given SQL expressions, and each other
    column's Django default as a parameter (the ORM's defaults are not database defaults)."""
    cols, exprs = [], []
    for f in model._meta.concrete_fields:
        if f.column in values:
            cols.append(f.column)
            exprs.append(values[f.column])
        elif f.primary_key:
            continue
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            cols.append(f.column)
            exprs.append("%(now)s")
        elif f.has_default():
            key = f"d_{f.column}"
            params[key] = f.get_default()
            cols.append(f.column)
            exprs.append(f"%({key})s")
        elif f.null:
            continue
        elif f.blank and f.empty_strings_allowed:
            cols.append(f.column)
            exprs.append("''")
        else:
            raise RuntimeError(f"{model.__name__}.{f.name} needs a value")
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(cols)}) "
        f"SELECT {', '.join(exprs)} {from_sql}"
    )
    cur.execute(sql, params)


def cmd_setup(args) -> dict:
    from django.db import connection, transaction

    from buyers.models import Buyer
    from mailing.models import Consent, Suppression
    from orders.models import Order
    from shops.models import Category
    from shops.services import shop_upsert

    now = datetime.now(UTC)
    shop = shop_upsert(
        external_id=f"{SHOP_PREFIX}{args.tag}",
        name=f"Bench segment {args.tag}",
        opened_at=now - timedelta(days=800),
        main_category=Category.HOME_GARDEN,
        enterprise_certified=True,
        store_level=3,
        store_rating="4.8",
        currency="CNY",
    )
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        params = {"now": now, "tag": args.tag, "countries": COUNTRIES}
        _insert_select(
            cur,
            Buyer,
            {
                "external_id": "'bseg-' || %(tag)s || '-' || g",
                "email": "'bseg' || %(tag)s || '-' || g || '@example.com'",
                "country": "(%(countries)s::text[])[1 + ((g / 10) + (g * 3)) %% 10]",
                "marketing_email_opt_in": "((g / 7) %% 10) < 7",
                "registered_at": "%(now)s - interval '700 days'",
            },
            f"FROM generate_series(1, {int(args.buyers)}) g",
            params,
        )
        cur.execute(
            "SELECT min(id), max(id) FROM buyers_buyer WHERE external_id LIKE %s",
            [f"bseg-{args.tag}-%"],
        )
        first, last = cur.fetchone()
        n_buyers = last - first + 1
        params = {"now": now, "tag": args.tag, "shop": shop.pk, "first": first, "nb": n_buyers}
        # Order g: buyer g mod B (10 orders per buyer at 1M/100k), placed up to a year ago;
        # 90% paid, 1 in 20 refunded in half, 60% delivered, 20% shipped.
        placed = "%(now)s - ((g::bigint * 7919) %% 525600) * interval '1 minute'"
        paid = "(g %% 10) <> 0"
        _insert_select(
            cur,
            Order,
            {
                "shop_id": "%(shop)s",
                "buyer_id": "%(first)s + (g %% %(nb)s)",
                "number": "'SEG-' || %(tag)s || '-' || g",
                "status": f"CASE WHEN NOT ({paid}) THEN 'pending_payment' "
                "WHEN g %% 5 < 3 THEN 'delivered' WHEN g %% 5 = 3 THEN 'shipped' ELSE 'paid' END",
                "currency": "'CNY'",
                "subtotal_minor": "1000 + (g %% 200) * 100",
                "amount_paid_minor": f"CASE WHEN {paid} THEN 1000 + (g %% 200) * 100 ELSE 0 END",
                "refunded_minor": f"CASE WHEN {paid} AND g %% 20 = 1 "
                "THEN (1000 + (g %% 200) * 100) / 2 ELSE 0 END",
                "placed_at": placed,
                "paid_at": f"CASE WHEN {paid} THEN {placed} + interval '5 minutes' END",
                "shipped_at": f"CASE WHEN {paid} AND g %% 5 < 4 "
                f"THEN {placed} + interval '1 day' END",
                "delivered_at": f"CASE WHEN {paid} AND g %% 5 < 3 "
                f"THEN {placed} + interval '6 days' END",
            },
            f"FROM generate_series(1, {int(args.orders)}) g",
            params,
        )
        # SPEC M-3 data: the EU buyers (FR, DE, ES, PL) confirmed in half the cases; 2% of
        # the buyers suppressed (unsubscribes, a few hard bounces still in quarantine).
        cur.execute(
            f"""
            INSERT INTO {Consent._meta.db_table}
                (shop_id, email, buyer_id, status, source, granted_at, confirmed_at, nonce,
                 evidence)
            SELECT %(shop)s, b.email, b.id, 'confirmed', 'double_opt_in', %(now)s, %(now)s, '', ''
            FROM buyers_buyer b
            WHERE b.id BETWEEN %(first)s AND %(first)s + %(nb)s - 1
              AND b.country IN ('FR', 'DE', 'ES', 'PL') AND (b.id / 3) %% 2 = 0
            """,
            params,
        )
        cur.execute(
            f"""
            INSERT INTO {Suppression._meta.db_table}
                (shop_id, email, reason, source, created_at, expires_at)
            SELECT %(shop)s, b.email,
                   CASE WHEN b.id %% 3 = 0 THEN 'hard_bounce' ELSE 'unsubscribe' END, 'bench',
                   %(now)s - interval '1 day',
                   CASE WHEN b.id %% 3 = 0 THEN %(now)s + interval '29 days' END
            FROM buyers_buyer b
            WHERE b.id BETWEEN %(first)s AND %(first)s + %(nb)s - 1 AND b.id %% 50 = 0
            """,
            params,
        )
    seconds = time.perf_counter() - t0
    connection.ensure_connection()
    old = connection.connection.autocommit
    connection.connection.autocommit = True
    with connection.cursor() as cur:
        for table in ("buyers_buyer", "orders_order", "mailing_consent", "mailing_suppression"):
            cur.execute(f"VACUUM ANALYZE {table}")
    connection.connection.autocommit = old
    return {"shop_id": shop.pk, "orders": args.orders, "buyers": n_buyers, "seconds": seconds}


# The segments measured (SPEC M-4), each with its hand-written SQL: the count of consenting,
# unsuppressed buyers of the shop whose orders match. %(…)s parameters are bound by psycopg.
_CONSENT_SQL = """
      AND b.email IS NOT NULL
      AND b.email NOT IN (SELECT email FROM mailing_suppression
                          WHERE shop_id = %(shop)s AND (expires_at IS NULL OR expires_at > %(now)s))
      AND (b.email IN (SELECT email FROM mailing_consent
                       WHERE shop_id = %(shop)s AND status = 'confirmed')
           OR (b.country <> ALL(%(doi)s)
               AND (b.marketing_email_opt_in
                    OR b.email IN (SELECT email FROM mailing_consent
                                   WHERE shop_id = %(shop)s AND status = 'granted'))))
"""

SEGMENTS = {
    # Repurchase cycle and spend tier: last paid order 30–180 days ago, spend ≥ ¥500.
    "repurchase_spend": (
        {"last_order_min_days": 30, "last_order_max_days": 180, "spend_min_minor": 50_000},
        f"""
        SELECT count(*) FROM (
          SELECT o.buyer_id
          FROM orders_order o JOIN buyers_buyer b ON b.id = o.buyer_id
          WHERE o.shop_id = %(shop)s {_CONSENT_SQL}
          GROUP BY o.buyer_id
          HAVING max(o.placed_at) FILTER (WHERE o.paid_at IS NOT NULL)
                   BETWEEN %(now)s - interval '180 days' AND %(now)s - interval '30 days'
             AND coalesce(sum(o.amount_paid_minor - o.refunded_minor)
                          FILTER (WHERE o.paid_at IS NOT NULL), 0) >= 50000
        ) s
        """,
    ),
    # Fulfilment: delivered in the last 7 days, in three countries.
    "delivered_7d_countries": (
        {"fulfilment": "delivered", "fulfilment_days": 7, "countries": ["US", "FR", "DE"]},
        f"""
        SELECT count(*) FROM (
          SELECT o.buyer_id
          FROM orders_order o JOIN buyers_buyer b ON b.id = o.buyer_id
          WHERE o.shop_id = %(shop)s AND b.country IN ('US', 'FR', 'DE') {_CONSENT_SQL}
          GROUP BY o.buyer_id
          HAVING max(o.delivered_at) >= %(now)s - interval '7 days'
        ) s
        """,
    ),
}


def _median_seconds(fn, repeats: int) -> tuple[float, int]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), int(result or 0)


def cmd_run(args) -> dict:
    from django.db import connection

    from core import clock
    from mailing import rules, segments
    from shops.models import Shop

    shop = Shop.objects.get(pk=args.shop)
    now = clock.now()
    numbers = rules.audience_numbers()
    out = {}
    for name, (definition, sql) in SEGMENTS.items():
        d = segments.SegmentDefinition.from_json(definition)
        params = {"shop": shop.pk, "now": now, "doi": sorted(numbers.double_opt_in_countries)}

        def orm(d=d):
            # The live count as the editor calls it, the registry read included.
            return segments.count(d, shop=shop, at=now)

        def raw(sql=sql, params=params):
            with connection.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchone()[0]

        orm(), raw()  # warm both (plans, caches)
        orm_times, raw_times, counts = [], [], set()
        for _ in range(args.repeats):  # alternate, so a noisy moment hits both sides
            t, n = _median_seconds(orm, 1)
            orm_times.append(t)
            counts.add(("orm", n))
            t, n = _median_seconds(raw, 1)
            raw_times.append(t)
            counts.add(("sql", n))
        values = {n for _side, n in counts}
        if len(values) != 1:
            raise SystemExit(f"segment {name}: ORM and SQL counts differ: {sorted(counts)}")
        out[name] = {
            "count": values.pop(),
            "orm_seconds": statistics.median(orm_times),
            "sql_seconds": statistics.median(raw_times),
        }
    return {"segments": out}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.segment")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("setup")
    p.add_argument("--orders", type=int, default=1_000_000)
    p.add_argument("--buyers", type=int, default=100_000)
    p.add_argument("--tag", required=True)
    p = sub.add_parser("run")
    p.add_argument("--shop", type=int, required=True)
    p.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    import django

    django.setup()
    result = {"setup": cmd_setup, "run": cmd_run}[args.cmd](args)
    sys.stdout.write("\n@@BENCH-JSON@@" + json.dumps(result, default=str) + "\n")


if __name__ == "__main__":
    main()
