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
        return {"key_id": integration.key_id, "secret": secret}

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
    args = parser.parse_args(argv)
    _setup()
    handler = {
        "users": cmd_users,
        "ingest-fixtures": cmd_ingest_fixtures,
        "ingest-cleanup": cmd_ingest_cleanup,
        "register-cleanup": cmd_register_cleanup,
        "integration": cmd_integration,
    }[args.cmd]
    result = handler(args)
    sys.stdout.write("\n@@BENCH-JSON@@" + json.dumps(result, default=str) + "\n")


if __name__ == "__main__":
    main()
