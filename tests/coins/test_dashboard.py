"""The coin dashboard (SPEC C-11) and the home tile: figures from set-based queries (the query
count does not grow with the data), a data table behind every chart, tenant isolation."""

from datetime import timedelta

import pytest
import time_machine
from coinkit import coin_order, coin_product, coin_shop, give, rule
from django.urls import reverse
from factories import make_buyer, make_order

from coins import services
from coins.report_selectors import coin_totals, daily_coins
from core import clock
from core.tiles import SEVERITY_CRITICAL, SEVERITY_WARNING

pytestmark = pytest.mark.django_db


def _activity(shop, n):
    """n buyers each granted 1,000 coins by one rule, each redeeming 300 on a coin order."""
    sku = coin_product(shop)
    r = rule(shop, coins=1000)
    for _ in range(n):
        buyer = make_buyer()
        services.grant_issue(rule_id=r.pk, order=make_order(shop, buyer, status="paid"), coins=1000)
        coin_order(shop, buyer, sku, 300, status="paid")
    return r


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_c11_dashboard_figures_and_tables(shop_a, analyst_client):
    coin_shop(shop_a, fund=100_000)
    r = _activity(shop_a, 3)
    response = analyst_client.get(reverse("coins:dashboard"))
    assert response.status_code == 200
    totals = response.context["totals"]
    assert (totals.issued, totals.redeemed, totals.outstanding) == (3000, 900, 2100)
    assert totals.redemption_percent == 30
    # all 2,100 held coins expire after 180 days: none within 30 or 60, all within 180 + 1 day
    assert (totals.expiring_30, totals.expiring_60) == (0, 0)
    body = response.content.decode()
    assert 'id="coins-daily-table"' in body
    assert 'id="coins-expiring-table"' in body
    assert "63.5%" in body  # the industry figure beside the shop's
    assert 'id="kpi-redemption">30.0%<' in body
    assert "chart.umd.min.js" in body
    assert "C-11" not in body
    # ROI per rule: 3,000 coins = ¥30 against the GMV of the three orders it granted for
    roi = response.context["roi_rows"][0]
    assert roi["rule"].pk == r.pk
    assert roi["cost"].amount == 30_00
    assert roi["gmv"].amount > 0
    # coin orders vs others
    cmp = response.context["compare"]["raw"]
    assert cmp.coin_orders == 3


def test_c11_daily_series_by_natural_day_and_expiring_windows(shop_a):
    coin_shop(shop_a, fund=100_000)
    buyer = make_buyer()
    give(shop_a, buyer, 500)
    with time_machine.travel(clock.now() + timedelta(days=170), tick=False):
        totals = coin_totals(shop=shop_a)
        assert (totals.expiring_30, totals.expiring_60, totals.expiring_180) == (500, 500, 500)
    with time_machine.travel(clock.now() + timedelta(days=181), tick=False):
        services.lots_expire()
        series = daily_coins(shop=shop_a, days=90)
    assert len(series) == 90
    assert series[-1].expired == 500
    assert sum(d.issued for d in series) == 0  # the grant is 181 days back, out of the window


def test_c11_dashboard_query_count_is_constant_in_data_size(
    shop_a, shop_b, owner, other_owner, owner_client, other_client, django_assert_max_num_queries
):
    coin_shop(shop_a, fund=1_000_000)
    coin_shop(shop_b, fund=1_000_000)
    _activity(shop_a, 2)
    _activity(shop_b, 12)
    for _ in range(12):
        rule(shop_b)
    url = reverse("coins:dashboard") + "?days=90"
    _queries(owner_client, url)
    _queries(other_client, url)
    small = _queries(owner_client, url)
    big = _queries(other_client, url)
    assert small == big
    with django_assert_max_num_queries(25):
        other_client.get(url)


def test_c11_dashboard_shows_only_this_shops_coins(shop_a, shop_b, owner_client):
    coin_shop(shop_a)
    coin_shop(shop_b, fund=100_000)
    r = _activity(shop_b, 2)
    response = owner_client.get(reverse("coins:dashboard"))
    assert response.context["totals"].issued == 0
    assert r.name not in response.content.decode()


def test_c11_dashboard_without_account_and_bad_window(shop_a, owner_client):
    response = owner_client.get(reverse("coins:dashboard") + "?days=abc&page=xyz")
    assert response.status_code == 200
    assert response.context["days"] == 30
    assert "open it" in response.content.decode()


def _tile(shop):
    from coins.apps import home_tile

    return home_tile(None, shop)


def test_c4_tile_warns_when_the_fund_is_below_the_display_minimum(shop_a):
    coin_shop(shop_a, fund=499_99)  # ¥499.99 < ¥500
    ctx = _tile(shop_a)
    assert ctx["summary"].account.active
    warn = [a for a in ctx["attention"] if a.url == reverse("coins:index")]
    assert len(warn) == 1
    assert warn[0].severity == SEVERITY_WARNING
    assert "¥499.99" in warn[0].text
    from coinkit import top_up

    top_up(shop_a, 1)  # exactly ¥500: no warning
    assert [a for a in _tile(shop_a)["attention"] if "coin fund" in a.text] == []


def test_c11_tile_shows_month_against_ceiling_and_warns_when_reached(shop_a):
    coin_shop(shop_a, fund=100_000)
    services.ceiling_set(shop=shop_a, ceiling_coins=500)
    give(shop_a, make_buyer(), 400)
    ctx = _tile(shop_a)
    assert (ctx["summary"].guardrail.issued, ctx["summary"].guardrail.ceiling) == (400, 500)
    assert ctx["summary"].outstanding == 400
    assert not any(a.severity == SEVERITY_CRITICAL for a in ctx["attention"])
    give(shop_a, make_buyer(), 100)
    crit = [a for a in _tile(shop_a)["attention"] if a.severity == SEVERITY_CRITICAL]
    assert len(crit) == 1
    assert crit[0].url == reverse("coins:rules")


def test_c11_tile_renders_on_the_home_dashboard(shop_a, owner_client):
    coin_shop(shop_a, fund=100_000)
    give(shop_a, make_buyer(), 1234)
    body = owner_client.get("/").content.decode()
    assert "1,234 coins held by buyers" in body
    assert reverse("coins:dashboard") in body
