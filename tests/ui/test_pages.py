"""Every seller page renders for a member, refuses strangers, and never 500s on bad input."""

import re

import pytest
from django.urls import reverse
from factories import (
    PASSWORD,
    login_client,
    make_buyer,
    make_order,
    make_orders,
    make_product,
    make_shop,
    make_user,
)

from orders.models import Order, ShopDailyStats
from shops.middleware import SESSION_KEY

# (url name, the page's own <h1>, a text of its body that no other page shows)
SELLER_PAGES = [
    ("home", "Welcome back — Lotus Home", 'id="kpi-gmv"'),
    ("orders:list", "Orders", 'action="/orders/"'),
    ("shops:products", "Products", 'action="/shops/products/"'),
    ("coins:index", "Coin marketing", "Opening checks"),
    ("coins:products", "Coin deduction by product", 'id="coin-products-filter"'),
    ("coins:wallets", "Buyers' coins", "Every buyer holding coins of your shop"),
    ("coins:rules", "Issuance rules", "Monthly issuance ceiling"),
    ("coins:dashboard", "Coin dashboard", 'id="coins-daily-table"'),
    ("coins:grade", "Coin grade", 'id="live-grade"'),
    ("affiliate:index", "Affiliate programme", "Programme check"),
    ("affiliate:orders", "Attributed orders", 'id="commission-list"'),
    ("affiliate:promoters", "Promoters", 'id="promoter-list"'),
    ("affiliate:diagnose", "Attribution diagnostics", 'id="diag-number"'),
    ("affiliate:report", "Commission report", 'id="aff-daily-table"'),
    ("affiliate:pending", "Pending commissions", 'id="pending-list"'),
    ("mailing:index", "Email marketing", "Eligibility"),
    ("activities:index", "Marketing activities", "Logistics for activities"),
    ("activities:monitor", "Activity monitor", "Not evaluated yet"),
    ("activities:reenrol", "Re-enrolment self-check", "never removed from an activity"),
]


def _assert_is_page(content: str, heading: str, text: str) -> None:
    """The page's heading and a text of its body, not only the shell every page shares."""
    h1 = re.search(r"<h1 class=\"h3 mb-1\">(.*?)</h1>", content, re.S)
    assert h1, "no page heading"
    assert " ".join(h1.group(1).split()) == heading
    assert text in content
    for _, _, other_text in SELLER_PAGES:
        if other_text != text:
            assert other_text not in content, f"{other_text!r} belongs to another page"


# --- access ------------------------------------------------------------------------------------


def test_login_page_renders(client, db):
    # when
    response = client.get(reverse("login"))
    # then
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_login_with_valid_credentials_lands_on_dashboard(client, ui_owner):
    # when
    response = client.post(
        reverse("login"), {"username": "ui-owner", "password": PASSWORD}, follow=True
    )
    # then
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("home")
    assert b"Lotus Home" in response.content


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/orders/",
        "/orders/1/",
        "/shops/products/",
        "/shops/products/1/",
        "/coins/",
        "/coins/rules/",
        "/coins/rules/new/",
        "/coins/dashboard/",
        "/coins/grade/",
        "/affiliate/",
        "/affiliate/orders/",
        "/affiliate/promoters/",
        "/affiliate/diagnose/",
        "/affiliate/report/",
        "/affiliate/pending/",
        "/affiliate/report.csv",
        "/affiliate/pending.csv",
        "/mailing/",
        "/activities/",
    ],
)
def test_anonymous_access_redirects_to_login(client, db, url):
    # when
    response = client.get(url)
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_user_without_a_shop_sees_the_no_shop_page(db):
    # given
    client = login_client(make_user("lonely"))
    # when
    response = client.get(reverse("home"))
    # then
    assert response.status_code == 403
    assert b"not a member of any shop" in response.content


def test_404_page_is_the_product_page_not_a_trace(ui_client):
    # when
    response = ui_client.get("/no-such-page/")
    # then
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_500_template_renders_without_any_context():
    from django.template.loader import get_template

    # when
    html = get_template("500.html").render()
    # then
    assert "Something went wrong" in html


# --- every page renders for a member -----------------------------------------------------------


@pytest.mark.parametrize(("name", "heading", "text"), SELLER_PAGES)
def test_seller_page_renders_for_member(ui_client, ui_shop, name, heading, text):
    # given
    make_orders(ui_shop, 3)
    # when
    response = ui_client.get(reverse(name))
    # then
    assert response.status_code == 200
    content = response.content.decode()
    _assert_is_page(content, heading, text)
    # the shell: shop switcher, language switcher, sidebar with the four marketing modules
    assert reverse("shops:switch") in content
    assert reverse("set_language") in content
    for module in ("coins:index", "affiliate:index", "mailing:index", "activities:index"):
        assert f'href="{reverse(module)}"' in content
    assert 'hx-headers=\'{"X-CSRFToken": "' in content


@pytest.mark.parametrize(("name", "heading", "text"), SELLER_PAGES)
def test_seller_page_renders_for_read_only_analyst(ui_analyst_client, ui_shop, name, heading, text):
    # given
    make_orders(ui_shop, 2)
    # when
    response = ui_analyst_client.get(reverse(name))
    # then: the same page the owner sees, not an error page with status 200
    assert response.status_code == 200
    _assert_is_page(response.content.decode(), heading, text)


def test_dashboard_shows_kpis_from_the_daily_stats(ui_client, ui_shop):
    # given: 6 orders, one of each stage; one cancelled, one pending
    made = make_orders(ui_shop, 6)
    paid = [o for o in made if o.amount_paid_minor]
    gmv = sum(
        o.amount_paid_minor - o.refunded_minor
        for o in Order.objects.filter(pk__in=[o.pk for o in paid])
    )
    # when
    response = ui_client.get(reverse("home"))
    # then
    content = response.content.decode()
    assert response.context["orders_30d"] == 6
    assert response.context["gmv"].amount == gmv
    assert f'id="kpi-gmv">{response.context["gmv"].format()}<' in content
    assert 'id="kpi-orders">6<' in content
    assert 'id="kpi-cancel">16.7%<' in content  # 1 of 6 cancelled
    assert "L3" in content
    assert "4.80" in content
    assert 'id="dashboard-chart"' in content  # chart data for static/js/app.js
    assert ShopDailyStats.objects.filter(shop=ui_shop).exists()


# --- orders ------------------------------------------------------------------------------------


def test_orders_list_shows_orders_of_the_current_shop_only(ui_client, ui_shop, ui_foreign_order):
    # given
    mine = make_order(ui_shop, status="paid", number="MINE-1")
    # when
    response = ui_client.get(reverse("orders:list"))
    # then
    assert mine.number.encode() in response.content
    assert b"RIVAL-1" not in response.content


def test_orders_list_filters_by_status_number_and_buyer(ui_client, ui_shop):
    # given
    alice = make_buyer(email="alice.w@example.org")
    make_order(ui_shop, status="paid", number="N-100", buyer=alice)
    make_order(ui_shop, status="cancelled", number="N-200")
    make_order(ui_shop, status="shipped", number="X-300")
    url = reverse("orders:list")
    # when / then
    assert _numbers(ui_client.get(url, {"status": "cancelled"})) == ["N-200"]
    assert sorted(_numbers(ui_client.get(url, {"number": "n-"}))) == ["N-100", "N-200"]
    assert _numbers(ui_client.get(url, {"buyer": "alice"})) == ["N-100"]
    assert _numbers(ui_client.get(url, {"buyer": alice.external_id})) == ["N-100"]


def test_orders_list_filters_by_placed_date(ui_client, ui_shop):
    # given
    from datetime import timedelta

    from core import clock

    old = make_order(
        ui_shop, status="paid", placed_at=clock.now() - timedelta(days=20), number="OLD-1"
    )
    make_order(ui_shop, status="paid", placed_at=clock.now() - timedelta(days=2), number="NEW-1")
    day = clock.natural_day(old.placed_at)
    # when
    response = ui_client.get(
        reverse("orders:list"), {"date_from": day.isoformat(), "date_to": day.isoformat()}
    )
    # then
    assert _numbers(response) == ["OLD-1"]


def test_orders_list_sorts_by_amount_and_number(ui_client, ui_shop):
    # given
    sku_cheap = make_product(ui_shop, n_skus=1).skus.first()
    make_order(ui_shop, status="paid", number="B-2", sku=sku_cheap, quantity=1)
    make_order(ui_shop, status="paid", number="A-1", sku=sku_cheap, quantity=3)
    make_order(ui_shop, status="paid", number="C-3", sku=sku_cheap, quantity=2)
    url = reverse("orders:list")
    # when / then
    assert _numbers(ui_client.get(url, {"sort": "-amount"})) == ["A-1", "C-3", "B-2"]
    assert _numbers(ui_client.get(url, {"sort": "amount"})) == ["B-2", "C-3", "A-1"]
    assert _numbers(ui_client.get(url, {"sort": "number"})) == ["A-1", "B-2", "C-3"]
    assert _numbers(ui_client.get(url, {"sort": "-number"})) == ["C-3", "B-2", "A-1"]


def test_orders_list_paginates_25_per_page(ui_client, ui_shop, settings):
    # given
    make_orders(ui_shop, 30)
    url = reverse("orders:list")
    # when
    first = ui_client.get(url)
    second = ui_client.get(url, {"after": first.context["page_obj"].next_cursor})
    back = ui_client.get(url, {"before": second.context["page_obj"].previous_cursor})
    # then
    assert settings.SC_PAGE_SIZE == 25
    assert len(_numbers(first)) == 25
    assert len(_numbers(second)) == 5
    assert set(_numbers(first)).isdisjoint(_numbers(second))
    assert _numbers(back) == _numbers(first)
    assert b"30 orders" in first.content
    assert b'rel="next"' in first.content
    assert b'rel="next"' not in second.content
    assert b'rel="prev"' in second.content


def test_orders_count_is_capped_but_pages_go_on(ui_client, ui_shop, monkeypatch):
    # given: a cap of 5 stands in for the 10,000 of production, over a filtered list
    monkeypatch.setattr("orders.views.COUNT_CAP", 5)
    monkeypatch.setattr("django.conf.settings.SC_PAGE_SIZE", 3)
    made = make_orders(ui_shop, 8)
    url = reverse("orders:list")
    query = {"number": made[0].number[:2]}
    # when: walk every page
    seen, response = [], ui_client.get(url, query)
    while True:
        assert response.status_code == 200
        seen += _numbers(response)
        page = response.context["page_obj"]
        if not page.has_next:
            break
        response = ui_client.get(url, {**query, "after": page.next_cursor})
    # then: the count stops at the cap, the pages do not
    assert b"More than 5 orders" in ui_client.get(url, query).content
    assert sorted(seen) == sorted(o.number for o in made)


def test_orders_htmx_request_returns_only_the_table(ui_client, ui_shop):
    # given
    make_orders(ui_shop, 3)
    # when
    response = ui_client.get(
        reverse("orders:list"), {"status": "completed"}, headers={"HX-Request": "true"}
    )
    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert "<table" in content
    assert "<html" not in content
    assert "sc-sidebar" not in content
    assert 'id="orders-filter"' not in content  # the filter form stays on the page
    assert "HX-Request" in response["Vary"]


def test_orders_htmx_history_restore_gets_the_full_page(ui_client, ui_shop):
    # when
    response = ui_client.get(
        reverse("orders:list"), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    # then
    assert b"<html" in response.content


def test_orders_links_work_without_javascript(ui_client, ui_shop):
    # given
    make_orders(ui_shop, 30)
    # when
    content = ui_client.get(reverse("orders:list")).content.decode()
    # then: every hx-get link keeps a plain href to the same place
    import re

    nxt = re.search(r'href="(\?after=[^"]+)" hx-get="([^"]+)"', content)
    assert nxt is not None
    assert nxt.group(1) == nxt.group(2)
    assert 'method="get" action="/orders/"' in content


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date_from": "yesterday"}, "Enter a valid date."),
        ({"date_to": "2024-13-45"}, "Enter a valid date."),
        ({"status": "teleported"}, "Select a valid choice."),
        (
            {"date_from": "2025-02-01", "date_to": "2025-01-01"},
            "The end date is before the start date.",
        ),
        ({"number": "x" * 500}, "Ensure this value has at most 64 characters"),
    ],
)
def test_orders_bad_filters_show_a_form_error_not_a_500(ui_client, ui_shop, query, message):
    # given
    make_orders(ui_shop, 2)
    # when
    response = ui_client.get(reverse("orders:list"), query)
    # then
    assert response.status_code == 200
    assert "Some filters were not applied" in response.content.decode()
    assert message in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"page": "abc"},
        {"page": "99999"},
        {"page": "-1"},
        {"sort": "password"},
        {"sort": "-id;drop"},
        {"page": ""},
    ],
)
def test_orders_junk_page_or_sort_falls_back(ui_client, ui_shop, query):
    # given
    make_orders(ui_shop, 3)
    # when
    response = ui_client.get(reverse("orders:list"), query)
    # then
    assert response.status_code == 200
    assert len(_numbers(response)) == 3


def test_order_detail_shows_amounts_lines_and_timeline(ui_client, ui_order):
    # when
    response = ui_client.get(reverse("orders:detail", args=[ui_order.pk]))
    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert "UI-DETAIL-1" in content
    for money in (
        ui_order.subtotal,
        ui_order.amount_paid,
        ui_order.refunded,
        ui_order.gmv,
        ui_order.invoice_amount,
    ):
        assert money.format() in content
    for label in (
        "Order placed",
        "Payment succeeded",
        "Shipped",
        "In transit",
        "Delivered",
        "Partial refund",
        "Dispute opened",
        "Dispute closed",
    ):
        assert label in content
    titles = [e.title for e in response.context["timeline"]]
    times = [e.at for e in response.context["timeline"]]
    assert times == sorted(times)
    assert titles[0] == "Order placed"
    assert "Hub 0" in content
    assert "Scratched" in content
    assert "Not as described" in content


def test_b8_order_detail_shows_full_contact_to_owner(ui_client, ui_order):
    # when
    content = ui_client.get(reverse("orders:detail", args=[ui_order.pk])).content.decode()
    # then
    assert "jeanne.martin@orange.fr" in content
    assert "+33612345678" in content


def test_b8_marketer_sees_full_contact(ui_shop, ui_order):
    # given
    from shops.services import membership_grant

    marketer = make_user("ui-marketer")
    membership_grant(user=marketer, shop=ui_shop, role="marketer")
    # when
    content = (
        login_client(marketer, ui_shop).get(reverse("orders:detail", args=[ui_order.pk])).content
    )
    # then
    assert b"jeanne.martin@orange.fr" in content


def test_b8_order_detail_and_list_mask_contact_for_analyst(ui_analyst_client, ui_order):
    # when
    detail = ui_analyst_client.get(reverse("orders:detail", args=[ui_order.pk])).content.decode()
    listing = ui_analyst_client.get(reverse("orders:list")).content.decode()
    # then
    assert "jeanne.martin@orange.fr" not in detail
    assert "+33612345678" not in detail
    assert "j***@orange.fr" in detail
    assert "jeanne.martin@orange.fr" not in listing
    assert "j***@orange.fr" in listing


def test_order_of_another_shop_is_404(ui_client, ui_foreign_order):
    # when
    response = ui_client.get(reverse("orders:detail", args=[ui_foreign_order.pk]))
    # then
    assert response.status_code == 404


def test_unknown_order_id_is_404(ui_client, db):
    assert ui_client.get("/orders/999999999/").status_code == 404
    assert ui_client.get("/orders/abc/").status_code == 404


# --- products ----------------------------------------------------------------------------------


def test_products_list_shows_skus_with_price_stock_and_30_day_lowest(ui_client, ui_product):
    # when
    content = ui_client.get(reverse("shops:products")).content.decode()
    # then
    assert "Ceramic teapot" in content
    for sku in ui_product.skus.all():
        assert sku.code in content
        assert sku.price.format() in content
    assert "$17.50" in content  # 30-day lowest price


def test_products_list_searches_and_filters(ui_client, ui_shop, ui_foreign_product):
    # given
    make_product(ui_shop, title="Blue mug")
    make_product(ui_shop, title="Red mug", review_status="pending")
    make_product(ui_shop, title="Garden hose", category="home_garden")
    url = reverse("shops:products")
    # when / then
    assert _titles(ui_client.get(url, {"q": "MUG"})) == ["Blue mug", "Red mug"]
    assert _titles(ui_client.get(url, {"status": "pending"})) == ["Red mug"]
    assert _titles(ui_client.get(url, {"category": "home_garden"})) == ["Garden hose"]
    assert "Rival kettle" not in _titles(ui_client.get(url))


def test_products_htmx_request_returns_only_the_table(ui_client, ui_product):
    # when
    response = ui_client.get(
        reverse("shops:products"), {"q": "tea"}, headers={"HX-Request": "true"}
    )
    # then
    assert b"<table" in response.content
    assert b"<html" not in response.content


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"category": "weapons"}, "Select a valid choice."),
        ({"status": "lost"}, "Select a valid choice."),
    ],
)
def test_products_bad_filters_show_a_form_error(ui_client, ui_product, query, message):
    # when
    response = ui_client.get(reverse("shops:products"), {**query, "page": "zzz"})
    # then
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Ceramic teapot" in response.content.decode()  # the invalid filter is not applied


def test_product_detail_renders(ui_client, ui_product):
    # when
    response = ui_client.get(reverse("shops:product_detail", args=[ui_product.pk]))
    # then
    assert response.status_code == 200
    assert b"Ceramic teapot" in response.content
    assert response.context["total_stock"] == sum(s.stock for s in ui_product.skus.all())


def test_product_of_another_shop_is_404(ui_client, ui_foreign_product):
    # when
    response = ui_client.get(reverse("shops:product_detail", args=[ui_foreign_product.pk]))
    # then
    assert response.status_code == 404


# --- shop switcher -----------------------------------------------------------------------------


def test_switch_to_another_of_my_shops(ui_client, ui_owner, ui_shop):
    # given
    from shops.services import membership_grant

    second = make_shop(name="Second Store")
    membership_grant(user=ui_owner, shop=second, role="marketer")
    # when
    response = ui_client.post(
        reverse("shops:switch"), {"shop_id": second.pk, "next": "/orders/"}, follow=True
    )
    # then
    assert response.redirect_chain[0] == ("/orders/", 302)
    assert ui_client.session[SESSION_KEY] == second.pk
    assert "You are now working in Second Store." in response.content.decode()
    assert response.context["current_shop"] == second


@pytest.mark.parametrize("shop_id", ["foreign", "junk", "", "-5", "99999999"])
def test_switch_to_a_foreign_or_junk_shop_is_refused(ui_client, ui_shop, ui_other_shop, shop_id):
    # given
    value = str(ui_other_shop.pk) if shop_id == "foreign" else shop_id
    # when
    response = ui_client.post(reverse("shops:switch"), {"shop_id": value}, follow=True)
    # then
    assert response.status_code == 200
    assert ui_client.session[SESSION_KEY] == ui_shop.pk
    assert "You cannot switch to that shop" in response.content.decode()
    assert response.context["current_shop"] == ui_shop


def test_switch_ignores_an_unsafe_next(ui_client, ui_shop):
    # when
    response = ui_client.post(
        reverse("shops:switch"), {"shop_id": ui_shop.pk, "next": "https://evil.example/"}
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_switch_needs_post_and_login(client, ui_client, db):
    assert ui_client.get(reverse("shops:switch")).status_code == 405
    assert client.post(reverse("shops:switch"), {"shop_id": 1}).status_code == 302


# --- language ----------------------------------------------------------------------------------


def test_language_switch_to_simplified_chinese(ui_client, ui_shop):
    # when
    response = ui_client.post(
        reverse("set_language"), {"language": "zh-hans", "next": "/orders/"}, follow=True
    )
    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert 'lang="zh-hans"' in content
    assert "订单" in content  # "Orders"
    assert "营销" in content  # "Marketing"
    # and back
    english = ui_client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)
    assert "Orders" in english.content.decode()


def test_login_page_in_chinese(client, db):
    # when
    response = client.get(reverse("login"), headers={"Accept-Language": "zh-Hans"})
    # then
    assert "登录" in response.content.decode()


# --- helpers -----------------------------------------------------------------------------------


def _numbers(response) -> list[str]:
    return [o.number for o in response.context["page_obj"].object_list]


def _titles(response) -> list[str]:
    return [p.title for p in response.context["page_obj"].object_list]
