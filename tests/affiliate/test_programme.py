"""SPEC A-1, A-2, A-3: the seller programme and its rates, promoters, PIDs and the freeze job."""

from datetime import timedelta

import affkit
import pytest
import time_machine
from constance import config
from django.db import IntegrityError, transaction
from factories import make_product, make_shop

from affiliate import services
from affiliate.models import CommissionRate, Pid, PidStatus, Programme, PromoterNotice, RateScope
from core import clock
from core.errors import DomainError, InvalidTransition


def test_a2_enable_at_store_level_three(db):
    shop = make_shop(store_level=3)
    programme = services.programme_enable(shop=shop, rate_bp=800, min_order_minor=30_00)
    assert (programme.enabled, programme.min_order_minor) == (True, 30_00)
    assert CommissionRate.objects.get(shop=shop, scope=RateScope.SHOP).rate_bp == 800


def test_a2_refusal_below_level_says_which_level_is_needed_and_writes_nothing(db):
    shop = make_shop(store_level=2)
    with pytest.raises(DomainError) as exc:
        services.programme_enable(shop=shop, rate_bp=800)
    assert exc.value.code == "affiliate_store_level"
    assert "L3" in exc.value.message
    assert not Programme.objects.filter(shop=shop).exists()
    assert not CommissionRate.objects.filter(shop=shop).exists()


def test_a2_level_follows_the_registry(db):
    config.AFFILIATE_MIN_STORE_LEVEL = 4
    with pytest.raises(DomainError, match="L4"):
        services.programme_enable(shop=make_shop(store_level=3), rate_bp=800)


@pytest.mark.parametrize(("rate", "ok"), [(49, False), (50, True), (2000, True), (2001, False)])
def test_a2_rate_bounds_on_every_scope(shop_a, rate, ok):
    product = make_product(shop_a)
    for kwargs in (
        {"scope": "shop"},
        {"scope": "category", "category": product.category},
        {"scope": "product", "product": product},
    ):
        if ok:
            assert services.rate_set(shop=shop_a, rate_bp=rate, **kwargs).rate_bp == rate
        else:
            with pytest.raises(DomainError):
                services.rate_set(shop=shop_a, rate_bp=rate, **kwargs)


def test_a2_rate_set_twice_updates_and_another_shops_product_is_refused(shop_a, shop_b):
    product = make_product(shop_a)
    services.rate_set(shop=shop_a, scope="product", product=product, rate_bp=500)
    services.rate_set(shop=shop_a, scope="product", product=product, rate_bp=700)
    assert CommissionRate.objects.get(shop=shop_a, product=product).rate_bp == 700
    with pytest.raises(DomainError):
        services.rate_set(shop=shop_b, scope="product", product=product, rate_bp=700)


def test_a2_database_refuses_a_rate_outside_percent_and_a_second_shop_rate(shop_a):
    services.rate_set(shop=shop_a, scope="shop", rate_bp=500)
    with pytest.raises(IntegrityError), transaction.atomic():
        CommissionRate.objects.create(shop=shop_a, scope="shop", rate_bp=600)
    with pytest.raises(IntegrityError), transaction.atomic():
        CommissionRate.objects.create(shop=shop_a, scope="category", category="x", rate_bp=10_001)


def test_a1_trial_promoter_gets_one_pid_and_pending_none(db):
    p = affkit.promoter()
    services.pid_create(promoter=p, channel="social")
    with pytest.raises(DomainError) as exc:
        services.pid_create(promoter=p, channel="video")
    assert exc.value.code == "affiliate_trial_one_pid"
    pending = services.promoter_create(name="New", email="new@promo.example.com")
    with pytest.raises(DomainError):
        services.pid_create(promoter=pending, channel="social")
    assert Pid.objects.count() == 1


def test_a3_pids_per_channel_after_trial(db):
    p = affkit.promoter(trial=False)
    for channel in ("social", "video", "website"):
        services.pid_create(promoter=p, channel=channel)
    assert sorted(p.pids.values_list("channel", flat=True)) == ["social", "video", "website"]


def test_a3_link_carries_utm_and_pid(shop_a):
    pid = affkit.pid()
    link = services.link_create(
        pid=pid,
        shop=shop_a,
        destination="https://www.aliexpress.com/item/1.html?sku=2",
        utm_campaign="spring",
        sub_id="post-7",
    )
    assert link.destination.startswith("https://www.aliexpress.com/item/1.html?sku=2&")
    for part in (
        "utm_source=affiliate",
        "utm_medium=social",
        f"aff_pid={pid.code}",
        "utm_campaign=spring",
        "aff_sub=post-7",
    ):
        assert part in link.destination


def test_a3_warned_on_day_23_frozen_on_day_30_reactivated(shop_a):
    # given: a PID whose last valid click was at t0
    link = affkit.link(shop_a)
    t0 = clock.now()
    affkit.click(link, at=t0)

    # day 22: nothing; day 23: one warning (twice run: still one)
    assert services.pids_freeze(now=t0 + timedelta(days=22)) == {"warned": 0, "frozen": 0}
    assert services.pids_freeze(now=t0 + timedelta(days=23)) == {"warned": 1, "frozen": 0}
    assert services.pids_freeze(now=t0 + timedelta(days=24)) == {"warned": 0, "frozen": 0}
    notice = PromoterNotice.objects.get(kind="pid_idle")
    assert notice.promoter_id == link.pid.promoter_id
    assert "7 days" in notice.text

    # day 30: frozen, the promoter told
    assert services.pids_freeze(now=t0 + timedelta(days=30)) == {"warned": 0, "frozen": 1}
    pid = Pid.objects.get(pk=link.pid_id)
    assert pid.status == PidStatus.FROZEN
    assert PromoterNotice.objects.filter(kind="pid_frozen", pid=pid).count() == 1

    # reactivated: active, idle time from now
    with time_machine.travel(t0 + timedelta(days=31), tick=False):
        services.pid_reactivate(pid=pid)
    pid.refresh_from_db()
    assert pid.status == PidStatus.ACTIVE
    assert services.pids_freeze(now=t0 + timedelta(days=40)) == {"warned": 0, "frozen": 0}
    with pytest.raises(InvalidTransition):
        services.pid_reactivate(pid=pid)


def test_a3_a_valid_click_resets_the_idle_period(shop_a):
    link = affkit.link(shop_a)
    t0 = clock.now()
    affkit.click(link, at=t0)
    affkit.click(link, at=t0 + timedelta(days=20))
    assert services.pids_freeze(now=t0 + timedelta(days=30)) == {"warned": 0, "frozen": 0}
    assert services.pids_freeze(now=t0 + timedelta(days=50)) == {"warned": 0, "frozen": 1}
