"""The orders console for daily work (issue 7): status tabs, ship-by deadline, CSV export,
order detail money breakdown and timeline, top-bar search."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from factories import first_sku, make_buyer, make_order, make_orders, make_product

from core import clock
from core.csvexport import csv_safe
from orders import services as order_services
from orders.models import Order, ShopDailyStats
from orders.selectors import ShipUrgency, order_tab_counts, ship_by
from orders.views import _timeline

pytestmark = pytest.mark.django_db

LIST = reverse("orders:list")
EXPORT = reverse("orders:export")
SEARCH = reverse("orders:search")


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


# --- status tabs ---------------------------------------------------------------------------


def test_tabs_count_from_the_daily_figures_not_the_orders(owner_client, shop_a):
    # given: 2 paid orders and 1 cancelled
    buyer = make_buyer()
    for _ in range(2):
        make_order(shop_a, buyer, status="paid")
    make_order(shop_a, buyer, status="cancelled")
    # then: the figures count them
    assert order_tab_counts(shop=shop_a)["paid"] == 2
    assert order_tab_counts(shop=shop_a)[""] == 3
    # when: the daily figures say otherwise (they are what the tabs read)
    ShopDailyStats.objects.filter(shop=shop_a).update(status_paid=41, orders_created=57)
    response = owner_client.get(LIST)
    # then: the tabs show the figures' numbers, not a COUNT over orders
    tabs = {t["value"]: t["count"] for t in response.context["tabs"]}
    assert tabs["paid"] == 41
    assert tabs[""] == 57
    assert tabs["cancelled"] == 1
    html = response.content.decode()
    assert 'id="orders-table"' in html
    assert ">41</span>" in html
    assert ">57</span>" in html


def test_a_tab_keeps_the_other_filters_and_drops_the_cursor(owner_client, shop_a):
    make_order(shop_a, status="paid", number="KEEP-1")
    response = owner_client.get(LIST, {"buyer": "buyer-x", "sort": "-amount", "after": "junk"})
    html = response.content.decode()
    # the "Paid" tab's link keeps buyer and sort, and starts from the first page
    assert "?buyer=buyer-x&amp;sort=-amount&amp;status=paid" in html
    assert "after=junk&amp;status" not in html
    active = [t for t in response.context["tabs"] if t["active"]]
    assert [t["value"] for t in active] == [""]


def test_a_status_tab_lists_only_that_status(owner_client, shop_a):
    make_order(shop_a, status="paid", number="TAB-PAID")
    make_order(shop_a, status="cancelled", number="TAB-CANC")
    html = owner_client.get(LIST, {"status": "cancelled"}).content.decode()
    assert "TAB-CANC" in html
    assert "TAB-PAID" not in html
    assert 'aria-current="page"' in html


# --- ship by (SPEC E-3: 72 hours from placement) --------------------------------------------


@pytest.mark.parametrize(
    ("age_hours", "urgency"),
    [(1, ShipUrgency.OK), (47, ShipUrgency.OK), (49, ShipUrgency.SOON), (72, ShipUrgency.OVERDUE)],
)
def test_e3_ship_by_is_72_hours_after_placement_with_urgency(shop_a, age_hours, urgency):
    now = clock.now()
    order = make_order(shop_a, status="paid", placed_at=now - timedelta(hours=age_hours))
    deadline = ship_by(order=order, now=now)
    assert deadline is not None
    assert deadline.at == order.placed_at + timedelta(hours=72)
    assert deadline.urgency == urgency


@pytest.mark.parametrize("status", ["pending_payment", "shipped", "cancelled", "refunded"])
def test_e3_only_paid_unshipped_orders_have_a_ship_by(shop_a, status):
    order = make_order(shop_a, status=status)
    assert ship_by(order=order, now=clock.now()) is None


def test_e3_list_shows_ship_by_in_words_not_colour_only(owner_client, shop_a):
    now = clock.now()
    make_order(shop_a, status="paid", number="LATE-1", placed_at=now - timedelta(hours=80))
    make_order(shop_a, status="paid", number="SOON-1", placed_at=now - timedelta(hours=60))
    make_order(shop_a, status="paid", number="FINE-1", placed_at=now - timedelta(hours=2))
    html = owner_client.get(LIST).content.decode()
    assert "Overdue by 8 h" in html
    assert "Due in 12 h" in html
    assert "On time" in html
    assert "sc-ship-overdue" in html
    assert "sc-ship-soon" in html
    # the time zone is shown beside the times
    assert "Asia/Shanghai" in html


def test_list_rows_carry_the_card_fields_for_phone_width(owner_client, shop_a):
    make_order(shop_a, status="paid", number="CARD-1")
    html = owner_client.get(LIST).content.decode()
    for cls in ("sc-c-number", "sc-c-status", "sc-c-amount", "sc-c-buyer", "sc-c-placed"):
        assert cls in html
    assert "css/orders.css" in html


def test_list_pages_past_ten_thousand_stay_keyset(owner_client, shop_a, settings):
    # the keyset pagination from main stays: the next page link is a cursor, not an offset
    settings.SC_PAGE_SIZE = 2
    make_orders(shop_a, 3)
    html = owner_client.get(LIST).content.decode()
    assert "after=" in html
    assert "page=" not in html


# --- CSV export --------------------------------------------------------------------------------


def test_export_streams_the_filtered_orders_with_bom_and_no_store(owner_client, shop_a, shop_b):
    buyer = make_buyer(external_id="B-EXPORT", email="li.wei@example.com")
    make_order(shop_a, buyer, status="paid", number="EXP-PAID")
    make_order(shop_a, buyer, status="cancelled", number="EXP-CANC")
    make_order(shop_b, buyer, status="paid", number="EXP-OTHER")
    response = owner_client.get(EXPORT, {"status": "paid"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    cache = response["Cache-Control"]
    assert "private" in cache
    assert "no-store" in cache
    rows = _csv(response)
    numbers = [r[0] for r in rows[1:]]
    # same filters as the list; never another shop's orders
    assert numbers == ["EXP-PAID"]
    assert rows[1][5] == "li.wei@example.com"  # owners see contacts in full
    assert rows[1][-1]  # a paid order has a ship-by


def test_export_masks_contacts_for_a_role_that_may_not_see_them(analyst_client, shop_a):
    buyer = make_buyer(email="li.wei@example.com", phone="+8613800138000")
    make_order(shop_a, buyer, status="paid")
    response = analyst_client.get(EXPORT)
    body = b"".join(response.streaming_content).decode()
    assert "li.wei@example.com" not in body
    assert "13800138000" not in body
    assert "l***@example.com" in body


def test_export_analyst_cannot_filter_by_contact(analyst_client, shop_a):
    buyer = make_buyer(email="secret@example.com")
    make_order(shop_a, buyer, status="paid", number="HIDDEN-1")
    rows = _csv(analyst_client.get(EXPORT, {"buyer": "secret@"}))
    assert rows[1:] == []


@pytest.mark.parametrize("evil", ["=HYPERLINK(1)", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_export_cells_that_start_a_formula_are_neutralised(evil):
    assert csv_safe(evil) == "'" + evil
    assert csv_safe("Normal") == "Normal"
    assert csv_safe(None) == ""


def test_export_escapes_formulas_coming_from_buyer_data(owner_client, shop_a):
    buyer = make_buyer(external_id="=cmd|'/c calc'!A1")
    make_order(shop_a, buyer, status="paid")
    rows = _csv(owner_client.get(EXPORT))
    assert rows[1][4] == "'=cmd|'/c calc'!A1"


def test_export_keeps_chinese_text_for_excel(owner_client, shop_a, client):
    make_order(shop_a, status="paid", number="订单-1")
    owner_client.cookies["django_language"] = "zh-hans"
    rows = _csv(owner_client.get(EXPORT, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert rows[1][0] == "订单-1"


def test_export_reads_the_orders_through_one_query_whatever_their_number(owner_client, shop_a):
    make_orders(shop_a, 3)
    owner_client.get(EXPORT)  # warm-up

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            rows = _csv(owner_client.get(EXPORT))
        return len(ctx.captured_queries), len(rows)

    few, few_rows = count()
    make_orders(shop_a, 30)
    many, many_rows = count()
    assert many_rows == few_rows + 30
    assert few == many


def test_export_refuses_post(owner_client):
    assert owner_client.post(EXPORT).status_code == 405


def test_export_with_junk_filters_still_answers(owner_client, shop_a):
    make_order(shop_a, status="paid", number="JUNK-1")
    response = owner_client.get(EXPORT, {"date_from": "9999-99-99", "status": "nope", "sort": "x"})
    assert response.status_code == 200
    assert [r[0] for r in _csv(response)[1:]] == ["JUNK-1"]


# --- order detail ------------------------------------------------------------------------------


def _titles(order):
    order = Order.objects.prefetch_related(
        "lines", "payments", "refunds", "disputes", "shipment__events"
    ).get(pk=order.pk)
    return [str(e.title) for e in _timeline(order)]


def test_timeline_of_a_refunded_order_shows_delivered_once_and_label_before_shipping(shop_a):
    # given: a delivered order whose carrier scans (label created at the shipping instant, then
    # delivered at the delivery instant) are stamped with the same times as the order's facts
    t0 = clock.now() - timedelta(days=5)
    order = make_order(shop_a, status="paid", placed_at=t0, step=timedelta(hours=1))
    shipped = t0 + timedelta(hours=2)
    order = order_services.order_ship(
        order=order, carrier="yanwen", tracking_number="YT1234567890", shipped_at=shipped
    )
    order_services.tracking_update(order=order, status="info_received", occurred_at=shipped)
    delivered = t0 + timedelta(days=2)
    order_services.tracking_update(order=order, status="delivered", occurred_at=delivered)
    order = order_services.order_deliver(order=order, delivered_at=delivered)
    order_services.order_refund(
        order=order,
        refund_id="r-full",
        amount_minor=order.amount_paid_minor,
        refunded_at=delivered + timedelta(days=1),
    )
    # when
    titles = _titles(order)
    # then: each fact once, in the order it happened
    assert titles.count("Delivered") == 1
    assert titles == [
        "Order placed",
        "Payment succeeded",
        "Label created",
        "Marked as shipped",
        "Delivered",
        "Full refund",
    ]


def test_timeline_of_a_disputed_order_is_sorted_by_time(shop_a):
    order = make_order(
        shop_a,
        status="delivered",
        placed_at=clock.now() - timedelta(days=2),
        step=timedelta(hours=3),
        closed_dispute=True,
    )
    order_services.dispute_open(
        order=Order.objects.get(pk=order.pk),
        dispute_id="d-late",
        opened_at=clock.now() - timedelta(hours=1),
    )
    titles = _titles(order)
    assert titles[-3:] == ["Dispute opened", "Dispute closed", "Dispute opened"]
    times = [e.at for e in _timeline(Order.objects.get(pk=order.pk))]
    assert times == sorted(times)


def test_timeline_of_a_tracking_heavy_order_lists_every_scan_once_in_order(shop_a):
    order = make_order(shop_a, status="shipped", step=timedelta(hours=10), tracking_events=12)
    full = Order.objects.prefetch_related(
        "lines", "payments", "refunds", "disputes", "shipment__events"
    ).get(pk=order.pk)
    entries = _timeline(full)
    scans = [e for e in entries if e.title == "In transit"]
    assert len(scans) == 12
    assert [e.detail.split(" · ")[0] for e in scans] == [f"Hub {i}" for i in range(12)]
    assert [e.at for e in entries] == sorted(e.at for e in entries)


def test_detail_shows_the_full_money_breakdown(owner_client, shop_a, sku_a, no_coin_guard):
    order = make_order(
        shop_a,
        status="paid",
        sku=sku_a,
        shipping_fee_minor=5_00,
        coupon_discount_minor=10_00,
        coin_deduction_coins=300,
        coin_deduction_minor=3_00,
        platform_subsidy_minor=2_00,
        cashback_red_packet_minor=1_50,
    )
    html = owner_client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    section = html[html.index('id="order-amounts"') :]
    section = section[: section.index("</table>")]
    for label, amount in [
        ("Items subtotal", "100.00"),
        ("Shipping fee", "5.00"),
        ("Coupon discount", "10.00"),
        ("Payable before coins", "95.00"),
        ("300 coins", "3.00"),
        ("Payable", "92.00"),
        ("Paid by the buyer", "92.00"),
        ("Refunded", "0.00"),
        ("Platform subsidy", "2.00"),
        ("Buyer cashback red packet", "1.50"),
    ]:
        assert label in section, label
        assert amount in section[section.index(label) :], label
    assert "not part of the buyer" in section


def test_detail_of_another_shops_order_is_404(owner_client, order_b):
    assert owner_client.get(reverse("orders:detail", args=[order_b.pk])).status_code == 404


# --- top-bar search ----------------------------------------------------------------------------


def test_search_box_is_in_the_top_bar(owner_client):
    html = owner_client.get(reverse("home")).content.decode()
    assert 'action="/orders/search/"' in html
    assert 'id="sc-search-q"' in html


def test_search_by_order_number_jumps_to_the_order(owner_client, order_a):
    response = owner_client.get(SEARCH, {"q": " a-0001 "})
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:detail", args=[order_a.pk])


def test_search_by_buyer_id_lists_that_buyers_orders(owner_client, order_a):
    response = owner_client.get(SEARCH, {"q": "buyer-1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:list") + "?buyer=buyer-1"


def test_search_by_sku_code_jumps_to_the_product(owner_client, sku_a):
    response = owner_client.get(SEARCH, {"q": "sku-a"})
    assert response.status_code == 302
    assert response["Location"] == reverse("shops:product_detail", args=[sku_a.product_id])


def test_search_never_finds_another_shops_objects(owner_client, order_b, sku_b, shop_b):
    # B-0001, SKU-B and a buyer who only ordered in shop B all belong to shop B
    only_b = make_buyer(external_id="ONLY-B")
    make_order(shop_b, only_b, status="paid")
    for q in ("B-0001", "SKU-B", "ONLY-B"):
        response = owner_client.get(SEARCH, {"q": q})
        assert response.status_code == 200, q
        html = response.content.decode()
        assert 'id="search-nothing"' in html, q
        assert "Nothing found" in html


def test_search_nothing_found_page_is_clear(owner_client, shop_a):
    html = owner_client.get(SEARCH, {"q": "no-such-thing"}).content.decode()
    assert "Nothing found for “no-such-thing” in this shop." in html


def test_b8_analyst_searches_by_buyer_id_but_not_by_contact(analyst_client, owner_client, shop_a):
    buyer = make_buyer(external_id="BID-7", email="mei@example.com", phone="+8613900139000")
    make_order(shop_a, buyer, status="paid")
    # the analyst finds the buyer by id
    assert analyst_client.get(SEARCH, {"q": "BID-7"}).status_code == 302
    # but never by e-mail or phone (an oracle for the contact)
    for q in ("mei@example.com", "+8613900139000"):
        response = analyst_client.get(SEARCH, {"q": q})
        assert response.status_code == 200
        assert "Nothing found" in response.content.decode()
    # an owner may
    assert owner_client.get(SEARCH, {"q": "mei@example.com"}).status_code == 302


def test_search_lists_several_matches(owner_client, shop_a):
    product = make_product(shop_a, skus=[{"code": "DUP-1", "price_minor": 1_00, "stock": 5}])
    make_order(shop_a, status="paid", number="DUP-1", sku=first_sku(product))
    response = owner_client.get(SEARCH, {"q": "DUP-1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 matches for “DUP-1”" in html
    assert reverse("shops:product_detail", args=[product.pk]) in html


@pytest.mark.parametrize("q", ["", "x" * 5000, "a\x00b", "' OR 1=1 --"])
def test_search_with_junk_is_never_a_500(owner_client, q):
    response = owner_client.get(SEARCH, {"q": q})
    assert response.status_code == 200


def test_search_refuses_post(owner_client):
    assert owner_client.post(SEARCH, {"q": "x"}).status_code == 405


def test_search_needs_a_login(client):
    response = client.get(SEARCH, {"q": "x"})
    assert response.status_code == 302
    assert "login" in response["Location"]
