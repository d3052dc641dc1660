"""The budget guardrail (SPEC C-11 with C-5/C-7): a monthly issuance ceiling pauses issuance,
not the account; the owners hear once; the next month or a higher ceiling resumes it."""

from datetime import datetime, timedelta

import pytest
import time_machine
from coinkit import coin_order, coin_product, coin_shop, give, rule
from factories import make_buyer, make_order

from coins import services
from coins.models import CoinBudget, CoinGrant
from coins.report_selectors import guardrail_for_shop
from core import clock
from core.errors import DomainError
from shops.models import Notification

pytestmark = pytest.mark.django_db


def _grant(shop, coins, r=None, buyer=None):
    r = r or rule(shop, coins=coins)
    return services.grant_issue(
        rule_id=r.pk, order=make_order(shop, buyer, status="paid"), coins=coins
    )


def test_c11_grant_exactly_at_the_ceiling_passes_one_coin_over_is_refused(shop_a, owner):
    # given: a ceiling of 1,000 coins and 900 issued this month
    coin_shop(shop_a)
    services.ceiling_set(shop=shop_a, ceiling_coins=1000)
    r = rule(shop_a, coins=100)
    _grant(shop_a, 900, r)
    # when: 100 more (exactly at the ceiling)
    _grant(shop_a, 100, r)
    # then: allowed, the month counts 1,000, the guardrail is reached
    g = guardrail_for_shop(shop=shop_a)
    assert (g.issued, g.ceiling, g.reached) == (1000, 1000, True)
    # and one coin more is refused with a stable code, nothing written
    grants = CoinGrant.objects.count()
    with pytest.raises(DomainError) as err:
        _grant(shop_a, 1, r)
    assert err.value.code == "coins_ceiling_reached"
    assert CoinGrant.objects.count() == grants


def test_c11_one_coin_over_the_ceiling_is_refused_from_below(shop_a):
    coin_shop(shop_a)
    services.ceiling_set(shop=shop_a, ceiling_coins=1000)
    r = rule(shop_a, coins=100)
    _grant(shop_a, 999, r)
    with pytest.raises(DomainError) as err:
        _grant(shop_a, 2, r)
    assert err.value.code == "coins_ceiling_reached"
    _grant(shop_a, 1, r)  # exactly the one left passes
    assert CoinBudget.objects.get(shop=shop_a).issued_coins == 1000


def test_c11_ceiling_pauses_issuance_not_the_account_deduction_continues(shop_a, owner):
    # given: a buyer holding coins, the ceiling reached
    coin_shop(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 500)
    services.ceiling_set(shop=shop_a, ceiling_coins=500)
    # when / then: the account stays active and checkout still deducts coins
    assert shop_a.coin_account.status == "active"
    sku = coin_product(shop_a)
    order = coin_order(shop_a, buyer, sku, 300)
    from coins.models import CoinRedemption

    assert CoinRedemption.objects.get(order_number=order.number).coins == 300


def test_c11_owner_told_once_when_the_ceiling_is_reached(shop_a, owner):
    coin_shop(shop_a)
    services.ceiling_set(shop=shop_a, ceiling_coins=200)
    r = rule(shop_a, coins=100)
    _grant(shop_a, 100, r)
    assert Notification.objects.filter(kind="auto_pause").count() == 0
    _grant(shop_a, 100, r)  # reaches it
    notes = Notification.objects.filter(kind="auto_pause", shop=shop_a)
    assert notes.count() == 1
    assert "ceiling" in notes.get().title
    # refusals after it do not tell again
    order = make_order(shop_a, status="paid")
    services.order_grants_apply(order_id=order.pk, kinds=services.ON_PAID, at=clock.now())
    services.order_grants_apply(order_id=order.pk, kinds=services.ON_PAID, at=clock.now())
    assert notes.count() == 1


def test_c11_refused_grant_in_the_consumer_path_tells_the_owner_once(shop_a, owner):
    # given: 50 coins left under the ceiling, an instant rule of 100
    coin_shop(shop_a)
    services.ceiling_set(shop=shop_a, ceiling_coins=50)
    rule(shop_a, coins=100)
    # when: two paid orders are handled
    for _ in range(2):
        order = make_order(shop_a, status="paid")
        made = services.order_grants_apply(
            order_id=order.pk, kinds=services.ON_PAID, at=clock.now()
        )
        assert made == []
    # then: nothing granted, the owner told once
    assert CoinGrant.objects.filter(shop=shop_a).count() == 0
    assert Notification.objects.filter(kind="auto_pause", shop=shop_a).count() == 1


def test_c11_issuance_resumes_next_month_in_the_platform_time_zone(shop_a):
    # given: the ceiling reached on the last evening of the month (Shanghai)
    with time_machine.travel(datetime(2026, 11, 30, 15, 0, tzinfo=clock.platform_tz()), tick=False):
        coin_shop(shop_a)
        services.ceiling_set(shop=shop_a, ceiling_coins=100)
        r = rule(shop_a, coins=100)
        _grant(shop_a, 100, r)
        with pytest.raises(DomainError):
            _grant(shop_a, 100, r)
    # when: 00:10 on the 1st in Shanghai (still 30 Nov in UTC)
    with time_machine.travel(datetime(2026, 12, 1, 0, 10, tzinfo=clock.platform_tz()), tick=False):
        _grant(shop_a, 100, r)
        g = guardrail_for_shop(shop=shop_a)
    # then: the new month counts from zero
    assert (g.issued, g.reached) == (100, True)


def test_c11_raising_the_ceiling_resumes_and_a_new_reach_is_told_again(shop_a, owner):
    coin_shop(shop_a)
    services.ceiling_set(shop=shop_a, ceiling_coins=100)
    r = rule(shop_a, coins=100)
    _grant(shop_a, 100, r)
    services.ceiling_set(shop=shop_a, ceiling_coins=200)
    _grant(shop_a, 100, r)
    assert Notification.objects.filter(kind="auto_pause", shop=shop_a).count() == 2
    services.ceiling_set(shop=shop_a, ceiling_coins=None)  # removed: no limit
    _grant(shop_a, 100, r)
    assert guardrail_for_shop(shop=shop_a).issued == 300


def test_c11_ceiling_set_counts_grants_already_made_this_month(shop_a):
    coin_shop(shop_a)
    give(shop_a, make_buyer(), 700)
    budget = services.ceiling_set(shop=shop_a, ceiling_coins=1000)
    assert budget.issued_coins == 700
    with pytest.raises(DomainError):
        _grant(shop_a, 301)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "100", True, 10**13])
def test_c11_ceiling_bad_input_is_refused_and_nothing_written(shop_a, bad):
    coin_shop(shop_a)
    with pytest.raises(DomainError) as err:
        services.ceiling_set(shop=shop_a, ceiling_coins=bad)
    assert err.value.code == "coins_invalid_amount"
    assert not CoinBudget.objects.filter(shop=shop_a).exists()


def test_c11_ceiling_needs_an_account(shop_a):
    with pytest.raises(DomainError) as err:
        services.ceiling_set(shop=shop_a, ceiling_coins=10)
    assert err.value.code == "coins_no_account"


def test_c11_other_shops_are_not_counted(shop_a, shop_b):
    coin_shop(shop_a)
    coin_shop(shop_b)
    services.ceiling_set(shop=shop_a, ceiling_coins=100)
    _grant(shop_b, 500)
    _grant(shop_a, 100)
    assert guardrail_for_shop(shop=shop_a).issued == 100
    assert guardrail_for_shop(shop=shop_b).issued == 500


def test_c11_month_boundary_helper():
    assert (
        services.month_of(
            datetime(2026, 11, 30, 16, 1, tzinfo=clock.platform_tz()) - timedelta(0)
        ).isoformat()
        == "2026-11-01"
    )


@pytest.mark.django_db(transaction=True)
def test_c11_eight_threads_racing_the_ceiling_never_pass_it(shop_a, owner):
    # given: 300 coins left under the ceiling and 8 orders each worth a 100-coin grant
    import threading

    from django.db import connection

    coin_shop(shop_a)
    services.ceiling_set(shop=shop_a, ceiling_coins=300)
    r = rule(shop_a, coins=100)
    orders = [make_order(shop_a, status="paid") for _ in range(8)]
    barrier = threading.Barrier(8, timeout=60)
    results: list = [None] * 8

    def run(i):
        try:
            barrier.wait()
            services.grant_issue(rule_id=r.pk, order=orders[i], coins=100)
            results[i] = "ok"
        except DomainError as exc:
            results[i] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    # then: exactly three grants, the ceiling reached, the owners told once
    assert sorted(results) == ["coins_ceiling_reached"] * 5 + ["ok"] * 3
    assert CoinGrant.objects.filter(shop=shop_a).count() == 3
    assert CoinBudget.objects.get(shop=shop_a).issued_coins == 300
    assert Notification.objects.filter(kind="auto_pause", shop=shop_a).count() == 1
