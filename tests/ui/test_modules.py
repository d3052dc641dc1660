"""The marketing modules' overview pages: real checks with measured values (SPEC C-1, A-2, M-1,
E-2, E-3/E-4), read from the admin-changeable rule registry (each module's rules.py)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from constance import config
from django.urls import reverse
from factories import make_buyer, make_order, make_orders, make_product, make_shop

from activities.selectors import overview
from affiliate.selectors import programme_checks
from coins.selectors import opening_checks
from core import clock
from mailing.selectors import eligibility_checks
from orders import services as orders
from shops.services import logistics_set, violation_record


def _by_code(checks):
    return {c.code: c for c in checks}


def _feedback(shop, positive: int, negative: int):
    buyer = make_buyer()
    sku = make_product(shop, n_skus=1).skus.first()
    for i in range(positive + negative):
        order = make_order(shop, buyer=buyer, sku=sku, status="delivered")
        orders.feedback_post(
            order=order,
            kind="positive" if i < positive else "negative",
            posted_at=clock.now() - timedelta(days=1),
        )


# --- coins (SPEC C-1) --------------------------------------------------------------------------


def test_c1_all_opening_checks_pass_for_a_healthy_mainland_shop(db):
    # given
    shop = make_shop()
    _feedback(shop, positive=19, negative=1)  # 95.0%
    # when
    checks = _by_code(opening_checks(shop=shop))
    # then
    assert {c.state for c in checks.values()} == {"pass"}
    assert checks["c1b_positive_rate"].measured == "95.0%"


def test_c1_each_failed_condition_shows_its_measured_value(db):
    # given: overseas, not certified, 93.3% positive, a serious violation 10 days ago
    shop = make_shop(registration_region="XX", enterprise_certified=False)
    _feedback(shop, positive=14, negative=1)
    violation_record(
        shop=shop,
        external_id="v-1",
        kind="counterfeit",
        serious=True,
        occurred_at=clock.now() - timedelta(days=10),
    )
    # when
    checks = _by_code(opening_checks(shop=shop))
    # then
    assert checks["c1a_region"].state == "fail"
    assert checks["c1a_region"].measured == "Overseas"
    assert checks["c1a_enterprise"].state == "fail"
    assert checks["c1b_positive_rate"].state == "fail"
    assert checks["c1b_positive_rate"].detail == "90-day positive rate 93.3% < 95%"
    assert checks["c1c_violations"].state == "fail"
    assert checks["c1c_violations"].measured == "1 serious violation"


def test_c1_violation_older_than_the_window_or_not_serious_does_not_block(db):
    # given
    shop = make_shop()
    violation_record(
        shop=shop,
        external_id="v-old",
        kind="x",
        serious=True,
        occurred_at=clock.now() - timedelta(days=31),
    )
    violation_record(
        shop=shop, external_id="v-minor", kind="x", serious=False, occurred_at=clock.now()
    )
    # when
    checks = _by_code(opening_checks(shop=shop))
    # then
    assert checks["c1c_violations"].state == "pass"


def test_c1_no_feedback_is_not_a_pass(db):
    # when
    checks = _by_code(opening_checks(shop=make_shop()))
    # then
    assert checks["c1b_positive_rate"].state == "fail"
    assert "no feedback" in checks["c1b_positive_rate"].measured


def test_c1_threshold_comes_from_the_rule_registry(db):
    # given
    config.COINS_MIN_POSITIVE_RATE = Decimal("90")
    shop = make_shop()
    _feedback(shop, positive=14, negative=1)  # 93.3%
    # when
    checks = _by_code(opening_checks(shop=shop))
    # then
    assert checks["c1b_positive_rate"].state == "pass"
    assert checks["c1b_positive_rate"].required == "≥ 90%"


def test_c1_coins_page_lists_the_checks(ui_client, ui_shop):
    # given
    _feedback(ui_shop, positive=9, negative=1)
    # when
    content = ui_client.get(reverse("coins:index")).content.decode()
    # then
    assert 'data-check="c1b_positive_rate" data-state="fail"' in content
    assert "90-day positive rate 90.0% &lt; 95%" in content
    assert "cannot open a coin account yet" in content


# --- affiliate (SPEC A-2) ----------------------------------------------------------------------


@pytest.mark.parametrize(("level", "state"), [(1, "fail"), (2, "fail"), (3, "pass"), (5, "pass")])
def test_a2_programme_needs_store_level_3(db, level, state):
    # when
    (check,) = programme_checks(shop=make_shop(store_level=level))
    # then
    assert check.state == state
    assert check.measured == f"L{level}"
    assert check.required == "≥ L3"


def test_a2_affiliate_page_shows_the_level_check(ui_client, ui_shop):
    # when
    content = ui_client.get(reverse("affiliate:index")).content.decode()
    # then
    assert 'data-check="a2_store_level" data-state="pass"' in content
    assert "can enable its affiliate programme" in content


# --- mailing (SPEC M-1) ------------------------------------------------------------------------


def _gmv_shop(gmv_minor: int, **overrides):
    shop = make_shop(**{"currency": "USD", **overrides})  # M-1 measures GMV in dollars
    sku = make_product(shop, n_skus=1).skus.first()
    order = orders.order_create(
        orders.OrderInput(
            shop=shop,
            buyer=make_buyer(),
            number="GMV-1",
            placed_at=clock.now() - timedelta(days=1),
            lines=[orders.LineInput(sku=sku, quantity=1, unit_price_minor=gmv_minor)],
        )
    )
    orders.order_pay(
        order=order,
        payment_id=f"gmv-{shop.pk}",
        amount_minor=gmv_minor,
        method="card",
        paid_at=clock.now() - timedelta(days=1),
    )
    return shop


def test_m1_eligible_at_exactly_5000_dollars(db):
    # given
    shop = _gmv_shop(5_000_00)
    # when
    checks = _by_code(eligibility_checks(shop=shop))
    # then
    assert checks["m1_gmv"].state == "pass"
    assert checks["m1_gmv"].measured == "$5,000.00"
    assert {c.state for c in checks.values()} == {"pass"}


def test_m1_each_failed_condition_is_shown(db):
    # given: 30 days open, one cent short of $5,000, rating 4.69, a serious violation
    shop = _gmv_shop(4_999_99, opened_at=clock.now() - timedelta(days=30), store_rating="4.69")
    violation_record(shop=shop, external_id="mv", kind="x", serious=True, occurred_at=clock.now())
    # when
    checks = _by_code(eligibility_checks(shop=shop))
    # then
    assert checks["m1_shop_age"].state == "fail"
    assert checks["m1_shop_age"].measured == "30 days"
    assert checks["m1_gmv"].state == "fail"
    assert checks["m1_gmv"].detail == "$0.01 more GMV needed"
    assert checks["m1_store_rating"].state == "fail"
    assert checks["m1_store_rating"].measured == "4.69"
    assert checks["m1_violations"].state == "fail"


def test_m1_gmv_in_another_currency_is_not_guessed(db):
    # given
    shop = _gmv_shop(1_000_000_00, currency="CNY")
    # when
    checks = _by_code(eligibility_checks(shop=shop))
    # then
    assert checks["m1_gmv"].state == "unknown"
    assert "exchange rate" in checks["m1_gmv"].detail


@pytest.mark.parametrize(("gmv_minor", "state"), [(35_600_00, "pass"), (35_599_99, "fail")])
def test_m1_s0_gmv_in_another_currency_is_compared_at_todays_rate(db, gmv_minor, state):
    # given: $5,000 at 7.12 yuan per dollar = ¥35,600.00
    from decimal import Decimal

    from core.models import FxRate

    FxRate.objects.create(
        currency="CNY", day=clock.natural_day() - timedelta(days=3), units_per_usd=Decimal("7.12")
    )
    shop = _gmv_shop(gmv_minor, currency="CNY")
    # when
    check = _by_code(eligibility_checks(shop=shop))["m1_gmv"]
    # then
    assert check.state == state
    assert check.required == "≥ ¥35,600.00 ($5,000.00)"
    if state == "fail":
        assert check.detail == "¥0.01 more GMV needed"


def test_m1_refunds_reduce_the_gmv(db):
    # given
    shop = _gmv_shop(5_000_00)
    order = shop.orders.get()
    orders.order_refund(order=order, refund_id="m1-rf", amount_minor=1, refunded_at=clock.now())
    # when
    checks = _by_code(eligibility_checks(shop=shop))
    # then
    assert checks["m1_gmv"].state == "fail"


def test_m1_mailing_page_lists_the_checks(ui_client, ui_shop):
    # when
    content = ui_client.get(reverse("mailing:index")).content.decode()
    # then
    for code in ("m1_shop_age", "m1_gmv", "m1_store_rating", "m1_violations"):
        assert f'data-check="{code}"' in content
    assert "not eligible for email marketing yet" in content  # no GMV in the fixture shop


# --- activities (SPEC E-2, E-3, E-4) -----------------------------------------------------------


def test_e3_cancel_rate_above_15_percent_fails(db):
    # given: 24 orders (E-3a: at least 20), four cancelled -> 16.7%
    shop = make_shop()
    make_orders(shop, 24)
    # when
    ov = overview(shop=shop)
    # then
    assert ov.cancel_rate == Decimal("16.7")
    assert ov.cancel_threshold == Decimal("15.0")
    assert ov.cancel_check.state == "fail"


def test_e4_relaxed_category_threshold_is_16_5_percent(db):
    # given
    shop = make_shop(main_category="home_garden")
    make_orders(shop, 24)
    # when
    ov = overview(shop=shop)
    # then
    assert ov.relaxed is True
    assert ov.cancel_threshold == Decimal("16.5")
    assert ov.cancel_check.state == "fail"  # 16.7% > 16.5%


def test_e2_needs_a_certified_and_enabled_carrier(db):
    # given
    shop = make_shop()
    logistics_set(shop=shop, carrier="yanwen", enabled=True, certified=False)
    logistics_set(shop=shop, carrier="dhl", enabled=False, certified=True)
    # when
    before = overview(shop=shop).carrier_check
    logistics_set(shop=shop, carrier="4px", enabled=True, certified=True)
    after = overview(shop=shop).carrier_check
    # then
    assert before.state == "fail"
    assert after.state == "pass"
    assert after.measured == "4PX"


def test_e3_activities_page_shows_rate_and_carriers(ui_client, ui_shop):
    # given
    make_orders(ui_shop, 24)
    # when
    content = ui_client.get(reverse("activities:index")).content.decode()
    # then
    assert 'id="cancel-rate">16.7%<' in content
    assert "threshold 15.0%" in content
    assert 'data-check="e3_cancel_rate" data-state="fail"' in content
    assert 'data-check="e2_certified_carrier" data-state="pass"' in content
    assert "AliExpress Standard Shipping (official)" in content
