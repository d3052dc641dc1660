"""Races with real transactions and threads (SPEC C-3, C-5, C-6, C-7): the coin ledger never
double-spends, never grants twice and never expires a lot twice."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from coinkit import assert_reconciled, coin_order, coin_product, coin_shop, give, rule
from django.db import connection
from factories import make_buyer, make_order

from coins import services
from coins.models import CoinFund, CoinGrant, CoinLot, CoinRedemption, CoinWallet
from core import clock
from core.errors import DomainError
from orders import eventlog
from orders.models import OrderEvent

pytestmark = pytest.mark.django_db(transaction=True)


def race(n: int, work) -> list:
    """Run ``work(i)`` in ``n`` threads released together; each result or its error code."""
    barrier = threading.Barrier(n, timeout=60)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except DomainError as exc:
            results[i] = exc.code
        except Exception as exc:  # pragma: no cover - reported by the assertions
            results[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_c3_c6_eight_threads_redeeming_from_one_wallet_never_overspend(shop_a):
    coin_shop(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 1000)
    sku = coin_product(shop_a)

    results = race(8, lambda i: coin_order(shop_a, buyer, sku, 200, number=f"R8-{i}").number)

    outcome = Counter("ok" if str(r).startswith("R8-") else r for r in results)
    assert outcome == {"ok": 5, "coins_insufficient": 3}
    assert CoinWallet.objects.get(shop=shop_a, buyer=buyer).balance == 0
    assert CoinRedemption.objects.count() == 5
    assert CoinFund.objects.get(shop=shop_a).spent == 1000
    assert_reconciled()


def test_c3_two_orders_racing_the_fifty_yuan_cap_spend_the_wallet_once(shop_a):
    coin_shop(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 60_00)
    sku = coin_product(shop_a, price_minor=1_000_00)

    results = race(2, lambda i: coin_order(shop_a, buyer, sku, 50_00, number=f"CAP-{i}").number)

    assert sorted(str(r)[:4] for r in results) == ["CAP-", "coin"]
    assert "coins_insufficient" in results
    assert CoinWallet.objects.get(shop=shop_a, buyer=buyer).balance == 10_00
    assert_reconciled()


def test_c7_fifty_concurrent_copies_of_one_grant_have_one_effect(shop_a):
    coin_shop(shop_a)
    buyer = make_buyer()
    order = make_order(shop_a, buyer, status="paid")
    r = rule(shop_a, coins=100, budget=10**6)

    results = race(50, lambda i: services.grant_issue(rule_id=r.pk, order=order, coins=100).pk)

    assert len(set(results)) == 1, results
    assert isinstance(results[0], int), results
    assert CoinGrant.objects.filter(rule=r).count() == 1
    assert CoinWallet.objects.get(shop=shop_a, buyer=buyer).balance == 100
    assert_reconciled()


def test_c7_one_paid_event_delivered_by_many_workers_grants_once(shop_a):
    coin_shop(shop_a)
    buyer = make_buyer()
    order = make_order(shop_a, buyer, status="paid")  # delivered already, before the rule
    r = rule(shop_a, coins=100)
    paid = OrderEvent.objects.get(order=order, type="order.paid")
    # forget that the coins consumer handled it, as if the first delivery never committed
    from orders.models import ConsumedEvent

    ConsumedEvent.objects.filter(consumer="coins", event=paid).delete()

    race(20, lambda i: eventlog.deliver([paid.pk]).counts)

    assert CoinGrant.objects.filter(rule=r, order=order).count() == 1
    assert CoinWallet.objects.get(shop=shop_a, buyer=buyer).balance == 100
    assert_reconciled()


def test_c6_concurrent_expiry_runs_and_redemptions_expire_each_lot_once(shop_a, shop_b):
    buyers = [make_buyer() for _ in range(3)]
    for shop in (shop_a, shop_b):
        coin_shop(shop)
        for b in buyers:
            give(shop, b, 100)
    sku = coin_product(shop_a)
    later = clock.now() + timedelta(days=181)
    fresh = make_buyer()
    give(shop_a, fresh, 500)
    CoinLot.objects.filter(wallet__buyer=fresh).update(expires_at=later + timedelta(days=30))

    def work(i):
        with time_machine.travel(later, tick=False):
            if i % 2:
                return services.lots_expire(batch_size=2)
            return coin_order(shop_a, fresh, sku, 10, number=f"EXP-{i}").number

    results = race(6, work)

    expired = sum(r for r in results if isinstance(r, int))
    assert expired == 600  # 3 buyers x 2 shops x 100, once
    assert not CoinLot.objects.filter(remaining__gt=0, expires_at__lte=later).exists()
    assert CoinWallet.objects.get(shop=shop_a, buyer=fresh).balance == 500 - 30
    assert_reconciled()
