"""The registry of admin-changeable rule numbers (DESIGN §7): django-constance on its database
backend, read through each module's rules.py. Changing a number in the registry moves each entry
check's boundary — no restart, no settings edit — and an admin edits them in Django admin."""

from datetime import timedelta
from decimal import Decimal

import pytest
from constance import config
from django.conf import settings
from factories import first_sku, make_buyer, make_feedback, make_order, make_product, make_shop

from activities import rules as activities_rules
from activities.selectors import overview
from affiliate.selectors import programme_checks
from coins import rules as coins_rules
from coins.selectors import opening_checks
from core import clock
from core.money import Money
from mailing import rules as mailing_rules
from mailing.selectors import eligibility_checks
from orders import services as orders
from shops.services import violation_record


def _state(checks, code):
    return {c.code: c for c in checks}[code].state


def test_defaults_are_the_spec_numbers(db):
    # then: SPEC C-1, A-2, M-1, E-3, E-4, E-8
    assert coins_rules.opening_region() == "CN"
    assert coins_rules.min_positive_rate() == Decimal("95")
    assert coins_rules.violation_window_days() == 30
    assert config.AFFILIATE_MIN_STORE_LEVEL == 3
    assert mailing_rules.min_shop_age_days() == 90
    assert mailing_rules.min_gmv_30d() == Money(5_000_00, "USD")
    assert mailing_rules.min_store_rating() == Decimal("4.7")
    assert mailing_rules.violation_window_days() == 30
    assert activities_rules.cancel_rate_max() == Decimal("15")
    assert activities_rules.relaxed_categories() == {
        "home_garden",
        "auto_moto",
        "digital_accessories",
    }
    assert activities_rules.relaxation_factor() == Decimal("1.1")
    assert activities_rules.reenrol_min_dsr() == Decimal("4.7")


def test_thresholds_no_longer_live_in_settings():
    for name in settings.CONSTANCE_CONFIG:
        assert not hasattr(settings, name), name
        help_text = str(settings.CONSTANCE_CONFIG[name][1])
        assert "SPEC " in help_text, name


def _feedback_shop(positive, negative, **shop):
    s = make_shop(**shop)
    buyer, sku = make_buyer(), first_sku(make_product(s))
    for i in range(positive + negative):
        order = make_order(s, buyer, status="delivered", sku=sku)
        make_feedback(order, kind="positive" if i < positive else "negative")
    return s


def test_c1_positive_rate_boundary_follows_the_registry(db):
    # given: exactly 95.0% positive
    shop = _feedback_shop(19, 1)
    assert _state(opening_checks(shop=shop), "c1b_positive_rate") == "pass"

    # when: the admin raises the minimum by a tenth
    config.COINS_MIN_POSITIVE_RATE = Decimal("95.1")

    # then
    assert _state(opening_checks(shop=shop), "c1b_positive_rate") == "fail"


def test_c1_violation_window_and_region_follow_the_registry(db):
    # given: a Hong Kong shop with a serious violation 20 days ago
    shop = make_shop(registration_region="HK")
    violation_record(
        shop=shop,
        external_id="v-20d",
        kind="counterfeit",
        serious=True,
        occurred_at=clock.now() - timedelta(days=20),
    )
    before = opening_checks(shop=shop)

    # when
    config.COINS_VIOLATION_WINDOW_DAYS = 20
    config.COINS_OPENING_REGION = "HK"
    after = opening_checks(shop=shop)

    # then
    assert _state(before, "c1c_violations") == "fail"
    assert _state(before, "c1a_region") == "fail"
    assert _state(after, "c1c_violations") == "pass"
    assert _state(after, "c1a_region") == "pass"


def test_a2_store_level_boundary_follows_the_registry(db):
    # given
    shop = make_shop(store_level=3)
    assert _state(programme_checks(shop=shop), "a2_store_level") == "pass"
    # when
    config.AFFILIATE_MIN_STORE_LEVEL = 4
    # then
    (check,) = programme_checks(shop=shop)
    assert check.state == "fail"
    assert check.required == "≥ L4"


def _gmv_shop(gmv_minor, **shop):
    s = make_shop(**shop)
    sku = first_sku(make_product(s))
    order = orders.order_create(
        orders.OrderInput(
            shop=s,
            buyer=make_buyer(),
            number="GMV-1",
            placed_at=clock.now() - timedelta(days=1),
            lines=[orders.LineInput(sku=sku, quantity=1, unit_price_minor=gmv_minor)],
        )
    )
    orders.order_pay(
        order=order,
        payment_id=f"gmv-{s.pk}",
        amount_minor=gmv_minor,
        method="card",
        paid_at=clock.now() - timedelta(days=1),
    )
    return s


def test_m1_thresholds_follow_the_registry(db):
    # given: ¥8,000 of GMV, opened 90 days ago, rating 4.80
    shop = _gmv_shop(8_000_00, currency="CNY", opened_at=clock.now() - timedelta(days=90))
    config.MAILING_MIN_GMV_30D_CURRENCY = "CNY"
    config.MAILING_MIN_GMV_30D_MINOR = 8_000_00
    at_boundary = eligibility_checks(shop=shop)

    # when: each number moved one step past the shop
    config.MAILING_MIN_GMV_30D_MINOR = 8_000_01
    config.MAILING_MIN_SHOP_AGE_DAYS = 91
    config.MAILING_MIN_STORE_RATING = Decimal("4.81")
    past = eligibility_checks(shop=shop)

    # then
    for code in ("m1_gmv", "m1_shop_age", "m1_store_rating"):
        assert _state(at_boundary, code) == "pass", code
        assert _state(past, code) == "fail", code


def test_m1_violation_window_follows_the_registry(db):
    # given
    shop = make_shop()
    violation_record(
        shop=shop,
        external_id="v-m1",
        kind="x",
        serious=True,
        occurred_at=clock.now() - timedelta(days=10),
    )
    assert _state(eligibility_checks(shop=shop), "m1_violations") == "fail"
    # when
    config.MAILING_VIOLATION_WINDOW_DAYS = 10
    # then
    assert _state(eligibility_checks(shop=shop), "m1_violations") == "pass"


def test_e3_e4_thresholds_follow_the_registry(db):
    # given: a consumer-electronics shop (not relaxed by default)
    shop = make_shop(main_category="consumer_electronics")
    assert overview(shop=shop).cancel_threshold == Decimal("15.0")

    # when
    config.ACTIVITIES_CANCEL_RATE_MAX = Decimal("20")
    config.ACTIVITIES_RELAXED_CATEGORIES = "consumer_electronics"
    config.ACTIVITIES_RELAXATION_FACTOR = Decimal("1.5")

    # then
    ov = overview(shop=shop)
    assert ov.relaxed is True
    assert ov.cancel_threshold == Decimal("30.0")


def test_e8_dashboard_shows_the_registry_dsr(db, owner_client):
    # when
    config.ACTIVITIES_REENROL_MIN_DSR = Decimal("4.9")
    # then
    assert owner_client.get("/").context["dsr_min"] == Decimal("4.9")


# --- Django admin ----------------------------------------------------------------------------


def _admin_form(admin_client):
    response = admin_client.get("/admin/constance/config/")
    assert response.status_code == 200
    form = response.context["form"]
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name)
        data[name] = "" if value is None else str(value)
        assert field is not None
    return data


def test_admin_edits_a_rule_number(admin_client):
    # given
    data = _admin_form(admin_client)
    data["COINS_MIN_POSITIVE_RATE"] = "96.5"

    # when
    response = admin_client.post("/admin/constance/config/", data)

    # then
    assert response.status_code == 302
    assert coins_rules.min_positive_rate() == Decimal("96.5")
    # and the admin index names the registry
    assert "Rule numbers" in admin_client.get("/admin/").text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COINS_MIN_POSITIVE_RATE", "101"),
        ("COINS_VIOLATION_WINDOW_DAYS", "0"),
        ("AFFILIATE_MIN_STORE_LEVEL", "6"),
        ("ACTIVITIES_RELAXED_CATEGORIES", "home_garden,groceries"),
        ("MAILING_MIN_GMV_30D_CURRENCY", "XYZ"),
        ("COINS_OPENING_REGION", "US"),
    ],
)
def test_admin_refuses_an_out_of_range_rule_number(admin_client, name, value):
    # given
    data = _admin_form(admin_client)
    before = getattr(config, name)
    data[name] = value

    # when
    response = admin_client.post("/admin/constance/config/", data)

    # then: the form again, with the field's error, and nothing changed
    assert response.status_code == 200
    assert response.context["form"].errors.get(name)
    assert getattr(config, name) == before
