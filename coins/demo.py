"""Coins' demo data (found by ``seed_demo`` through ``demo/hooks.py``), written through coins'
own services only:

- coin accounts for the eligible demo shops (the first few, so ``seed_demo`` stays fast); the
  shops that fail a C-1 check stay without one, and their coin page shows each reason;
- each fund topped up from the shop balance (C-5), after a marketplace settlement payout
  credits that balance (the ``shop.balance_credited`` fact the marketplace would send);
- products with the deduction switch and a ratio (C-3/C-4), a few left off;
- 2-3 issuance rules per shop (C-7) that grant on the shop's real demo orders, each at the
  order's own time, and a dozen coin orders redeeming part of those coins (C-3/C-6);
- one account paused (C-2), one shop at its monthly issuance ceiling, last month's grade (C-10).

History is written "then": the services read the time through ``core.clock.now``, which the
hook points at each order's time while it applies it (``_clock_at``), so the dashboard's daily
chart shows issuance and redemption spread over the weeks, not all on the day of the seed.

``tick(*, rng, now)`` is not needed: ``simulate`` sends coin deductions itself
(``demo/simulator.py``), and grants follow from its order events through the consumer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from random import Random
from unittest import mock

from django.db import transaction

from core import clock
from core.checks import all_passed
from core.money import Money, exponent

MAX_ACCOUNTS = 4
HISTORY_DAYS = 45
GRANT_ORDERS = 45  # per shop: the demo orders the rules are applied to
COIN_ORDERS = 10  # per shop: orders that deduct coins (DEMO-COIN-…, on top of --orders)


@contextlib.contextmanager
def _clock_at(at: datetime) -> Iterator[None]:
    """Every ``clock.now()`` inside reads ``at`` (demo history only; never in the product)."""
    with mock.patch.object(clock, "now", return_value=at):
        yield


def seed(*, shops, rng: Random, now: datetime) -> None:
    from .selectors import opening_checks

    opened = []
    start = now - timedelta(days=HISTORY_DAYS)
    for shop in shops:
        if len(opened) >= MAX_ACCOUNTS:
            break
        # Opened HISTORY_DAYS ago (the checks as they were then; C-1 is checked at opening).
        if all_passed(opening_checks(shop=shop, at=start)):
            opened.append(shop)
    for i, shop in enumerate(opened):
        _seed_shop(shop, rng=rng, now=now, index=i)
    _finish(opened, rng=rng, now=now)


@transaction.atomic
def _seed_shop(shop, *, rng: Random, now: datetime, index: int) -> None:
    from shops.models import Product, ReviewStatus
    from shops.notices import Reason
    from shops.services import balance_credit

    from . import services
    from .models import RuleKind

    start = now - timedelta(days=HISTORY_DAYS)
    unit = 10 ** exponent(shop.currency)  # one yuan / dollar / euro in minor units
    with _clock_at(start):
        services.account_open(shop=shop)
        payout = Money(rng.choice([5_000, 8_000, 12_000]) * unit, shop.currency)
        balance_credit(
            shop=shop,
            amount=payout,
            reason=Reason("shops.marketplace_payout"),
            idempotency_key=f"demo-coins-payout-{shop.pk}",
        )
        services.fund_top_up(
            shop=shop,
            amount=Money(payout.amount * 3 // 5, shop.currency),
            idempotency_key=f"demo-coins-top-up-{shop.pk}",
        )
        products = list(
            Product.objects.filter(shop=shop, review_status=ReviewStatus.APPROVED)
            .order_by("pk")
            .values_list("pk", flat=True)[:16]
        )
        on, off = products[: max(1, len(products) * 3 // 4)], products[len(products) * 3 // 4 :]
        for ratio in (1000, 2000, 3000):
            ids = on[ratio // 1000 - 1 :: 3]
            if ids:
                services.product_deduction_set(
                    shop=shop, product_ids=ids, enabled=True, max_ratio_bp=ratio
                )
        if off:
            services.product_deduction_set(
                shop=shop, product_ids=off, enabled=False, max_ratio_bp=0
            )
        services.rule_create(
            shop=shop,
            name="Welcome gift",
            kind=RuleKind.WELCOME,
            coins=rng.choice([300, 500]),
            budget_coins=200_000,
            starts_at=start,
        )
        if index % 2 == 0:
            services.rule_create(
                shop=shop,
                name="Cashback on delivery",
                kind=RuleKind.COMPLETION_CASHBACK,
                percent_bp=rng.choice([200, 300, 500]),
                budget_coins=150_000,
                starts_at=start,
            )
        else:
            services.rule_create(
                shop=shop,
                name="Thank-you coins",
                kind=RuleKind.INSTANT_CASHBACK,
                coins=rng.choice([50, 100]),
                budget_coins=60_000,
                starts_at=start,
            )
        services.rule_create(
            shop=shop,
            name="Spend 100, get 10",
            kind=RuleKind.SPEND_THRESHOLD,
            coins=1_000,
            threshold_minor=100 * unit,
            budget_coins=80_000,
            starts_at=start,
            stackable=index % 3 != 2,
        )
    _grants(shop, start=start, now=now)
    _coin_orders(shop, rng=rng, start=start, now=now)


def _grants(shop, *, start: datetime, now: datetime) -> None:
    """The rules applied to the shop's demo orders, each at the time of its order event."""
    from orders.models import Order

    from . import services

    orders = list(
        Order.objects.filter(shop=shop, paid_at__gte=start, paid_at__lt=now)
        .order_by("paid_at", "pk")
        .values_list("pk", "paid_at", "completed_at")[:GRANT_ORDERS]
    )
    facts = [(paid, pk, services.ON_PAID) for pk, paid, _done in orders]
    facts += [(done, pk, services.ON_COMPLETED) for pk, _paid, done in orders if done]
    for at, pk, kinds in sorted(facts):
        with _clock_at(at):
            services.order_grants_apply(order_id=pk, kinds=kinds, at=at)


def _coin_orders(shop, *, rng: Random, start: datetime, now: datetime) -> None:
    """Orders from buyers who hold coins, deducting part of them (C-3 caps), placed and paid
    through the orders services (the checkout guard spends the coins)."""
    from orders import services as orders
    from orders.inputs import LineInput, OrderInput
    from shops.models import Sku

    from . import rules, services
    from .models import CoinProductSetting, CoinWallet

    enabled = dict(
        CoinProductSetting.objects.filter(shop=shop, enabled=True).values_list(
            "product_id", "max_ratio_bp"
        )
    )
    skus = list(
        Sku.objects.filter(shop=shop, product_id__in=enabled, price_minor__gt=0).order_by("pk")[:10]
    )
    wallets = list(
        CoinWallet.objects.filter(shop=shop, balance__gt=0)
        .select_related("buyer")
        .order_by("pk")[:COIN_ORDERS]
    )
    if not skus:
        return
    cap_bp, cap_minor, value = (
        rules.deduction_cap_bp(),
        rules.deduction_cap_minor(),
        rules.coin_value_minor(),
    )
    for n, wallet in enumerate(wallets):
        sku = rng.choice(skus)
        qty = rng.choice([1, 1, 2])
        total = sku.price_minor * qty
        most = rules.max_deduction_coins(
            payable_before_coins_minor=total,
            balance=wallet.balance,
            lines=[(total, enabled[sku.product_id])],
            cap_bp=cap_bp,
            cap_minor=cap_minor,
            coin_value_minor=value,
        )
        if most <= 0:
            continue
        coins = max(1, int(most * rng.uniform(0.5, 1.0)))
        at = now - timedelta(days=rng.uniform(0.5, HISTORY_DAYS / 3))
        with _clock_at(at):
            order = orders.order_create(
                OrderInput(
                    shop=shop,
                    buyer=wallet.buyer,
                    number=f"DEMO-COIN-{shop.external_id}-{n + 1:03d}",
                    lines=[LineInput(sku=sku, quantity=qty, unit_price_minor=sku.price_minor)],
                    placed_at=at,
                    coin_deduction_coins=coins,
                    coin_deduction_minor=coins * value,
                    payment_method="card",
                )
            )
            services.redemption_link(order=order)
            orders.order_pay(
                order=order,
                payment_id=f"demo-coin-pay-{shop.external_id}-{n + 1}",
                amount_minor=order.payable_before_coins.amount - order.coin_deduction_minor,
                method="card",
                paid_at=at + timedelta(minutes=3),
            )


def _finish(opened, *, rng: Random, now: datetime) -> None:
    """One account paused (C-2), one shop at its monthly ceiling, last month's grades (C-10)."""
    from . import services
    from .report_selectors import guardrail_for_shop

    if len(opened) >= 2:
        with _clock_at(now - timedelta(days=2)):
            services.account_pause(shop=opened[-1])
    if len(opened) >= 3:
        # The guardrail at work: this month's issuance is the ceiling (or a fresh month's
        # ceiling not yet reached).
        issued = guardrail_for_shop(shop=opened[1], at=now).issued
        services.ceiling_set(shop=opened[1], ceiling_coins=issued or 20_000)
    if opened:
        services.ceiling_set(shop=opened[0], ceiling_coins=500_000)
        month = services.month_of(now)
        last = (month - timedelta(days=1)).replace(day=1)
        for shop in opened:
            with _clock_at(now):
                services.grade_compute(shop=shop, month=last)
