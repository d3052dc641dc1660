"""Coins' demo hook (``coins/demo.py``, run by ``seed_demo``) and the simulator's coin orders:
``make run`` shows the module alive (accounts, funds, rules, wallets, redemptions, a paused
account, a grade) and ``simulate`` keeps buyers spending their coins (SPEC C-1 … C-11)."""

from datetime import UTC, datetime

import pytest
import time_machine
from coinkit import assert_reconciled, coin_product, coin_shop, give
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from factories import login_client, make_buyer

from coins.models import (
    AccountStatus,
    CoinAccount,
    CoinBudget,
    CoinGrade,
    CoinGrant,
    CoinRedemption,
    CoinRule,
    CoinWallet,
)
from coins.selectors import opening_checks
from core.checks import all_passed
from demo import simulator
from demo.management.commands.seed_demo import flush_marketplace
from orders.models import Order
from shops.models import Shop

NOW = datetime(2026, 3, 16, 6, 30, tzinfo=UTC)
SMALL = {"shops": 6, "buyers": 300, "orders": 2500, "verbosity": 0}
LOGINS = ["demo", "demo_marketer", "demo_analyst", "admin"]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), time_machine.travel(NOW, tick=False):
        call_command("seed_demo", **SMALL)
    yield
    with django_db_blocker.unblock():
        flush_marketplace()
        get_user_model().objects.filter(username__in=LOGINS).delete()


@pytest.mark.django_db
def test_c1_c2_demo_opens_eligible_shops_pauses_one_and_leaves_the_refused_without(seeded):
    accounts = CoinAccount.objects.select_related("shop")
    assert accounts.count() >= 2
    assert accounts.filter(status=AccountStatus.PAUSED).count() == 1
    # a shop refused by the checks stays without an account, and says why
    without = Shop.objects.exclude(coin_account__isnull=False)
    with time_machine.travel(NOW, tick=False):
        refused = [s for s in without if not all_passed(opening_checks(shop=s))]
    assert refused
    assert any(c.passed is False and c.measured for c in opening_checks(shop=refused[0]))


@pytest.mark.django_db
def test_c5_c7_demo_funds_rules_grants_and_redemptions_are_believable_and_balanced(seeded):
    for account in CoinAccount.objects.select_related("shop", "fund"):
        assert account.fund.topped_up > 0
        assert 2 <= CoinRule.objects.filter(shop=account.shop).count() <= 3
    assert CoinGrant.objects.count() > 20
    assert CoinWallet.objects.filter(balance__gt=0).exists()
    redemptions = CoinRedemption.objects.all()
    assert redemptions.count() > 3
    # every redemption belongs to a paid order of its shop, linked
    assert not redemptions.filter(order__isnull=True).exists()
    assert not Order.objects.filter(coin_redemption__isnull=False, paid_at__isnull=True).exists()
    # grants spread over the weeks, not all at the seed's instant
    days = {g.created_at.date() for g in CoinGrant.objects.all()}
    assert len(days) > 5
    # a ceiling on a shop, last month's grades
    assert CoinBudget.objects.exists()
    assert CoinGrade.objects.count() == CoinAccount.objects.count()
    assert_reconciled()


@pytest.mark.django_db
def test_c11_demo_owner_sees_a_dashboard_with_data(seeded):
    account = CoinAccount.objects.filter(status=AccountStatus.ACTIVE).order_by("pk").first()
    owner = get_user_model().objects.get(username="demo")
    if not account.shop.memberships.filter(user=owner).exists():
        from shops.services import membership_grant

        membership_grant(user=owner, shop=account.shop, role="owner")
    client = login_client(owner, account.shop)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("coins:dashboard") + "?days=90")
    assert response.status_code == 200
    assert response.context["totals"].issued > 0


@pytest.mark.django_db
def test_c3_simulator_sends_coin_deductions_the_checkout_guard_accepts(shop_a):
    # given: a coin shop whose products take coins and three buyers holding coins
    coin_shop(shop_a, fund=1_000_000)
    sku = coin_product(shop_a, price_minor=80_00)
    holders = [make_buyer() for _ in range(3)]
    for b in holders:
        give(shop_a, b, 5_000)
    world = simulator.world_from_database(seed=3)
    # only this shop (a seeded demo world may share the database with this test)
    world.shops = [s for s in world.shops if s.external_id == shop_a.external_id]
    world.wallets = {k: v for k, v in world.wallets.items() if k[0] == shop_a.external_id}
    assert len(world.wallets) == 3
    assert world.shops[0].coin_ratios == {sku.code: 3000}
    # when: the simulator runs in-process with the coins guard on
    stats = simulator.run(
        world=world, sender=simulator.InProcessSender(), rate=0, max_events=400, out=lambda _l: None
    )
    # then: every event applied (no coins_* rejection), some orders spent coins
    assert stats.statuses["applied"] == stats.sent, stats.codes
    spent = CoinRedemption.objects.filter(shop=shop_a)
    assert spent.exists()
    assert sum(CoinWallet.objects.filter(shop=shop_a).values_list("balance", flat=True)) < 15_000
    assert_reconciled()
