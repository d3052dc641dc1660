"""The home dashboard as a morning briefing (issue 7 items 1 and 8): KPI changes against the
previous 30 days, today marked as partial, the needs-attention panel, module tiles, and numbers
and dates formatted for the active language."""

from datetime import timedelta
from decimal import Decimal

import pytest
from constance.test import override_config
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from factories import login_client, make_member, make_order, make_shop

from core import clock, tiles
from core.tiles import SEVERITY_CRITICAL, SEVERITY_WARNING, Attention
from orders.models import OrderStatus, ShopDailyStats
from orders.selectors import DailyWindow, cancellations_to_cross, ship_deadlines, window_before
from sellercenter.views import _rule_numbers_read_once, rank_attention


@pytest.fixture
def shop(db):
    return make_shop(name="Morning Tea", currency="USD")


@pytest.fixture
def client_for(shop):
    return login_client(make_member(shop, "owner", username="briefing-owner"), shop)


def _stats(shop, days_ago: int, **figures):
    day = clock.natural_day() - timedelta(days=days_ago)
    row, _ = ShopDailyStats.objects.update_or_create(shop=shop, day=day, defaults=figures)
    return row


def _text(response) -> str:
    return response.content.decode()


# --- selectors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cancelled", "created", "threshold", "expected"),
    [
        (2, 20, Decimal("15"), 2),  # 3/20 = 15% is not above 15%: 4 cancelled are
        (3, 20, Decimal("15"), 1),
        (4, 20, Decimal("15"), 0),  # already above
        (0, 10, Decimal("16.5"), 2),  # 2/10 = 20% > 16.5%
        (0, 0, Decimal("15"), None),  # no orders, no rate
        (0, 1, Decimal("100"), None),  # even all cancelled would not be above 100%
    ],
)
def test_e3_cancellations_to_cross_the_threshold(cancelled, created, threshold, expected):
    assert (
        cancellations_to_cross(cancelled=cancelled, created=created, threshold=threshold)
        == expected
    )


def test_window_before_reads_the_previous_30_days_without_a_query(shop):
    # given: 5 orders 40 days ago, 7 today
    _stats(shop, 40, orders_created=5, gmv_minor=500)
    _stats(shop, 0, orders_created=7, gmv_minor=900)
    window = DailyWindow(shop=shop, days=120)
    # when
    with CaptureQueriesContext(connection) as ctx:
        before = window_before(window, 30)
        previous = (before.total("orders_created", 30), before.gmv(30).amount)
    # then
    assert len(ctx.captured_queries) == 0
    assert previous == (5, 500)
    assert (window.total("orders_created", 30), window.gmv(30).amount) == (7, 900)


def test_e3_ship_deadlines_count_paid_unshipped_orders_against_72_hours(shop):
    now = clock.now()
    # given: paid orders placed 10 h, 60 h (due within 24 h) and 80 h ago (late); a shipped one
    make_order(shop, status=OrderStatus.PAID, placed_at=now - timedelta(hours=10))
    make_order(shop, status=OrderStatus.PAID, placed_at=now - timedelta(hours=60))
    make_order(shop, status=OrderStatus.PAID, placed_at=now - timedelta(hours=61))
    make_order(shop, status=OrderStatus.PAID, placed_at=now - timedelta(hours=80))
    make_order(shop, status=OrderStatus.SHIPPED, placed_at=now - timedelta(hours=60))
    # when
    deadlines = ship_deadlines(shop=shop, at=now)
    # then
    assert (deadlines.due_soon, deadlines.overdue) == (2, 1)


# --- the page: KPI changes ---------------------------------------------------------------------


def test_every_kpi_shows_its_change_against_the_previous_30_days(shop, client_for):
    # given: the previous 30 days and the last 30 days
    _stats(shop, 45, orders_created=10, orders_cancelled=1, gmv_minor=10_000)
    _stats(shop, 45 + 30, feedback_total=10, feedback_positive=10)  # in the 90 days before
    _stats(shop, 5, orders_created=15, orders_cancelled=3, gmv_minor=12_500)
    _stats(shop, 3, feedback_total=10, feedback_positive=8)
    # when
    response = client_for.get(reverse("home"))
    # then: amounts and counts in percent, rates in points, each with words not only colour
    changes = response.context["kpi_changes"]
    assert (changes["gmv"]["text"], changes["gmv"]["tone"]) == ("+25.0%", "good")
    assert (changes["orders"]["text"], changes["orders"]["tone"]) == ("+50.0%", "good")
    # cancel rate 20.0% against 10.0%: up 10 points, worse
    assert (changes["cancel"]["text"], changes["cancel"]["tone"]) == ("+10.0 pts", "bad")
    # positive rate 90.0% (18 of 20 in 90 days) against 100.0% 30 days ago
    assert (changes["positive"]["text"], changes["positive"]["tone"]) == ("−10.0 pts", "bad")
    content = _text(response)
    for key in ("gmv", "orders", "cancel", "positive"):
        assert f'id="kpi-{key}-change"' in content
    assert "up, worse" in content  # the words behind the colour
    assert "up, better" in content
    assert "vs previous 30 days" in content


def test_a_kpi_without_a_previous_period_says_so(shop, client_for):
    _stats(shop, 1, orders_created=4, gmv_minor=400)
    changes = client_for.get(reverse("home")).context["kpi_changes"]
    assert changes["orders"]["text"] == "new"
    assert changes["positive"]["text"] == "—"


# --- today is a partial day --------------------------------------------------------------------


def test_today_is_marked_as_partial_in_the_charts_and_their_tables(shop, client_for):
    _stats(shop, 0, orders_created=2, gmv_minor=300)
    response = client_for.get(reverse("home"))
    chart = response.context["chart"]
    assert chart["partial"] == 29 == len(chart["labels"]) - 1
    assert chart["labels"][-1].endswith("(so far)")
    assert not any(label.endswith("(so far)") for label in chart["labels"][:-1])
    content = _text(response)
    # a data table behind each chart, 30 days each, today labelled
    assert content.count('<details class="sc-chart-data">') == 2
    assert content.count("(today so far)") >= 2
    assert chart["gmv"]["text"][-1] == "$3.00"  # tooltips: the cards' money style
    assert chart["symbol"] == "$"


# --- needs attention ---------------------------------------------------------------------------


def test_e3_attention_gives_the_cancellation_headroom_before_the_threshold(shop, client_for):
    # given: 2 of 20 orders cancelled, threshold 15%: 2 more would make 4/20 = 20% > 15%
    _stats(shop, 2, orders_created=20, orders_cancelled=2)
    # when
    with override_config(ACTIVITIES_CANCEL_RATE_MAX=Decimal("15")):
        response = client_for.get(reverse("home"))
    # then
    content = _text(response)
    assert (
        "2 more cancellations would take your 30-day cancel rate (now 10.0%) above 15.0%."
        in content
    )
    assert f"{reverse('orders:list')}?status=paid&amp;sort=placed" in content


def test_e3_attention_says_one_cancellation_in_the_singular(shop, client_for):
    _stats(shop, 2, orders_created=20, orders_cancelled=3)
    with override_config(ACTIVITIES_CANCEL_RATE_MAX=Decimal("15")):
        content = _text(client_for.get(reverse("home")))
    assert "1 more cancellation would take" in content
    assert "cancellation(s)" not in content


def test_e3_a_breached_cancel_rate_is_urgent(shop, client_for):
    _stats(shop, 2, orders_created=20, orders_cancelled=5)
    with override_config(ACTIVITIES_CANCEL_RATE_MAX=Decimal("15")):
        attention = client_for.get(reverse("home")).context["attention"]
    assert attention[0].severity == SEVERITY_CRITICAL
    assert "25.0%" in attention[0].text
    assert "15.0%" in attention[0].text
    assert attention[0].url == reverse("activities:index")


def test_e8_a_dsr_under_the_registry_minimum_needs_attention(shop, client_for):
    # given: shipping-speed DSR 4.50 over two reviews, the others 5
    _stats(
        shop,
        1,
        reviews=2,
        dsr_item_as_described_sum=10,
        dsr_communication_sum=10,
        dsr_shipping_sum=9,
    )
    # when
    with override_config(ACTIVITIES_REENROL_MIN_DSR=Decimal("4.7")):
        attention = client_for.get(reverse("home")).context["attention"]
    # then: one item, for shipping speed only
    texts = [a.text for a in attention]
    assert texts == [
        "Shipping speed rating is 4.50 over 30 days, under the 4.70 a shop needs to re-enrol in "
        "activities."
    ]


def test_e3_orders_near_their_shipping_deadline_need_attention_with_a_link(shop, client_for):
    now = clock.now()
    make_order(shop, status=OrderStatus.PAID, placed_at=now - timedelta(hours=60))
    make_order(shop, status=OrderStatus.PAID, placed_at=now - timedelta(hours=90))
    attention = client_for.get(reverse("home")).context["attention"]
    texts = [a.text for a in attention]
    assert texts[0] == "1 paid order is past its 72-hour shipping deadline."
    assert "1 paid order must ship within 24 hours." in texts
    assert attention[0].url == f"{reverse('orders:list')}?status=paid&sort=placed"


def test_c1_a_positive_rate_just_above_the_coin_minimum_needs_attention(shop, client_for):
    # given: 95.5% positive over 90 days, the coin minimum 95%
    _stats(shop, 10, feedback_total=200, feedback_positive=191)
    with override_config(COINS_MIN_POSITIVE_RATE=Decimal("95")):
        attention = client_for.get(reverse("home")).context["attention"]
    coin = [a for a in attention if a.url == reverse("coins:index")]
    assert len(coin) == 1
    assert "95.5%" in coin[0].text
    assert "95%" in coin[0].text


def test_attention_is_ranked_by_severity_then_urgency():
    low = Attention(severity=SEVERITY_WARNING, text="a", url="/", action="x", weight=1)
    high = Attention(severity=SEVERITY_WARNING, text="b", url="/", action="x", weight=5)
    urgent = Attention(severity=SEVERITY_CRITICAL, text="c", url="/", action="x", weight=0)
    assert rank_attention([low, high, urgent]) == [urgent, high, low]


def test_a_quiet_shop_has_nothing_to_attend_and_no_rule_ids_on_screen(shop, client_for):
    content = _text(client_for.get(reverse("home")))
    assert "Nothing needs your attention right now." in content
    assert "SPEC" not in content


# --- module tiles ------------------------------------------------------------------------------


def test_each_marketing_module_has_a_tile_with_its_entry_status(shop, client_for):
    response = client_for.get(reverse("home"))
    names = [t["name"] for t in response.context["tiles"]]
    assert names == ["coins", "affiliate", "mailing", "activities", "buyers"]
    content = _text(response)
    assert 'id="tile-buyers"' in content  # buyers: the shop's customers to watch, no entry status
    for name in names[:-1]:
        assert f'id="tile-{name}"' in content
        assert f'href="{reverse(name + ":index")}"' in content


def test_a_registered_tile_is_rendered_and_one_returning_none_is_not(shop, client_for):
    tiles.register(
        "zz-test",
        order=99,
        context=lambda r, s: {
            "title": "Test tile",
            "icon": "bi-x",
            "eligible": True,
            "failed": 0,
            "url": "/x/",
        },
        template="coins/_tile.html",
    )
    tiles.register("zz-none", order=98, context=lambda r, s: None, template="coins/_tile.html")
    try:
        response = client_for.get(reverse("home"))
    finally:
        tiles.registry.unregister("zz-test")
        tiles.registry.unregister("zz-none")
    names = [t["name"] for t in response.context["tiles"]]
    assert names[-1] == "zz-test"
    assert "zz-none" not in names
    assert "Test tile" in _text(response)


def test_each_tile_runs_at_most_two_queries(shop, rf):
    # given: a shop with orders (the tiles' reads must not depend on them)
    for _ in range(3):
        make_order(shop, status=OrderStatus.COMPLETED)
    request = rf.get("/")
    for tile in tiles.registry.all():  # the rule numbers get their rows (defaults) once
        tile.context(request, shop)
    # when / then: with the rule numbers read once for the page, as the home view does
    with _rule_numbers_read_once():
        for tile in tiles.registry.all():
            with CaptureQueriesContext(connection) as ctx:
                tile.context(request, shop)
            assert len(ctx.captured_queries) <= 2, (
                tile.name,
                [q["sql"][:200] for q in ctx.captured_queries],
            )


def test_the_dashboard_query_count_does_not_grow_with_tiles_data(db):
    small, big = make_shop(name="Small tiles"), make_shop(name="Big tiles")
    for _ in range(2):
        make_order(small, status=OrderStatus.PAID)
    for _ in range(12):
        make_order(big, status=OrderStatus.PAID, placed_at=clock.now() - timedelta(hours=60))

    queries = []

    def count(shop, name):
        client = login_client(make_member(shop, "owner", username=name), shop)
        client.get(reverse("home"))  # the session settles, the rule numbers get their rows
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("home")).status_code == 200
        queries.extend(ctx.captured_queries)
        return len(ctx.captured_queries)

    small_n, big_n = count(small, "tiles-small"), count(big, "tiles-big")
    assert not [
        q
        for q in queries
        if not q["sql"].lstrip().upper().startswith(("SELECT", "SAVEPOINT", "RELEASE"))
    ]
    assert small_n == big_n
    # the page itself, one window, the deadlines, recent orders, the registry once, the tiles
    assert big_n <= 8 + 2 * len(tiles.registry.all())


# --- numbers and dates in the active language (item 8) ----------------------------------------


@pytest.mark.parametrize(
    ("language", "count", "day"),
    [("en", "12,345", "Nov 3, 2026"), ("zh-hans", "12,345", "2026年11月3日")],
)
def test_counts_have_thousands_separators_and_dates_follow_the_language(language, count, day):
    from datetime import date

    template = Template('{% load sc %}{{ n|num }}|{{ d|ldate:"date" }}|{{ r|pct }}')
    with translation.override(language):
        out = template.render(Context({"n": 12345, "d": date(2026, 11, 3), "r": Decimal("1234.5")}))
    assert out == f"{count}|{day}|1,234.5%"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_kpi_and_the_period_render_in_english_and_chinese(shop, client_for, language):
    # given: 12,345 orders in the window, $1,234,567.89 of GMV
    _stats(shop, 3, orders_created=12345, gmv_minor=123_456_789)
    # when
    client_for.cookies["django_language"] = language
    response = client_for.get(reverse("home"), HTTP_ACCEPT_LANGUAGE=language)
    content = _text(response)
    first = response.context["first_day"]
    # then: the same separators and currency style in both languages, dates in the language's
    assert 'id="kpi-orders">12,345<' in content
    assert 'id="kpi-gmv">$1,234,567.89<' in content
    assert response.context["chart"]["gmv"]["text"][-4] == "$1,234,567.89"
    if language == "en":
        assert first.strftime("%b ") + str(first.day) + first.strftime(", %Y") in content
        assert "vs previous 30 days" in content
    else:
        assert f"{first.year}年{first.month}月{first.day}日" in content
        assert "较前 30 天" in content
        assert response.context["chart"]["labels"][-1].endswith("（截至目前）")


def test_e3a_a_cancel_rate_on_too_few_orders_raises_no_alarm(shop, client_for):
    # given: 2 of 10 orders cancelled (20% > 15%), under the 20-order minimum sample
    _stats(shop, 2, orders_created=10, orders_cancelled=2)
    # when
    with override_config(ACTIVITIES_CANCEL_RATE_MAX=Decimal("15")):
        attention = client_for.get(reverse("home")).context["attention"]
    # then
    assert not [a for a in attention if "cancel" in a.text]


def test_counts_on_every_list_use_the_locale_aware_separator():
    """Item 8: Django's Chinese formats print 12345 with `intcomma`; `num` keeps the separator
    in both languages, so no seller template may fall back to `intcomma`."""
    from pathlib import Path

    from django.conf import settings

    templates = Path(settings.BASE_DIR).glob("**/templates/**/*.html")
    offenders = [
        str(t)
        for t in templates
        if ".venv" not in t.parts and "admin" not in t.parts and "intcomma" in t.read_text()
    ]
    assert offenders == []
