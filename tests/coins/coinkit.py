"""Builders for the coin tests, through the services (DESIGN §8)."""

from datetime import timedelta

from factories import first_sku, make_feedback, make_order, make_product, next_id

from coins import services
from coins.models import CoinAccount, CoinGrant, CoinRule, RuleKind
from core import clock
from core.money import Money
from shops.services import balance_credit


def open_account(shop) -> CoinAccount:
    """Give the shop the positive feedback C-1 asks for, then open its coin account."""
    make_feedback(make_order(shop, status="delivered"), kind="positive")
    return services.account_open(shop=shop)


def top_up(shop, coins: int):
    key = next_id("topup-")
    balance_credit(
        shop=shop, amount=Money(coins, shop.currency), reason="test", idempotency_key=key
    )
    return services.fund_top_up(shop=shop, amount=Money(coins, shop.currency), idempotency_key=key)


def coin_shop(shop, *, fund: int = 1_000_00) -> None:
    open_account(shop)
    if fund:
        top_up(shop, fund)


def rule(shop, *, kind=RuleKind.INSTANT_CASHBACK, coins=100, budget=10**9, **kw) -> CoinRule:
    return services.rule_create(
        shop=shop,
        name=next_id("rule "),
        kind=kind,
        coins=coins,
        budget_coins=budget,
        starts_at=clock.now() - timedelta(days=1),
        **kw,
    )


def give(shop, buyer, coins: int, *, order=None) -> CoinGrant:
    """``coins`` granted to ``buyer`` by a fresh rule for a (fresh, paid) order; the rule is
    stopped afterwards so it grants nothing more."""
    order = order or make_order(shop, buyer, status="paid")
    r = rule(shop, coins=coins)
    grant = services.grant_issue(rule_id=r.pk, order=order, coins=coins)
    services.rule_stop(shop=shop, rule_id=r.pk)
    return grant


def enable(shop, *products, ratio: int = 3000):
    return services.product_deduction_set(
        shop=shop, product_ids=[p.pk for p in products], enabled=True, max_ratio_bp=ratio
    )


def coin_product(shop, *, price_minor: int = 100_00, ratio: int = 3000):
    product = make_product(shop, price_minor=price_minor)
    enable(shop, product, ratio=ratio)
    return first_sku(product)


def coin_order(shop, buyer, sku, coins: int, *, status="pending_payment", **kw):
    return make_order(
        shop,
        buyer,
        sku=sku,
        status=status,
        coin_deduction_coins=coins,
        coin_deduction_minor=coins,
        **kw,
    )


def assert_reconciled() -> None:
    result = services.ledger_reconcile()
    assert result.ok, result.differences
