"""The console's chrome (issue 7 items 5, 6, 7, 10): failed checks say how to fix them, no rule
ids or "(s)" plurals on screen, times carry their zone, skip link and landmarks, branded admin."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation
from factories import login_client, make_member, make_order, make_orders, make_shop

from activities.selectors import overview
from affiliate.selectors import programme_checks
from coins.selectors import opening_checks
from core import clock
from core.money import Money
from mailing.selectors import eligibility_checks
from shops.models import Role
from shops.services import balance_credit, notify, violation_record

# --- a shop that fails every module's entry conditions ---------------------------------------


@pytest.fixture
def failing_shop(db):
    """Overseas, not certified, L1, rating 4.0, open 10 days, no feedback, no GMV in dollars,
    a serious violation, cancel rate 10/20 (the E-3a minimum sample), no certified carrier."""
    shop = make_shop(
        name="Failing Goods",
        currency="USD",
        registration_region="XX",
        enterprise_certified=False,
        store_level=1,
        store_rating="4.00",
        opened_at=clock.now() - timedelta(days=10),
    )
    violation_record(
        shop=shop, external_id="fv-1", kind="counterfeit", serious=True, occurred_at=clock.now()
    )
    for _ in range(10):
        make_order(shop, status="cancelled", placed_at=clock.now() - timedelta(days=2))
        make_order(shop, status="paid", placed_at=clock.now() - timedelta(days=1))
    return shop


@pytest.fixture
def failing_client(failing_shop):
    return login_client(
        make_member(failing_shop, Role.OWNER, username="failing-owner"), failing_shop
    )


def _all_checks(shop):
    ov = overview(shop=shop)
    return [
        *opening_checks(shop=shop),
        *programme_checks(shop=shop),
        *eligibility_checks(shop=shop),
        ov.cancel_check,
        ov.carrier_check,
    ]


def test_every_condition_that_fails_says_how_to_fix_it(failing_shop):
    # when
    checks = _all_checks(failing_shop)
    # then: every condition fails (or cannot be measured) and each carries a fix
    assert {c.state for c in checks} <= {"fail", "unknown"}
    missing = [c.code for c in checks if not c.fix]
    assert missing == []


def test_a_passing_condition_has_no_fix(db):
    # given: a healthy shop (make_shop passes the usual checks), no orders
    shop = make_shop(store_level=5)
    # when
    passed = [c for c in _all_checks(shop) if c.state == "pass"]
    # then
    assert passed
    assert [c.code for c in passed if c.fix or c.fix_url] == []


@pytest.mark.parametrize(
    ("url_name", "code", "link"),
    [
        ("activities:index", "e3_cancel_rate", "/orders/?status=cancelled"),
        ("affiliate:index", "a2_store_level", "/"),
        ("mailing:index", "m1_store_rating", "/orders/?status=paid"),
        ("coins:index", "c1b_positive_rate", "/orders/?status=delivered"),
    ],
)
def test_failed_check_renders_how_to_fix_with_its_link(failing_client, url_name, code, link):
    # when
    content = failing_client.get(reverse(url_name)).content.decode()
    # then: the check's block has a "How to fix" line with the link to act
    block = _check_block(content, code)
    assert 'data-state="fail"' in block
    assert "How to fix:" in block
    assert f'href="{link}"' in block


def _check_block(content: str, code: str) -> str:
    start = content.index(f'data-check="{code}"')
    end = content.find('class="sc-check ', start)
    return content[start : end if end != -1 else len(content)]


@pytest.mark.parametrize(
    "url_name", ["coins:index", "affiliate:index", "mailing:index", "activities:index"]
)
def test_each_failed_check_on_a_module_page_renders_its_fix(failing_client, url_name):
    # when
    content = failing_client.get(reverse(url_name)).content.decode()
    # then
    codes = re.findall(r'data-check="([^"]+)" data-state="(?:fail|unknown)"', content)
    assert codes, "the failing shop fails at least one condition on every module page"
    for code in codes:
        assert "data-fix" in _check_block(content, code), code


def test_fix_is_shown_in_chinese(failing_client):
    # given
    failing_client.cookies["django_language"] = "zh-hans"
    # when
    content = failing_client.get(reverse("activities:index")).content.decode()
    # then
    assert "如何解决" in content
    assert "How to fix" not in content


def test_shop_age_counts_with_ngettext(db):
    # given: a shop open for one day
    shop = make_shop(opened_at=clock.now() - timedelta(days=1, hours=1))
    # when
    with translation.override("en"):
        checks = {c.code: c for c in eligibility_checks(shop=shop)}
    # then: "1 day", never "1 days" or "1 day(s)"
    assert checks["m1_shop_age"].measured == "1 day"
    assert "Nothing to do but wait" in checks["m1_shop_age"].fix


def test_counts_have_thousands_separators(db):
    # given
    shop = make_shop(opened_at=clock.now() - timedelta(days=1526, hours=1))
    # when
    with translation.override("en"):
        checks = {c.code: c for c in eligibility_checks(shop=shop)}
    # then
    assert checks["m1_shop_age"].measured == "1,526 days"


# --- no rule ids, no "(s)" plurals on any seller page -------------------------------------------

RULE_ID = re.compile(r"SPEC [A-Z]-\d|\b[A-Z]-\d+\([a-z]\)")
S_PLURAL = re.compile(r"\w\((?:s|es)\)")


def _seller_urls(shop):
    order = shop.orders.order_by("-placed_at").first()
    product = shop.products.order_by("id").first()
    return {
        "dashboard": reverse("home"),
        "orders": reverse("orders:list"),
        "order-detail": reverse("orders:detail", args=[order.pk]),
        "products": reverse("shops:products"),
        "product-detail": reverse("shops:product_detail", args=[product.pk]),
        "coins": reverse("coins:index"),
        "affiliate": reverse("affiliate:index"),
        "mailing": reverse("mailing:index"),
        "activities": reverse("activities:index"),
        "balance": reverse("shops:balance"),
        "notifications": reverse("shops:notifications"),
        "notification-preferences": reverse("shops:notification_preferences"),
    }


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    "page",
    [
        name
        for name in [
            "dashboard",
            "orders",
            "order-detail",
            "products",
            "product-detail",
            "coins",
            "affiliate",
            "mailing",
            "activities",
            "balance",
            "notifications",
            "notification-preferences",
        ]
    ],
)
def test_no_seller_page_shows_a_rule_id_or_an_s_plural(
    failing_client, failing_shop, page, language
):
    # given: a shop whose checks all fail (every fix and detail text is on screen)
    failing_client.cookies["django_language"] = language
    balance_credit(
        shop=failing_shop, amount=Money(12_34, "USD"), reason="Settlement", idempotency_key="c-1"
    )
    # when
    response = failing_client.get(_seller_urls(failing_shop)[page])
    # then
    assert response.status_code == 200
    content = response.content.decode()
    assert RULE_ID.findall(content) == []
    assert S_PLURAL.findall(content) == []


def test_login_page_shows_no_rule_id_or_s_plural(client):
    # when
    content = client.get(reverse("login")).content.decode()
    # then
    assert RULE_ID.findall(content) == []
    assert S_PLURAL.findall(content) == []


# --- times with their zone (core.templatetags.sc_time) -----------------------------------------


def _render(source: str, **context) -> str:
    return Template("{% load sc_time %}" + source).render(Context(context))


def test_tztime_shows_the_time_in_the_platform_zone_with_its_abbreviation(settings):
    # given: 03:30 UTC is 11:30 in Asia/Shanghai (UTC+8, abbreviated CST)
    settings.PLATFORM_TIME_ZONE = "Asia/Shanghai"
    at = datetime(2026, 12, 2, 3, 30, tzinfo=UTC)
    # when
    html = _render("{{ at|tztime }}", at=at)
    # then
    assert html == (
        '<time datetime="2026-12-02T11:30:00+08:00">2026-12-02 11:30 '
        '<abbr class="sc-tz" title="Asia/Shanghai, UTC+08:00">CST</abbr></time>'
    )


def test_tztime_follows_daylight_saving_and_takes_a_format(settings):
    # given: Berlin is CEST (UTC+2) in July
    settings.PLATFORM_TIME_ZONE = "Europe/Berlin"
    at = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    # when
    html = _render('{{ at|tztime:"H:i" }}', at=at)
    # then
    assert ">12:00 <abbr" in html
    assert 'title="Europe/Berlin, UTC+02:00">CEST</abbr>' in html


def test_tztime_numeric_zone_names_become_utc_offsets(settings):
    # given: the tz database names America/Sao_Paulo "-03" (no letters)
    settings.PLATFORM_TIME_ZONE = "America/Sao_Paulo"
    # when
    html = _render("{{ at|tztime }}", at=datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    # then
    assert ">UTC-03:00</abbr>" in html


@pytest.mark.parametrize(("value", "expected"), [(None, "—"), ("", "—")])
def test_tztime_of_nothing_is_a_dash(value, expected):
    assert _render("{{ at|tztime }}", at=value) == expected


def test_tztime_of_a_date_has_no_zone():
    assert _render("{{ d|tztime }}", d=date(2026, 12, 2)) == "2026-12-02"


def test_tz_label_and_abbr(settings):
    settings.PLATFORM_TIME_ZONE = "Asia/Shanghai"
    assert _render("{% tz_label %}") == "Times in Asia/Shanghai (UTC+08:00)"
    assert _render("{% tz_abbr %}") == (
        '<abbr class="sc-tz" title="Asia/Shanghai, UTC+08:00">CST</abbr>'
    )
    assert _render("{% tz_offset %}") == "UTC+08:00"


def test_every_page_shows_the_time_zone_in_the_top_bar_and_footer(ui_client):
    # when
    content = ui_client.get(reverse("orders:list")).content.decode()
    # then
    top = content[content.index('id="sc-tz"') :]
    assert top.index('<abbr class="sc-tz"') < top.index("</span>\n")
    assert 'id="sc-footer"' in content
    assert "Times in Asia/Shanghai (UTC+08:00)" in content


def test_balance_entries_show_their_time_with_the_zone(ui_client, ui_shop):
    # given
    balance_credit(
        shop=ui_shop, amount=Money(5_00, "USD"), reason="Settlement", idempotency_key="t"
    )
    # when
    content = ui_client.get(reverse("shops:balance")).content.decode()
    # then
    entries = content[content.index("<tbody>") :]
    assert re.search(r'<time datetime="[^"]+\+08:00">[\d-]+ [\d:]+ <abbr class="sc-tz"', entries)


def test_notifications_show_their_time_with_the_zone(ui_client, ui_shop, ui_owner):
    # given
    notify(shop=ui_shop, kind="general", title="Hello")
    # when
    content = ui_client.get(reverse("shops:notifications")).content.decode()
    # then
    assert '<abbr class="sc-tz" title="Asia/Shanghai, UTC+08:00">CST</abbr></time>' in content


# --- skip link, landmarks, labels ---------------------------------------------------------------


def test_skip_link_is_the_first_thing_in_the_page_and_targets_the_main_landmark(ui_client):
    # when
    content = ui_client.get(reverse("home")).content.decode()
    # then
    body = content[content.index("<body") :]
    first_link = re.search(r"<a [^>]*>", body).group(0)
    assert 'href="#sc-main"' in first_link
    assert "sc-skip-link" in first_link
    assert '<main class="sc-main" id="sc-main" tabindex="-1">' in content
    assert 'aria-label="Main navigation"' in content
    assert "Skip to main content" in content


def test_top_bar_controls_have_names(ui_client):
    # when
    content = ui_client.get(reverse("home")).content.decode()
    # then: the shop switcher says what it is, the account menu whose it is
    switcher = content[content.index('id="sc-shop-switcher"') :]
    assert switcher.index("Current shop:") < switcher.index("</button>")
    account = content[content.index('id="sc-user-menu"') :]
    assert account.index("Account:") < account.index("</button>")
    assert 'id="sc-lang-switcher"' in content


def test_pages_have_the_brand_favicon(ui_client, client):
    for content in (
        ui_client.get(reverse("home")).content.decode(),
        client.get(reverse("login")).content.decode(),
    ):
        assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in content


def test_login_page_has_a_main_landmark(client):
    content = client.get(reverse("login")).content.decode()
    assert '<main class="sc-auth" id="sc-main">' in content


# --- Django admin -----------------------------------------------------------------------------


def test_admin_is_branded(admin_client):
    # when
    content = admin_client.get(reverse("admin:index")).content.decode()
    # then
    assert "<title>Platform administration | Seller Center admin</title>" in content
    assert "Seller Center administration" in content
    assert "Django administration" not in content
    assert 'href="/static/img/favicon.svg"' in content
    assert 'href="/static/css/admin.css"' in content


def test_admin_login_is_branded_and_has_the_favicon():
    # when
    content = Client().get(reverse("admin:login")).content.decode()
    # then
    assert "Seller Center administration" in content
    assert 'href="/static/img/favicon.ico"' in content


def test_admin_change_list_gets_the_readable_table_styles(admin_client, db):
    # given: an order to list
    make_orders(make_shop(), 2)
    # when
    content = admin_client.get(reverse("admin:orders_order_changelist")).content.decode()
    # then
    assert 'href="/static/css/admin.css"' in content
    assert 'id="result_list"' in content


def test_admin_static_files_exist():
    from django.contrib.staticfiles import finders

    for name in ("css/admin.css", "img/favicon.svg", "img/favicon.ico", "js/a11y.js"):
        assert finders.find(name), name
    with open(finders.find("img/favicon.ico"), "rb") as ico:
        assert ico.read(4) == b"\x00\x00\x01\x00"  # an ICO header


def test_chinese_admin_is_branded(admin_client):
    # when
    with translation.override("zh-hans"):
        admin_client.cookies["django_language"] = "zh-hans"
        content = admin_client.get(reverse("admin:index")).content.decode()
    # then
    assert "Seller Center administration" not in content
    assert "卖家中心" in content


def test_admin_change_list_has_no_app_sidebar_taking_the_tables_width(admin_client):
    # when
    content = admin_client.get(reverse("admin:shops_shop_changelist")).content.decode()
    # then
    assert 'id="nav-sidebar"' not in content
