"""Set-up steps that need Django, run by the harness in a subprocess against the bench database.

    python -m bench.djangotasks users --count 16 --password PW
    python -m bench.djangotasks ingest-fixtures --shops 4 --buyers 400 --products 40
    python -m bench.djangotasks ingest-cleanup
    python -m bench.djangotasks register-cleanup

Each prints one JSON document on stdout. The harness itself stays Django-free, so its load
generators do not share a process (or a GIL) with an ORM.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

INGEST_SHOP_PREFIX = "bench-ingest-"
USER_PREFIX = "bench-user-"


def _setup() -> None:
    import django

    django.setup()


def cmd_users(args) -> dict:
    """``count`` users, each the owner of a different shop (the shops with the most orders)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from orders.models import Order
    from shops.models import Membership, Role, Shop

    top = list(
        Order.objects.exclude(shop__external_id__startswith=INGEST_SHOP_PREFIX)
        .values("shop_id")
        .annotate(n=Count("id"))
        .order_by("-n")[: args.count]
    )
    if not top:
        shops = list(
            Shop.objects.exclude(external_id__startswith=INGEST_SHOP_PREFIX).values_list(
                "id", flat=True
            )
        )
        top = [{"shop_id": sid, "n": 0} for sid in shops[: args.count]]
    if not top:
        raise SystemExit("no shops in the bench database: did seeding run?")
    User = get_user_model()
    out = []
    for i in range(args.count):
        row = top[i % len(top)]  # fewer shops than sessions: shops are shared round-robin
        username = f"{USER_PREFIX}{i + 1:02d}"
        user, _ = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@bench.invalid"}
        )
        user.set_password(args.password)
        user.is_active = True
        user.save()
        # Exactly one membership: the session lands on that shop.
        Membership.objects.filter(user=user).exclude(shop_id=row["shop_id"]).delete()
        Membership.objects.update_or_create(
            user=user, shop_id=row["shop_id"], defaults={"role": Role.OWNER}
        )
        out.append({"username": username, "shop_id": row["shop_id"], "orders": row["n"]})
    return {"users": out}


def _table_spec(model) -> dict:
    """Column -> default for a bulk insert that bypasses the ORM (the ingest baseline)."""
    cols = {}
    for f in model._meta.concrete_fields:
        if f.primary_key:
            default = "__pk__"
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            default = "__now__"
        elif f.has_default():
            default = f.get_default()
        elif f.null:
            default = None
        elif f.blank and f.empty_strings_allowed:
            default = ""  # what the ORM stores for a blank CharField
        else:
            default = "__required__"
        cols[f.column] = default
    seq = f"{model._meta.db_table}_{model._meta.pk.column}_seq"
    return {"table": model._meta.db_table, "columns": cols, "sequence": seq}


def cmd_ingest_fixtures(args) -> dict:
    """Shops, products and buyers that the ingest benchmark's orders refer to.

    They are separate from the seeded shops (prefix ``bench-ingest-``) so that the ingested
    orders can be deleted afterwards and a kept database stays as seeded.
    """
    from buyers.services import buyer_upsert
    from orders.models import Order, OrderLine, Payment
    from shops.models import Category
    from shops.services import product_upsert, shop_upsert

    cmd_ingest_cleanup(args)
    opened = datetime(2020, 1, 1, tzinfo=UTC)
    shops = []
    for s in range(args.shops):
        shop = shop_upsert(
            external_id=f"{INGEST_SHOP_PREFIX}{s + 1}",
            name=f"Bench ingest shop {s + 1}",
            opened_at=opened,
            main_category=Category.HOME_GARDEN,
            enterprise_certified=True,
            store_level=3,
            store_rating="4.8",
            currency="USD",
        )
        skus = []
        for p in range(args.products):
            code = f"BI{s + 1}-P{p + 1:03d}"
            price = 199 + (p * 137) % 9800
            product = product_upsert(
                shop=shop,
                external_id=f"{INGEST_SHOP_PREFIX}{s + 1}-p{p + 1}",
                title=f"Bench product {p + 1}",
                category=Category.HOME_GARDEN,
                skus=[{"code": code, "price_minor": price, "stock": 1_000_000}],
            )
            sku = product.skus.get(code=code)
            skus.append(
                {
                    "code": sku.code,
                    "id": sku.pk,
                    "price_minor": sku.price_minor,
                    "product_external_id": product.external_id,
                }
            )
        shops.append(
            {
                "external_id": shop.external_id,
                "id": shop.pk,
                "currency": shop.currency,
                "skus": skus,
            }
        )
    buyers = []
    registered = datetime.now(UTC) - timedelta(days=400)
    for b in range(args.buyers):
        ext = f"{INGEST_SHOP_PREFIX}buyer-{b + 1}"
        buyer = buyer_upsert(
            external_id=ext, email=f"{ext}@bench.invalid", country="US", registered_at=registered
        )
        buyers.append(
            {"external_id": ext, "id": buyer.pk, "email": buyer.email, "country": buyer.country}
        )
    return {
        "shops": shops,
        "buyers": buyers,
        "tables": {
            "order": _table_spec(Order),
            "orderline": _table_spec(OrderLine),
            "payment": _table_spec(Payment),
        },
    }


def cmd_ingest_cleanup(args) -> dict:
    """Delete what the ingest benchmark wrote into its own shops (orders cascade)."""
    from django.db import transaction

    from orders.models import Order, ShopDailyStats

    with transaction.atomic():
        qs = Order.objects.filter(shop__external_id__startswith=INGEST_SHOP_PREFIX)
        deleted, _ = qs.delete()
        ShopDailyStats.objects.filter(shop__external_id__startswith=INGEST_SHOP_PREFIX).delete()
        try:
            from orders.models import IngestedEvent

            try:
                from integrations.models import Integration
            except ImportError:  # a tree from before integrations/ (issue 6)
                from orders.models import Integration
        except ImportError:
            pass
        else:
            n, _ = IngestedEvent.objects.filter(
                integration__name__startswith=INGEST_SHOP_PREFIX
            ).delete()
            deleted += n
            Integration.objects.filter(name__startswith=INGEST_SHOP_PREFIX).delete()
    return {"deleted": deleted}


def cmd_register_cleanup(args) -> dict:
    """Delete the buyers (and their codes) the register benchmark wrote."""
    from buyers.models import Buyer, VerificationCode

    codes, _ = VerificationCode.objects.filter(contact__startswith="bench-reg-").delete()
    deleted, _ = Buyer.objects.filter(email__startswith="bench-reg-").delete()
    return {"deleted": deleted + codes}


def cmd_integration(args) -> dict:
    """A new integration (SPEC §0 contract): its key id and its secret, shown once.

    Through the service when it is there (no output format to parse), else through
    ``manage.py integration_create NAME``.
    """
    try:
        from integrations.services import integration_create
    except ImportError:
        try:  # a tree from before integrations/ (issue 6)
            from orders.ingest.integrations import integration_create
        except ImportError:
            integration_create = None
    if integration_create is not None:
        integration, secret = integration_create(name=args.name)
        return {"key_id": integration.key_id, "secret": secret, "id": integration.pk}

    import io
    import re

    from django.core.management import call_command

    out = io.StringIO()
    call_command("integration_create", args.name, stdout=out)
    text = out.getvalue()
    key = re.search(r"key[ _-]?id\W+(\S+)", text, re.IGNORECASE)
    secret = re.search(r"secret\W+(\S+)", text, re.IGNORECASE)
    if not key or not secret:
        raise SystemExit(f"cannot read key id and secret from integration_create output:\n{text}")
    return {"key_id": key.group(1), "secret": secret.group(1)}


# --- coins: expiry (SPEC C-6) ----------------------------------------------------------------

EXPIRY_SHOP_PREFIX = "bench-expiry-"
EXPIRY_LOT_COINS = 100


def cmd_expiry_setup(args) -> dict:
    """Two coin shops (``job`` and ``sql`` sides) holding ``--lots`` lots each over ``--wallets``
    wallets, with a balanced ledger (a top-up, one grant per wallet), written set-based. The
    ``job`` side's lots are due at ``job_at``, the ``sql`` side's only at ``sql_at``, so each
    side expires only its own. Ledger rows are append-only: every run makes its own shops."""
    from django.db import connection, transaction

    from buyers.models import Buyer
    from buyers.services import buyer_upsert
    from coins.models import CoinAccount, CoinFund
    from shops.models import Category
    from shops.services import shop_upsert

    now = datetime.now(UTC)
    per = max(1, args.lots // args.wallets)
    have = Buyer.objects.count()
    for b in range(have, args.wallets):
        ext = f"{EXPIRY_SHOP_PREFIX}buyer-{b + 1}"
        buyer_upsert(external_id=ext, email=f"{ext}@bench.invalid", country="US", registered_at=now)
    sides = {}
    for side, due in (("job", now - timedelta(days=1)), ("sql", now + timedelta(days=10))):
        shop = shop_upsert(
            external_id=f"{EXPIRY_SHOP_PREFIX}{args.tag}-{side}",
            name=f"Bench expiry {side} {args.tag}",
            opened_at=now - timedelta(days=400),
            main_category=Category.HOME_GARDEN,
            enterprise_certified=True,
            store_level=3,
            store_rating="4.8",
            currency="CNY",
        )
        total = per * args.wallets * EXPIRY_LOT_COINS
        with transaction.atomic(), connection.cursor() as cur:
            # A bench fixture: the account without the C-1 checks (no feedback history here).
            account = CoinAccount.objects.create(
                shop=shop, coin_id=f"BENCH-{args.tag}-{side}", opened_at=now
            )
            CoinFund.objects.create(
                account=account, shop=shop, topped_up=total, reserved=total, available=0, spent=0
            )
            cur.execute(
                """
                INSERT INTO coins_coinwallet (shop_id, buyer_id, balance, created_at)
                SELECT %(shop)s, b.id, %(bal)s, %(now)s
                FROM (SELECT id FROM buyers_buyer ORDER BY id LIMIT %(w)s) b
                """,
                {"shop": shop.pk, "bal": per * EXPIRY_LOT_COINS, "now": now, "w": args.wallets},
            )
            cur.execute(
                """
                WITH top AS (
                    INSERT INTO coins_coinmovement
                        (shop_id, kind, coins, idempotency_key, memo, created_at)
                    VALUES (%(shop)s, 'top_up', %(total)s, %(key)s, 'bench', %(now)s)
                    RETURNING id
                )
                INSERT INTO coins_coinentry (movement_id, shop_id, account, wallet_id, delta,
                                             created_at)
                SELECT top.id, %(shop)s, a.account, NULL, a.delta, %(now)s
                FROM top, (VALUES ('shop_balance', -%(total)s::bigint),
                                  ('fund_available', %(total)s::bigint)) a(account, delta)
                """,
                {
                    "shop": shop.pk,
                    "total": total,
                    "key": f"bench-top-{args.tag}-{side}",
                    "now": now,
                },
            )
            cur.execute(
                """
                WITH g AS (
                    INSERT INTO coins_coinmovement
                        (shop_id, kind, coins, idempotency_key, memo, created_at)
                    SELECT %(shop)s, 'grant', w.balance, 'bench-grant-' || w.id, 'bench', %(now)s
                    FROM coins_coinwallet w WHERE w.shop_id = %(shop)s
                    RETURNING id, coins, substr(idempotency_key, 13)::bigint AS wallet_id
                )
                INSERT INTO coins_coinentry (movement_id, shop_id, account, wallet_id, delta,
                                             created_at)
                SELECT g.id, %(shop)s, 'fund_available', NULL, -g.coins, %(now)s FROM g
                UNION ALL
                SELECT g.id, %(shop)s, 'wallet', g.wallet_id, g.coins, %(now)s FROM g
                """,
                {"shop": shop.pk, "now": now},
            )
            cur.execute(
                """
                INSERT INTO coins_coinlot (wallet_id, shop_id, source, granted, remaining,
                    expired, clawed_back, expires_at, created_at)
                SELECT w.id, %(shop)s, 'grant', %(c)s, %(c)s, 0, 0,
                       %(due)s - g * interval '1 second', %(now)s - interval '180 days'
                FROM coins_coinwallet w CROSS JOIN generate_series(1, %(per)s) g
                WHERE w.shop_id = %(shop)s
                """,
                {"shop": shop.pk, "c": EXPIRY_LOT_COINS, "due": due, "now": now, "per": per},
            )
            cur.execute("ANALYZE coins_coinlot")
        sides[side] = {"shop_id": shop.pk, "lots": per * args.wallets, "coins": total}
    return {
        **sides,
        "job_at": now.isoformat(),
        "sql_at": (now + timedelta(days=11)).isoformat(),
    }


# The same work as ``coins.services.lots_expire`` for one shop, in one statement: the due lots
# expired, one expire movement per wallet with its two entries, wallets and fund updated.
EXPIRY_SQL = """
WITH due AS (
    UPDATE coins_coinlot SET expired = expired + remaining, remaining = 0, expired_at = %(at)s
    WHERE shop_id = %(shop)s AND remaining > 0 AND expires_at <= %(at)s
    RETURNING id, wallet_id, expired
), per_wallet AS (
    SELECT wallet_id, sum(expired) AS coins, min(id) AS first, max(id) AS last, count(*) AS n
    FROM due GROUP BY wallet_id
), wallets AS (
    UPDATE coins_coinwallet w SET balance = w.balance - p.coins
    FROM per_wallet p WHERE w.id = p.wallet_id RETURNING w.id
), fund AS (
    UPDATE coins_coinfund
    SET available = available + (SELECT coalesce(sum(coins), 0) FROM per_wallet),
        reserved = reserved - (SELECT coalesce(sum(coins), 0) FROM per_wallet)
    WHERE shop_id = %(shop)s RETURNING id
), mv AS (
    INSERT INTO coins_coinmovement (shop_id, kind, coins, idempotency_key, memo, created_at)
    SELECT %(shop)s, 'expire', coins,
           'expire:' || wallet_id || ':' || first || '-' || last || ':' || n,
           n || ' lots expired', %(at)s
    FROM per_wallet
    RETURNING id, coins, split_part(idempotency_key, ':', 2)::bigint AS wallet_id
)
INSERT INTO coins_coinentry (movement_id, shop_id, account, wallet_id, delta, created_at)
SELECT mv.id, %(shop)s, 'wallet', mv.wallet_id, -mv.coins, %(at)s FROM mv
UNION ALL
SELECT mv.id, %(shop)s, 'fund_available', NULL, mv.coins, %(at)s FROM mv
"""


def cmd_expiry_run(args) -> dict:
    """One side of the expiry benchmark, timed inside the process (Django start-up excluded):
    ``job`` runs ``coins.services.lots_expire``; ``sql`` runs ``EXPIRY_SQL`` in one
    transaction. Both then report what is left, to prove they did the same work."""
    import time

    from django.db import connection, transaction
    from django.db.models import Sum

    from coins.models import CoinFund, CoinLot, CoinWallet
    from coins.services import lots_expire

    at = datetime.fromisoformat(args.at)
    start = time.perf_counter()
    if args.side == "job":
        coins = lots_expire(at=at)
    else:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(EXPIRY_SQL, {"at": at, "shop": args.shop})
            coins = None
    seconds = time.perf_counter() - start
    fund = CoinFund.objects.get(shop_id=args.shop)
    return {
        "seconds": seconds,
        "coins": coins,
        "left_remaining": CoinLot.objects.filter(shop_id=args.shop).aggregate(n=Sum("remaining"))[
            "n"
        ],
        "left_balance": CoinWallet.objects.filter(shop_id=args.shop).aggregate(n=Sum("balance"))[
            "n"
        ],
        "fund_reserved": fund.reserved,
        "fund_available": fund.available,
    }


# --- coins: redemption at checkout (SPEC C-3, C-6) ---------------------------------------------

REDEEM_SHOP_PREFIX = "bench-redeem-"
REDEEM_PRICE_MINOR = 10_000
REDEEM_RATIO_BP = 2_000
REDEEM_LOTS_PER_WALLET = 4


def cmd_redemption_fixtures(args) -> dict:
    """``--shops`` coin shops, each with one product (coin deduction on, 20%) and a wallet for
    each of ``--buyers`` buyers holding ``REDEEM_LOTS_PER_WALLET`` lots of ``--lot-coins`` coins
    (different expiries, so the soonest-first order matters), with a balanced ledger (a top-up
    and one grant per lot), written set-based. Both sides of the benchmark spend from these
    wallets. Ledger rows are append-only: every run makes its own shops."""
    from django.conf import settings
    from django.db import connection, transaction

    from buyers.services import buyer_upsert
    from coins import rules
    from coins.models import CoinAccount, CoinFund, CoinProductSetting
    from orders.models import Order, OrderLine, ShopDailyStats
    from shops.models import Category
    from shops.services import product_upsert, shop_upsert

    now = datetime.now(UTC)
    buyers = []
    for b in range(args.buyers):
        ext = f"{REDEEM_SHOP_PREFIX}buyer-{b + 1}"
        buyer = buyer_upsert(
            external_id=ext,
            email=f"{ext}@bench.invalid",
            country="CN",
            registered_at=now - timedelta(days=400),
        )
        buyers.append({"external_id": ext, "id": buyer.pk})
    per_wallet = REDEEM_LOTS_PER_WALLET * args.lot_coins
    shops = []
    for s in range(args.shops):
        shop = shop_upsert(
            external_id=f"{REDEEM_SHOP_PREFIX}{args.tag}-{s + 1}",
            name=f"Bench redemption {args.tag} {s + 1}",
            opened_at=now - timedelta(days=400),
            main_category=Category.HOME_GARDEN,
            enterprise_certified=True,
            store_level=3,
            store_rating="4.8",
            currency="CNY",
        )
        code = f"BR{args.tag}-{s + 1}"
        product = product_upsert(
            shop=shop,
            external_id=f"{REDEEM_SHOP_PREFIX}{args.tag}-{s + 1}-p",
            title="Bench coin product",
            category=Category.HOME_GARDEN,
            skus=[{"code": code, "price_minor": REDEEM_PRICE_MINOR, "stock": 10_000_000}],
        )
        sku = product.skus.get(code=code)
        total = per_wallet * len(buyers)
        with transaction.atomic(), connection.cursor() as cur:
            # A bench fixture: the account without the C-1 checks (no feedback history here).
            account = CoinAccount.objects.create(
                shop=shop, coin_id=f"BENCH-R-{args.tag}-{s + 1}", opened_at=now
            )
            fund = CoinFund.objects.create(
                account=account, shop=shop, topped_up=total, reserved=total, available=0, spent=0
            )
            CoinProductSetting.objects.create(
                shop=shop,
                product=product,
                enabled=True,
                max_ratio_bp=REDEEM_RATIO_BP,
                updated_at=now,
            )
            cur.execute(
                """
                INSERT INTO coins_coinwallet (shop_id, buyer_id, balance, created_at)
                SELECT %(shop)s, b, %(bal)s, %(now)s FROM unnest(%(buyers)s::bigint[]) b
                """,
                {
                    "shop": shop.pk,
                    "bal": per_wallet,
                    "now": now,
                    "buyers": [b["id"] for b in buyers],
                },
            )
            cur.execute(
                """
                WITH top AS (
                    INSERT INTO coins_coinmovement
                        (shop_id, kind, coins, idempotency_key, memo, created_at)
                    VALUES (%(shop)s, 'top_up', %(total)s, %(key)s, 'bench', %(now)s)
                    RETURNING id
                )
                INSERT INTO coins_coinentry (movement_id, shop_id, account, wallet_id, delta,
                                             created_at)
                SELECT top.id, %(shop)s, a.account, NULL, a.delta, %(now)s
                FROM top, (VALUES ('shop_balance', -%(total)s::bigint),
                                  ('fund_available', %(total)s::bigint)) a(account, delta)
                """,
                {"shop": shop.pk, "total": total, "key": f"bench-rtop-{args.tag}-{s}", "now": now},
            )
            cur.execute(
                """
                WITH lots AS (
                    INSERT INTO coins_coinlot (wallet_id, shop_id, source, granted, remaining,
                        expired, clawed_back, expires_at, created_at)
                    SELECT w.id, %(shop)s, 'grant', %(c)s, %(c)s, 0, 0,
                           %(now)s + (200 - 30 * g) * interval '1 day', %(now)s
                    FROM coins_coinwallet w CROSS JOIN generate_series(1, %(per)s) g
                    WHERE w.shop_id = %(shop)s
                    RETURNING id, wallet_id, granted
                ), g AS (
                    INSERT INTO coins_coinmovement
                        (shop_id, kind, coins, idempotency_key, memo, created_at)
                    SELECT %(shop)s, 'grant', granted,
                           'bench-rgrant-' || wallet_id || '-' || id, 'bench', %(now)s
                    FROM lots
                    RETURNING id, coins, split_part(idempotency_key, '-', 3)::bigint AS wallet_id
                )
                INSERT INTO coins_coinentry (movement_id, shop_id, account, wallet_id, delta,
                                             created_at)
                SELECT g.id, %(shop)s, 'fund_available', NULL, -g.coins, %(now)s FROM g
                UNION ALL
                SELECT g.id, %(shop)s, 'wallet', g.wallet_id, g.coins, %(now)s FROM g
                """,
                {
                    "shop": shop.pk,
                    "c": args.lot_coins,
                    "now": now,
                    "per": REDEEM_LOTS_PER_WALLET,
                },
            )
        shops.append(
            {
                "external_id": shop.external_id,
                "id": shop.pk,
                "fund_id": fund.pk,
                "currency": shop.currency,
                "sku": {"code": sku.code, "id": sku.pk, "price_minor": sku.price_minor},
            }
        )
    return {
        "shops": shops,
        "buyers": buyers,
        "wallet_coins": per_wallet,
        "coin_value_minor": rules.coin_value_minor(),
        "tables": {
            "order": _table_spec(Order),
            "orderline": _table_spec(OrderLine),
            "dailystats": _table_spec(ShopDailyStats),
        },
        "platform_time_zone": settings.PLATFORM_TIME_ZONE,
    }


def cmd_redemption_check(args) -> dict:
    """What the two sides left: per order-number prefix, the rows of every table the API path
    writes for a coin order (orders, lines, the order event log, idempotency records,
    redemptions, their parts, REDEEM movements and their entries) and the coins; the daily
    figures of the benchmark's shops against their orders; and whether every fund and wallet
    still reconciles with its entries."""
    from django.db import connection

    from coins.services import ledger_reconcile

    shops = f"{REDEEM_SHOP_PREFIX}{args.tag}-%"
    out: dict = {}
    with connection.cursor() as cur:
        for prefix in args.prefix:
            like = f"{prefix}-%"
            q = {
                "orders": "SELECT count(*) FROM orders_order o JOIN shops_shop s "
                "ON s.id = o.shop_id WHERE s.external_id LIKE %(shops)s AND o.number LIKE %(like)s",
                "order_lines": "SELECT count(*) FROM orders_orderline l JOIN orders_order o "
                "ON o.id = l.order_id JOIN shops_shop s ON s.id = o.shop_id "
                "WHERE s.external_id LIKE %(shops)s AND o.number LIKE %(like)s",
                "order_events": "SELECT count(*) FROM orders_orderevent e JOIN orders_order o "
                "ON o.id = e.order_id JOIN shops_shop s ON s.id = o.shop_id "
                "WHERE s.external_id LIKE %(shops)s AND o.number LIKE %(like)s "
                "AND e.type = 'order.created'",
                "ingested_events": "SELECT count(*) FROM orders_ingestedevent "
                "WHERE event_id LIKE %(like)s AND status = 'applied'",
                "redemptions": "SELECT count(*) FROM coins_coinredemption r JOIN shops_shop s "
                "ON s.id = r.shop_id WHERE s.external_id LIKE %(shops)s "
                "AND r.order_number LIKE %(like)s",
                "redemption_parts": "SELECT count(*) FROM coins_coinredemptionpart p "
                "JOIN coins_coinredemption r ON r.id = p.redemption_id JOIN shops_shop s "
                "ON s.id = r.shop_id WHERE s.external_id LIKE %(shops)s "
                "AND r.order_number LIKE %(like)s",
                "movements": "SELECT count(*) FROM coins_coinmovement m JOIN shops_shop s "
                "ON s.id = m.shop_id WHERE s.external_id LIKE %(shops)s AND m.kind = 'redeem' "
                "AND m.idempotency_key LIKE 'redeem:%%:' || %(like)s",
                "entries": "SELECT count(*) FROM coins_coinentry e JOIN coins_coinmovement m "
                "ON m.id = e.movement_id JOIN shops_shop s ON s.id = m.shop_id "
                "WHERE s.external_id LIKE %(shops)s AND m.kind = 'redeem' "
                "AND m.idempotency_key LIKE 'redeem:%%:' || %(like)s",
                "coins": "SELECT coalesce(sum(r.coins), 0) FROM coins_coinredemption r "
                "JOIN shops_shop s ON s.id = r.shop_id WHERE s.external_id LIKE %(shops)s "
                "AND r.order_number LIKE %(like)s",
            }
            side = {}
            for name, sql in q.items():
                cur.execute(sql, {"shops": shops, "like": like})
                side[name] = int(cur.fetchone()[0])
            out[prefix] = side
        cur.execute(
            "SELECT (SELECT coalesce(sum(d.orders_created), 0) FROM orders_shopdailystats d "
            "JOIN shops_shop s ON s.id = d.shop_id WHERE s.external_id LIKE %(shops)s), "
            "(SELECT coalesce(sum(d.status_pending_payment), 0) FROM orders_shopdailystats d "
            "JOIN shops_shop s ON s.id = d.shop_id WHERE s.external_id LIKE %(shops)s), "
            "(SELECT count(*) FROM orders_order o JOIN shops_shop s ON s.id = o.shop_id "
            "WHERE s.external_id LIKE %(shops)s)",
            {"shops": shops},
        )
        created, pending, orders = (int(x) for x in cur.fetchone())
        out["daily_stats"] = {"orders_created": created, "pending": pending, "orders": orders}
        cur.execute(
            "SELECT coalesce(sum(f.spent), 0) FROM coins_coinfund f JOIN shops_shop s "
            "ON s.id = f.shop_id WHERE s.external_id LIKE %(shops)s",
            {"shops": shops},
        )
        out["fund_spent"] = int(cur.fetchone()[0])
    out["reconciled"] = ledger_reconcile().ok
    return out


# --- affiliate: click redirect (SPEC A-4) ----------------------------------------------------

CLICK_SHOP_PREFIX = "bench-click-"


def cmd_click_fixtures(args) -> dict:
    """A shop with its affiliate programme open, an approved promoter, a PID and one tracking
    link to an allow-listed marketplace page: ``/t/<code>`` of the click benchmark."""
    from affiliate import services
    from shops.models import Category
    from shops.services import shop_upsert

    now = datetime.now(UTC)
    shop = shop_upsert(
        external_id=f"{CLICK_SHOP_PREFIX}{args.tag}",
        name=f"Bench clicks {args.tag}",
        opened_at=now - timedelta(days=400),
        main_category=Category.HOME_GARDEN,
        enterprise_certified=True,
        store_level=3,
        store_rating="4.8",
        currency="CNY",
    )
    services.programme_enable(shop=shop, rate_bp=800)
    promoter = services.promoter_create(
        name=f"Bench promoter {args.tag}", email=f"{CLICK_SHOP_PREFIX}{args.tag}@bench.invalid"
    )
    services.promoter_approve(promoter=promoter)
    pid = services.pid_create(promoter=promoter, channel="website")
    link = services.link_create(
        pid=pid,
        shop=shop,
        destination=f"https://www.aliexpress.com/store/{shop.external_id}",
        utm_campaign="bench",
    )
    return {"code": link.code, "link_id": link.pk, "destination": link.destination}


def cmd_click_flusher(args) -> dict:
    """The beat's click flusher (``clicks.flush``) every ``--every`` seconds while the load
    runs (until ``--stop-file`` exists), then until the buffer is empty. ``--ready-file`` is
    made after its first flush: the process started and connected, as a running beat worker
    is (its start-up is no part of a click's cost)."""
    import time
    from pathlib import Path

    from affiliate.services import clicks

    stop = Path(args.stop_file)
    written = runs = 0
    while not stop.exists():
        written += clicks.flush()
        runs += 1
        if args.ready_file and runs == 1:
            Path(args.ready_file).touch()
        for _ in range(int(args.every * 10)):
            if stop.exists():
                break
            time.sleep(0.1)
    while clicks.buffered():
        written += clicks.flush()
        runs += 1
    return {"written": written, "runs": runs, "left": clicks.buffered()}


def cmd_click_count(args) -> dict:
    """Click rows of the link, and what is still buffered (Redis) — after the flush: 0."""
    from affiliate.models import Click
    from affiliate.services import clicks

    return {
        "rows": Click.objects.filter(link_id=args.link).count(),
        "buffered": clicks.buffered(),
    }


# --- affiliate: settlement (SPEC) ----------------------------------------------------

SETTLE_SHOP_PREFIX = "bench-settle-"
SETTLE_PROMOTERS = 20
SETTLE_PRICE_MINOR = 100_00  # 10% of 95.00 → 9.50 per commission
SETTLE_JOB_DUE = datetime(2000, 1, 1, tzinfo=UTC)  # before any demo commission is due
SETTLE_SQL_DUE = SETTLE_JOB_DUE + timedelta(days=10)


def cmd_settlement_setup(args) -> dict:
    """Two shops (``job`` and ``sql``), each with ``--orders`` completed orders whose
    commissions are pre-issued and past the return window (job side due 10 days before the sql
    side, so each run settles only its own), over ``SETTLE_PROMOTERS`` promoters, a shop balance
    covering them all and the promoters' balances opened. Written with bulk inserts (untimed)."""
    from django.db import transaction

    from affiliate import services
    from affiliate.models import Click, Commission, Promoter, PromoterBalance
    from buyers.services import buyer_upsert
    from core.money import Money
    from orders.models import Order
    from shops.models import Category
    from shops.services import balance_credit, product_upsert, shop_upsert

    now = datetime.now(UTC)
    buyer = buyer_upsert(
        external_id=f"{SETTLE_SHOP_PREFIX}buyer-{args.tag}",
        email=f"{SETTLE_SHOP_PREFIX}{args.tag}@bench.invalid",
        country="CN",
        registered_at=now - timedelta(days=400),
    )
    out = {}
    for side, due in (("job", SETTLE_JOB_DUE), ("sql", SETTLE_SQL_DUE)):
        shop = shop_upsert(
            external_id=f"{SETTLE_SHOP_PREFIX}{args.tag}-{side}",
            name=f"Bench settlement {args.tag} {side}",
            opened_at=now - timedelta(days=400),
            main_category=Category.HOME_GARDEN,
            enterprise_certified=True,
            store_level=3,
            store_rating="4.8",
            currency="CNY",
        )
        services.programme_enable(shop=shop, rate_bp=1000)
        product = product_upsert(
            shop=shop,
            external_id=f"{SETTLE_SHOP_PREFIX}{args.tag}-{side}-p",
            title="Bench product",
            category=Category.HOME_GARDEN,
            skus=[{"code": f"BS{args.tag}{side}", "price_minor": SETTLE_PRICE_MINOR, "stock": 1}],
        )
        links = []
        for i in range(SETTLE_PROMOTERS):
            promoter = services.promoter_create(
                name=f"Bench settle {side} {i}",
                email=f"{SETTLE_SHOP_PREFIX}{args.tag}-{side}-{i}@bench.invalid",
            )
            services.promoter_approve(promoter=promoter)
            Promoter.objects.filter(pk=promoter.pk).update(trial=False)
            PromoterBalance.objects.create(promoter=promoter, currency="CNY")
            pid = services.pid_create(promoter=promoter, channel="website")
            link = services.link_create(
                pid=pid, shop=shop, destination=f"https://www.aliexpress.com/store/{shop.pk}"
            )
            click = Click.objects.create(
                click_id=f"bs{args.tag}{side}{i}", link=link, pid=pid, clicked_at=due
            )
            links.append((promoter.pk, pid.pk, click.pk))
        net = SETTLE_PRICE_MINOR * 95 // 100 // 10
        with transaction.atomic():
            for start in range(0, args.orders, 10_000):
                n = min(10_000, args.orders - start)
                orders = Order.objects.bulk_create(
                    [
                        Order(
                            shop=shop, buyer=buyer, number=f"BS{args.tag}{side}{start + i:07d}",
                            status="completed", currency="CNY",
                            subtotal_minor=SETTLE_PRICE_MINOR,
                            amount_paid_minor=SETTLE_PRICE_MINOR, payment_method="card",
                            placed_at=due - timedelta(days=20), paid_at=due - timedelta(days=20),
                            completed_at=due - timedelta(days=15),
                        )
                        for i in range(n)
                    ]
                )  # fmt: skip
                Commission.objects.bulk_create(
                    [
                        Commission(
                            order=o, shop=shop, promoter_id=links[(start + i) % len(links)][0],
                            pid_id=links[(start + i) % len(links)][1],
                            click_id=links[(start + i) % len(links)][2], status="pre_issued",
                            currency="CNY", lines=[[product.pk, SETTLE_PRICE_MINOR, 1000]],
                            base_minor=net * 10, amount_minor=net,
                            locked_at=due - timedelta(days=20), paid_at=due - timedelta(days=20),
                            pre_issued_at=due - timedelta(days=20),
                            completed_at=due - timedelta(days=15), settle_due_at=due,
                        )
                        for i, o in enumerate(orders)
                    ]
                )  # fmt: skip
        balance_credit(
            shop=shop,
            amount=Money(net * args.orders + 1_00, "CNY"),
            reason="bench top-up",
            idempotency_key=f"{SETTLE_SHOP_PREFIX}{args.tag}-{side}",
        )
        out[side] = {"shop_id": shop.pk, "orders": args.orders, "net": net * args.orders}
    out["job_at"] = (SETTLE_JOB_DUE + timedelta(seconds=1)).isoformat()
    out["sql_at"] = (SETTLE_SQL_DUE + timedelta(seconds=1)).isoformat()
    return out


# The baseline: one statement doing every write of a settlement of the shop's due commissions —
# the shop's debits and the promoters' credits (each with its running balance_after), both
# balances, the commissions settled — as data-modifying CTEs over one INSERT … SELECT source.
SETTLEMENT_SQL = """
WITH due AS (
  SELECT c.id, c.shop_id, c.promoter_id, c.currency, c.amount_minor - c.reversed_minor AS net,
         o.number,
         sum(c.amount_minor - c.reversed_minor) OVER (
           PARTITION BY c.shop_id, c.currency ORDER BY c.settle_due_at, c.id) AS shop_run,
         sum(c.amount_minor - c.reversed_minor) OVER (
           PARTITION BY c.promoter_id, c.currency ORDER BY c.settle_due_at, c.id) AS prom_run
  FROM affiliate_commission c JOIN orders_order o ON o.id = c.order_id
  WHERE c.shop_id = %(shop)s AND c.status = 'pre_issued' AND c.settle_due_at <= %(at)s
), sb AS (
  SELECT id, shop_id, currency, balance_minor FROM shops_shopbalance WHERE shop_id = %(shop)s
), pb AS (
  SELECT id, promoter_id, currency, balance_minor FROM affiliate_promoterbalance
  WHERE promoter_id IN (SELECT DISTINCT promoter_id FROM due)
), be AS (
  INSERT INTO shops_balanceentry (balance_id, shop_id, kind, amount_minor, currency,
                                  balance_after_minor, reason, reason_key, reason_params,
                                  idempotency_key, created_at)
  SELECT sb.id, d.shop_id, 'debit', d.net, d.currency, sb.balance_minor - d.shop_run,
         'Affiliate commission, order ' || d.number, 'affiliate.commission',
         jsonb_build_object('order', d.number), 'affiliate:settle:' || d.id, now()
  FROM due d JOIN sb ON sb.shop_id = d.shop_id AND sb.currency = d.currency WHERE d.net > 0
), pe AS (
  INSERT INTO affiliate_promoterentry (balance_id, kind, amount_minor, balance_after_minor,
                                       commission_id, idempotency_key, created_at)
  SELECT pb.id, 'commission', d.net, pb.balance_minor + d.prom_run, d.id,
         'affiliate:commission:' || d.id, %(at)s
  FROM due d JOIN pb ON pb.promoter_id = d.promoter_id AND pb.currency = d.currency
  WHERE d.net > 0
), us AS (
  UPDATE shops_shopbalance s SET balance_minor = s.balance_minor - t.total, updated_at = now()
  FROM (SELECT shop_id, currency, sum(net) AS total FROM due GROUP BY 1, 2) t
  WHERE s.shop_id = t.shop_id AND s.currency = t.currency
), up AS (
  UPDATE affiliate_promoterbalance p SET balance_minor = p.balance_minor + t.total
  FROM (SELECT promoter_id, currency, sum(net) AS total FROM due GROUP BY 1, 2) t
  WHERE p.promoter_id = t.promoter_id AND p.currency = t.currency
), uc AS (
  UPDATE affiliate_commission c
  SET status = 'settled', settled_at = %(at)s, settled_minor = d.net, settle_blocked_at = NULL,
      updated_at = %(at)s
  FROM due d WHERE c.id = d.id
)
SELECT count(*) FROM due
"""


def cmd_settlement_run(args) -> dict:
    """One side, timed inside this process: ``job`` = ``affiliate.services.commissions_settle``
    (the hourly job), ``sql`` = ``SETTLEMENT_SQL`` in one transaction; then what each wrote."""
    import time

    from django.db import connection, transaction
    from django.db.models import Count, Sum

    from affiliate import services
    from affiliate.models import Commission, PromoterEntry
    from shops.models import BalanceEntry, ShopBalance

    at = datetime.fromisoformat(args.at)
    t = time.perf_counter()
    if args.side == "job":
        result = services.commissions_settle(now=at)
        settled = result["settled"]
    else:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(SETTLEMENT_SQL, {"shop": args.shop, "at": at})
            settled = cur.fetchone()[0]
    seconds = time.perf_counter() - t
    c = Commission.objects.filter(shop_id=args.shop)
    return {
        "seconds": seconds,
        "settled": settled,
        "left": c.exclude(status="settled").count(),
        "debits": BalanceEntry.objects.filter(
            shop_id=args.shop, idempotency_key__startswith="affiliate:settle:"
        ).aggregate(n=Count("pk"), total=Sum("amount_minor")),
        "credits": PromoterEntry.objects.filter(commission__shop_id=args.shop).aggregate(
            n=Count("pk"), total=Sum("amount_minor")
        ),
        "balance": ShopBalance.objects.get(shop_id=args.shop).balance_minor,
    }


def _metrics(name):
    def run(args):
        from . import metrics

        return getattr(metrics, name)(args)

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.djangotasks")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("users")
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--password", required=True)
    p = sub.add_parser("ingest-fixtures")
    p.add_argument("--shops", type=int, default=4)
    p.add_argument("--products", type=int, default=40)
    p.add_argument("--buyers", type=int, default=400)
    sub.add_parser("ingest-cleanup")
    sub.add_parser("register-cleanup")
    p = sub.add_parser("integration")
    p.add_argument("--name", required=True)
    p = sub.add_parser("expiry-setup")
    p.add_argument("--lots", type=int, default=1_000_000)
    p.add_argument("--wallets", type=int, default=10_000)
    p.add_argument("--tag", required=True)
    p = sub.add_parser("expiry-run")
    p.add_argument("--side", choices=("job", "sql"), required=True)
    p.add_argument("--shop", type=int, required=True)
    p.add_argument("--at", required=True)
    p = sub.add_parser("redemption-fixtures")
    p.add_argument("--shops", type=int, default=8)
    p.add_argument("--buyers", type=int, default=100)
    p.add_argument("--lot-coins", type=int, default=10_000)
    p.add_argument("--tag", required=True)
    p = sub.add_parser("redemption-check")
    p.add_argument("--tag", required=True)
    p.add_argument("--prefix", action="append", default=[])
    p = sub.add_parser("click-fixtures")
    p.add_argument("--tag", required=True)
    p = sub.add_parser("click-flusher")
    p.add_argument("--stop-file", required=True)
    p.add_argument("--every", type=float, default=5.0)
    p.add_argument("--ready-file")
    p = sub.add_parser("settlement-setup")
    p.add_argument("--orders", type=int, default=100_000)
    p.add_argument("--tag", required=True)
    p = sub.add_parser("settlement-run")
    p.add_argument("--side", choices=("job", "sql"), required=True)
    p.add_argument("--shop", type=int, required=True)
    p.add_argument("--at", required=True)
    p = sub.add_parser("click-count")
    p.add_argument("--link", type=int, required=True)
    p = sub.add_parser("metrics-setup")
    p.add_argument("--shops", type=int, default=10_000)
    p.add_argument("--first", type=int, default=1)
    p.add_argument("--last", type=int, default=1_000_000)
    p.add_argument("--at", required=True)
    p.add_argument("--tag", required=True)
    p.add_argument("--backlog", action="store_true")
    p = sub.add_parser("metrics-run")
    p.add_argument("--side", choices=("job", "sql"), required=True)
    p.add_argument("--at", required=True)
    p.add_argument("--tag", required=True)
    args = parser.parse_args(argv)
    _setup()
    handler = {
        "users": cmd_users,
        "ingest-fixtures": cmd_ingest_fixtures,
        "ingest-cleanup": cmd_ingest_cleanup,
        "register-cleanup": cmd_register_cleanup,
        "integration": cmd_integration,
        "expiry-setup": cmd_expiry_setup,
        "expiry-run": cmd_expiry_run,
        "redemption-fixtures": cmd_redemption_fixtures,
        "redemption-check": cmd_redemption_check,
        "click-fixtures": cmd_click_fixtures,
        "click-flusher": cmd_click_flusher,
        "click-count": cmd_click_count,
        "settlement-setup": cmd_settlement_setup,
        "settlement-run": cmd_settlement_run,
        "metrics-setup": _metrics("cmd_metrics_setup"),
        "metrics-run": _metrics("cmd_metrics_run"),
    }[args.cmd]
    result = handler(args)
    sys.stdout.write("\n@@BENCH-JSON@@" + json.dumps(result, default=str) + "\n")


if __name__ == "__main__":
    main()
