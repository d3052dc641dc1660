"""SPEC A-9, the seller's reports: the daily commission report (charts with their tables, by
status, by PID), the pending-commission detail, and both as formula-safe streamed CSV — one
shop's commissions only, paginated, constant query counts, English and Chinese."""

import csv
import io
from datetime import timedelta

import affkit
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from factories import first_sku, login_client, make_member, make_order, make_product, make_shop

from affiliate import reports, services
from affiliate.models import Commission, Programme, Promoter
from core import clock


def attributed(shop, n, *, promoters=1, status="paid"):
    if not Programme.objects.filter(shop=shop, enabled=True).exists():
        affkit.enable(shop, rate_bp=1000)
    sku = first_sku(make_product(shop, price_minor=50_00))
    links = [affkit.link(shop) for _ in range(promoters)]
    clicks = [affkit.click(lnk, at=clock.now() - timedelta(hours=1)) for lnk in links]
    out = []
    for i in range(n):
        order = make_order(
            shop, sku=sku, status=status, affiliate_click_id=clicks[i % promoters].click_id
        )
        out.append(services.order_attribute(order_id=order.pk))
    return out


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    if response.streaming:
        b"".join(response.streaming_content)
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        "/affiliate/report/",
        "/affiliate/report/?days=7",
        "/affiliate/report/?days=90&page=2",
        "/affiliate/pending/",
        "/affiliate/report.csv?days=30",
        "/affiliate/pending.csv",
    ],
)
def test_a9_report_pages_and_exports_have_constant_query_counts(
    db, url, django_assert_max_num_queries
):
    small, big = make_shop(name="Small"), make_shop(name="Big")
    attributed(small, 2, promoters=2)
    attributed(big, 30, promoters=28)
    small_c = login_client(make_member(small), small)
    big_c = login_client(make_member(big), big)
    _count(small_c, url)
    _count(big_c, url)
    few = _count(small_c, url)
    with django_assert_max_num_queries(20):
        big_c.get(url)
    assert _count(big_c, url) == few


def test_a9_daily_report_counts_each_day_by_lock_day_in_the_platform_zone(shop_a):
    # given: one commission locked just before midnight China time, one just after, one today
    affkit.enable(shop_a, rate_bp=1000)
    tz = clock.platform_tz()
    today = clock.natural_day()
    midnight = clock.day_start(today)
    with time_machine.travel(midnight - timedelta(seconds=1), tick=False):
        attributed(shop_a, 1)
    with time_machine.travel(midnight, tick=False):
        attributed(shop_a, 2)

    # when
    rows = reports.daily(shop=shop_a, days=7)

    # then: 7 days, the last is today; yesterday 1, today 2 (4.75 each: 10% of 47.50)
    assert [r.day for r in rows] == [today - timedelta(days=6 - i) for i in range(7)]
    assert (rows[-2].orders, rows[-1].orders) == (1, 2)
    assert (rows[-2].pending_minor, rows[-1].pending_minor) == (4_75, 9_50)
    assert sum(r.orders for r in rows[:-2]) == 0
    assert midnight.astimezone(tz).hour == 0


def test_a9_report_window_edge_the_first_day_is_in_the_day_before_is_out(shop_a):
    affkit.enable(shop_a, rate_bp=1000)
    first_start = clock.day_start(clock.natural_day() - timedelta(days=6))
    with time_machine.travel(first_start, tick=False):
        attributed(shop_a, 1)
    with time_machine.travel(first_start - timedelta(microseconds=1), tick=False):
        attributed(shop_a, 1)

    rows = reports.daily(shop=shop_a, days=7)

    assert sum(r.orders for r in rows) == 1
    assert rows[0].orders == 1


def test_a9_report_page_shows_totals_chart_data_and_only_this_shops_commissions(
    owner_client, shop_a, shop_b
):
    attributed(shop_a, 3)
    attributed(shop_b, 5)
    theirs = Promoter.objects.filter(commissions__shop=shop_b).first()

    response = owner_client.get("/affiliate/report/")

    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["total"].orders == 3
    assert response.context["chart"]["orders"]["values"][-1] == 3
    assert 'id="aff-chart"' in body  # chart data, no inline script
    assert 'id="aff-daily-table"' in body  # and its figures as a table
    assert theirs.name not in body


def test_a9_report_rejects_an_odd_period_by_showing_thirty_days(owner_client, shop_a):
    for days in ("abc", "-1", "100000000000000000000", "31"):
        response = owner_client.get(f"/affiliate/report/?days={days}")
        assert response.status_code == 200
        assert response.context["days"] == 30


def test_a9_by_pid_table_is_paginated(owner_client, shop_a):
    attributed(shop_a, 27, promoters=27)

    first = owner_client.get("/affiliate/report/")
    second = owner_client.get("/affiliate/report/?page=2", HTTP_HX_REQUEST="true")

    assert len(first.context["pid_page"].object_list) == 25
    assert len(second.context["pid_page"].object_list) == 2
    assert b"<html" not in second.content  # the table only, swapped in place


def test_a9_pending_lists_open_commissions_only_with_the_hold_reason(owner_client, shop_a, shop_b):
    # given: two paid (locked) commissions, one voided, one on hold by a dispute; another shop's
    open_ones = attributed(shop_a, 2)
    voided, disputed = attributed(shop_a, 2)
    Commission.objects.filter(pk=voided.pk).update(status="void")
    Commission.objects.filter(pk=disputed.pk).update(
        status="on_hold", held_from="locked", hold_reason="dispute"
    )
    other = attributed(shop_b, 1)[0]

    response = owner_client.get("/affiliate/pending/")

    shown = {c.pk for c in response.context["page_obj"]}
    assert shown == {open_ones[0].pk, open_ones[1].pk, disputed.pk}
    assert other.pk not in shown
    assert "Dispute open" in response.content.decode()


def test_a9_pending_is_paginated(owner_client, shop_a):
    attributed(shop_a, 26)
    assert len(owner_client.get("/affiliate/pending/").context["page_obj"].object_list) == 25
    page2 = owner_client.get("/affiliate/pending/?page=2")
    assert len(page2.context["page_obj"].object_list) == 1


def _csv(response):
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_a9_report_csv_is_streamed_formula_safe_and_this_shops_only(owner_client, shop_a, shop_b):
    # given: a promoter whose name a spreadsheet would run as a formula
    made = attributed(shop_a, 2)
    Promoter.objects.filter(pk=made[0].promoter_id).update(name='=HYPERLINK("http://x","y")')
    attributed(shop_b, 4)

    rows = _csv(owner_client.get("/affiliate/report.csv?days=7"))

    assert rows[0][0].startswith("Day (")
    days, pids = rows[1:8], rows[8:]
    assert len(days) == 7
    assert days[-1][3] == "2"
    assert days[-1][5] == "9.50"
    assert [p[2] for p in pids] == ['\'=HYPERLINK("http://x","y")']
    assert pids[0][3] == "2"


def test_a9_pending_csv_rows_and_headers(owner_client, shop_a, shop_b):
    made = attributed(shop_a, 2)
    attributed(shop_b, 3)

    response = owner_client.get("/affiliate/pending.csv")
    rows = _csv(response)

    assert response["Content-Disposition"].startswith('attachment; filename="affiliate-pending-')
    assert rows[0][0] == "Order number"
    assert sorted(r[0] for r in rows[1:]) == sorted(c.order.number for c in made)
    assert {r[8] for r in rows[1:]} == {"4.75"}


def test_a9_reports_need_a_shop_login(client, db):
    for url in ("/affiliate/report/", "/affiliate/pending/", "/affiliate/pending.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_a9_reports_are_read_only(owner_client, shop_a):
    for url in ("/affiliate/report/", "/affiliate/pending/", "/affiliate/report.csv"):
        assert owner_client.post(url).status_code == 405


def test_a9_reports_in_chinese(owner_client, shop_a):
    attributed(shop_a, 1)
    owner_client.cookies["django_language"] = "zh-hans"
    report = owner_client.get("/affiliate/report/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    pending = owner_client.get("/affiliate/pending/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "佣金报表" in report.content.decode()
    assert "待结算佣金" in pending.content.decode()
