"""Coin orders of an ingestion batch are checked and spent together (SPEC C-3, C-6; bench
``redemption``): the queries of a batch do not grow with its coin orders, the registry numbers
are read once per request, and the set-based spend writes what order-by-order spending would."""

from datetime import timedelta

import pytest
from api.support import Sender, ev, order_created_data, signed_headers
from coinkit import assert_reconciled, coin_product, coin_shop, enable, give
from constance import config
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from factories import first_sku, make_buyer, make_product

from coins import rules, services
from coins.models import (
    CoinEntry,
    CoinFund,
    CoinLot,
    CoinMovement,
    CoinRedemption,
    CoinRedemptionPart,
    CoinWallet,
    MovementKind,
)
from coins.services import checkout
from core import clock
from integrations.services import integration_create


@pytest.fixture
def sender(db):
    return Sender(*integration_create(name="Checkout"))


@pytest.fixture(params=["set_based", "portable"])
def write_path(request, monkeypatch):
    """Both ways of writing a run's redemptions: one statement (PostgreSQL) and the ORM's
    statement per table (any database)."""
    monkeypatch.setattr(checkout, "SET_BASED", request.param == "set_based")
    return request.param


def created(shop, buyer, sku, number: str, coins: int) -> dict:
    return ev(
        "order.created",
        order_created_data(
            shop, buyer, sku, number=number, coin_deduction_coins=coins, coin_deduction_minor=coins
        ),
    )


def queries_of(sender, events) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        results = sender.results(events)
    assert {r["status"] for r in results} == {"applied"}, results
    return [q["sql"] for q in ctx.captured_queries]


def test_c3_c6_query_count_of_a_batch_does_not_grow_with_its_coin_orders(
    sender, shop_a, shop_b, write_path
):
    # given two coin shops, five buyers with coins in each
    skus = {}
    buyers = [make_buyer() for _ in range(5)]
    for shop in (shop_a, shop_b):
        coin_shop(shop)
        skus[shop.pk] = coin_product(shop)
        for b in buyers:
            give(shop, b, 5_000)
    # (a first batch reads what a fresh database has not stored yet: registry defaults)
    queries_of(sender, [created(shop_a, buyers[0], skus[shop_a.pk], "W-1", 10)])

    def batch(prefix: str, n: int, shops) -> list[dict]:
        return [
            created(
                shops[i % len(shops)],
                buyers[i % 5],
                skus[shops[i % len(shops)].pk],
                f"{prefix}-{i}",
                100,
            )
            for i in range(n)
        ]

    # when batches of 1, 2 and 20 coin orders of one shop, and 20 of two shops, are sent
    one = queries_of(sender, batch("A", 1, [shop_a]))
    two = queries_of(sender, batch("B", 2, [shop_a]))
    twenty = queries_of(sender, batch("C", 20, [shop_a]))
    mixed = queries_of(sender, batch("D", 20, [shop_a, shop_b]))

    # then every batch costs the same handful of queries, however many coin orders it holds:
    # one lock of the funds (their accounts read with them), one read of the product
    # switches, one lock of the wallets, one of their lots, and one write per table
    assert len(one) == len(two) == len(twenty) == len(mixed), (len(one), len(twenty))
    coin_sql = [q for q in twenty if "coins_" in q]
    # (on PostgreSQL a round trip may carry several statements: the prefetch, the coin locks)
    statements = [part for q in twenty for part in q.split(";\n")]
    if write_path == "set_based":
        # the 4 locks and reads and the registry in one round trip, then every write in one
        assert len(coin_sql) == 2, coin_sql
        assert [len(q.split(";\n")) for q in coin_sql] == [5, 1]  # (the registry with them)
        assert len(twenty) == 8
    else:  # … or one statement each, then one write per table
        assert len(coin_sql) == 11, coin_sql
        assert len(twenty) == 18
    # the registry is read once in the request, every coin number at once
    assert len([q for q in twenty if "constance" in q]) == 1
    # locks in primary-key order: funds, then wallets, then lots
    locks = [" ".join(q.split()) for q in statements if "FOR UPDATE" in q]
    assert [q.split(" FROM ")[1].split()[0] for q in locks] == [
        '"coins_coinfund"',
        '"coins_coinwallet"',
        '"coins_coinlot"',
    ]

    def by_pk(sql: str) -> bool:
        key = sql.split("ORDER BY")[1].split()[0]
        # by name, or by position when the id is the first column selected
        return key.endswith('."id"') or (
            key == "1" and sql.split()[1].rstrip(",").endswith('."id"')
        )

    assert all(by_pk(q) for q in locks), locks
    assert CoinRedemption.objects.count() == 1 + 1 + 2 + 20 + 20
    assert_reconciled()


def test_c6_a_batch_spends_each_wallet_soonest_expiring_first_across_its_orders(
    sender, shop_a, write_path
):
    # given a buyer with a lot expiring in 100 days and one expiring in 50 days
    coin_shop(shop_a)
    buyer = make_buyer()
    sku = coin_product(shop_a)
    config.COINS_LOT_LIFETIME_DAYS = 100
    later = give(shop_a, buyer, 300).lot
    config.COINS_LOT_LIFETIME_DAYS = 50
    sooner = give(shop_a, buyer, 500).lot
    assert sooner.expires_at < later.expires_at
    # when one batch deducts 400 then 300 coins
    results = sender.results(
        [created(shop_a, buyer, sku, "E-1", 400), created(shop_a, buyer, sku, "E-2", 300)]
    )
    # then the first takes 400 of the sooner lot, the second its last 100 and 200 of the later
    assert [r["status"] for r in results] == ["applied", "applied"]
    parts = sorted(
        CoinRedemptionPart.objects.values_list("redemption__order_number", "lot_id", "coins")
    )
    assert parts == [("E-1", sooner.pk, 400), ("E-2", later.pk, 200), ("E-2", sooner.pk, 100)]
    assert dict(CoinLot.objects.filter(wallet__buyer=buyer).values_list("pk", "remaining")) == {
        sooner.pk: 0,
        later.pk: 100,
    }
    assert CoinWallet.objects.get(shop=shop_a, buyer=buyer).balance == 100
    # one REDEEM movement per order, each with its two entries, and the fund's spent coins
    moves = CoinMovement.objects.filter(kind=MovementKind.REDEEM).order_by("idempotency_key")
    assert [(m.idempotency_key, m.coins) for m in moves] == [
        (f"redeem:{shop_a.pk}:E-1", 400),
        (f"redeem:{shop_a.pk}:E-2", 300),
    ]
    assert CoinEntry.objects.filter(movement__in=moves).count() == 4
    assert CoinFund.objects.get(shop=shop_a).spent == 700
    assert_reconciled()


def test_c3_a_refused_order_in_a_batch_rejects_only_itself_and_writes_nothing(
    sender, shop_a, shop_b, write_path
):
    # given coin shops A and B; B's account is paused
    buyer = make_buyer()
    skus = {}
    for shop in (shop_a, shop_b):
        coin_shop(shop)
        skus[shop.pk] = coin_product(shop)
        give(shop, buyer, 5_000)
    services.account_pause(shop=shop_b)
    # when one batch holds good orders of A around a paused shop's order and one over the cap
    results = sender.results(
        [
            created(shop_a, buyer, skus[shop_a.pk], "F-1", 100),
            created(shop_b, buyer, skus[shop_b.pk], "F-2", 100),
            created(shop_a, buyer, skus[shop_a.pk], "F-3", 3_001),  # ¥100: at most 3,000
            created(shop_a, buyer, skus[shop_a.pk], "F-4", 200),
        ]
    )
    # then only those two are rejected, each with its own code, and nothing is written for them
    assert [(r["status"], r.get("code")) for r in results] == [
        ("applied", None),
        ("rejected", "coins_account_paused"),
        ("rejected", "coins_cap_exceeded"),
        ("applied", None),
    ]
    assert sorted(CoinRedemption.objects.values_list("order_number", flat=True)) == ["F-1", "F-4"]
    assert CoinWallet.objects.get(shop=shop_a, buyer=buyer).balance == 4_700
    assert CoinWallet.objects.get(shop=shop_b, buyer=buyer).balance == 5_000
    assert CoinFund.objects.get(shop=shop_b).spent == 0
    assert_reconciled()


def test_c3_a_batch_of_mixed_carts_deducts_within_the_cap_of_the_enabled_lines(
    sender, shop_a, write_path
):
    # given ¥100 at 30% and ¥100 products whose coins are off or not approved
    coin_shop(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 10_000)
    on = coin_product(shop_a)
    off = first_sku(make_product(shop_a))
    pending = make_product(shop_a, review_status="pending")
    enable(shop_a, pending)

    def cart(number: str, coins: int, *skus) -> dict:
        event = created(shop_a, buyer, skus[0], number, coins)
        event["data"]["lines"] = [
            {"sku": sku.code, "quantity": 1, "unit_price_minor": sku.price_minor} for sku in skus
        ]
        return event

    # when one batch holds mixed carts within and over the enabled line's cap, and one cart of
    # products without coins
    results = sender.results(
        [
            cart("G-1", 3_000, on, off, first_sku(pending)),  # 30% of the ¥100 enabled line
            cart("G-2", 3_001, off, on),  # 30% of ¥200 would be 6,000: the off line takes none
            cart("G-3", 100, off, first_sku(pending)),
            cart("G-4", 1_000, off, on),
        ]
    )
    # then the carts within the cap are placed and the others refused with their codes
    assert [(r["status"], r.get("code")) for r in results] == [
        ("applied", None),
        ("rejected", "coins_cap_exceeded"),
        ("rejected", "coins_product_not_enabled"),
        ("applied", None),
    ]
    assert dict(CoinRedemption.objects.values_list("order_number", "coins")) == {
        "G-1": 3_000,
        "G-4": 1_000,
    }
    assert CoinWallet.objects.get(shop=shop_a, buyer=buyer).balance == 6_000
    assert CoinFund.objects.get(shop=shop_a).spent == 4_000
    assert_reconciled()


# --- the registry, once per request or scope ------------------------------------------------


def registry_reads(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "constance_constance" in q["sql"]]


def test_c3_c4_each_request_reads_the_registry_once_and_sees_the_last_change(db, shop_a):
    coin_shop(shop_a, fund=500_00)
    product = make_product(shop_a, price_minor=1_000_00)
    enable(shop_a, product, ratio=3000)
    integration, secret = integration_create(name="Storefront")
    client = Client()
    path = f"/api/v1/coins/shops/{shop_a.external_id}/products/{product.external_id}/label"

    def label() -> tuple[dict, list[str]]:
        h = signed_headers(key_id=integration.key_id, secret=secret, body=b"")
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(path, **h).json()
        return body, registry_reads(ctx)

    body, reads = label()  # (stores the registry defaults)
    body, reads = label()
    assert body["max_deduction_minor"] == 50_00
    # the label reads the coin value twice and the caps: each number once in the request
    assert len(reads) == len(set(reads)), reads
    # an admin lowers the ¥50 cap: the very next request uses it
    config.COINS_DEDUCTION_CAP_MINOR = 20_00
    body, _ = label()
    assert body["max_deduction_minor"] == 20_00
    # outside a request the reads are live (no scope left behind)
    config.COINS_DEDUCTION_CAP_MINOR = 10_00
    assert rules.deduction_cap_minor() == 10_00


def test_c6_expired_lots_are_not_spent_by_a_batch(sender, shop_a, write_path):
    # given a buyer whose only lot expires before the order
    coin_shop(shop_a)
    buyer = make_buyer()
    sku = coin_product(shop_a)
    give(shop_a, buyer, 500)
    CoinLot.objects.filter(wallet__buyer=buyer).update(
        expires_at=clock.now() - timedelta(seconds=1)
    )
    (result,) = sender.results([created(shop_a, buyer, sku, "X-1", 100)])
    assert (result["status"], result["code"]) == ("rejected", "coins_insufficient")
    assert not CoinRedemption.objects.exists()
