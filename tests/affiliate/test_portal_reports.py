"""SPEC A-9 in the promoter portal: the daily commission report (by day, PID, shop and status,
with its chart and tables), its CSV and the pending commissions' CSV — the signed-in promoter's
commissions only, one currency at a time, natural days in the platform time zone, paginated,
constant query counts, English and Chinese, linked from the portal's navigation."""

import csv
import io
from datetime import timedelta

import affkit
import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from factories import first_sku, make_order, make_product, make_shop

from affiliate import reports, services
from affiliate.models import Programme, Promoter
from core import clock

PASSWORD = "Promo-pass-42"
REPORT, REPORT_CSV, PENDING_CSV = (
    "/promoter/reports/daily/",
    "/promoter/reports/daily.csv",
    "/promoter/reports/pending.csv",
)


def portal(promoter: Promoter) -> Client:
    """A browser signed in to the portal as ``promoter``."""
    services.promoter_password_set(promoter=promoter, password=PASSWORD)
    client = Client()
    response = client.post("/promoter/login/", {"email": promoter.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def attributed(shop, promoter, n=1, *, pids=1):
    """``n`` paid orders of ``shop`` (50.00 each: 4.75 commission at 10%) attributed to
    ``pids`` new PIDs of ``promoter``, in turn."""
    if not Programme.objects.filter(shop=shop, enabled=True).exists():
        affkit.enable(shop, rate_bp=1000)
    sku = first_sku(make_product(shop, price_minor=50_00))
    links = [affkit.link(shop, affkit.pid(promoter)) for _ in range(pids)]
    clicks = [affkit.click(lnk, at=clock.now() - timedelta(hours=1)) for lnk in links]
    out = []
    for i in range(n):
        order = make_order(
            shop, sku=sku, status="paid", affiliate_click_id=clicks[i % pids].click_id
        )
        out.append(services.order_attribute(order_id=order.pk))
    return out


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        REPORT,
        f"{REPORT}?days=7",
        f"{REPORT}?days=90&page=2",
        f"{REPORT}?by=shop",
        f"{REPORT_CSV}?days=30",
        PENDING_CSV,
    ],
)
def test_a9_portal_report_and_exports_have_constant_query_counts(
    db, url, django_assert_max_num_queries
):
    small, big = affkit.promoter(), affkit.promoter(trial=False)
    shop_1, shop_2 = make_shop(name="One"), make_shop(name="Two")
    attributed(shop_1, small, 1)
    attributed(shop_1, big, 15, pids=14)
    attributed(shop_2, big, 15, pids=14)
    small_c, big_c = portal(small), portal(big)
    _count(small_c, url)
    _count(big_c, url)
    few = _count(small_c, url)
    with django_assert_max_num_queries(20):
        big_c.get(url)
    assert _count(big_c, url) == few


def test_a9_portal_report_shows_only_the_promoters_own_commissions(db, shop_a, shop_b):
    # given: two promoters with orders in the same shop; the other one in a second shop too
    mine, theirs = affkit.promoter(), affkit.promoter()
    own = attributed(shop_a, mine, 2)
    other = attributed(shop_a, theirs, 3) + attributed(shop_b, theirs, 1)
    client = portal(mine)

    # when
    page = client.get(REPORT)
    report_rows = _csv(client.get(f"{REPORT_CSV}?days=7"))
    pending_rows = _csv(client.get(PENDING_CSV))

    # then: the page, the report CSV and the pending CSV show only its own
    body = page.content.decode()
    assert page.status_code == 200
    assert page.context["total"].orders == 2
    assert [r["pid__code"] for r in page.context["page_obj"]] == [own[0].pid.code]
    for c in other:
        assert c.pid.code not in body
        assert all(c.pid.code not in row for row in report_rows)
    assert shop_b.name not in body
    assert [r[2] for r in report_rows[1:] if r[2]] == [shop_a.name]
    assert sorted(r[0] for r in pending_rows[1:]) == sorted(c.order.number for c in own)
    assert {r[1] for r in pending_rows[1:]} == {shop_a.name}


def test_a9_portal_report_csv_by_day_pid_shop_and_status(db, shop_a):
    # given: two orders today through one PID, in a shop whose name a spreadsheet would run
    promoter = affkit.promoter()
    made = attributed(shop_a, promoter, 2)
    type(shop_a).objects.filter(pk=shop_a.pk).update(name='=HYPERLINK("http://x","y")')

    # when
    response = portal(promoter).get(f"{REPORT_CSV}?days=7")
    rows = _csv(response)

    # then
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="promoter-report-{promoter.pk}-CNY-7d-'
    )
    assert rows[0] == [
        "Day (Asia/Shanghai)", "PID", "Shop", "Status",
        "Attributed orders", "Currency", "Pending", "Settled", "Reversed", "Void",
    ]  # fmt: skip
    days, totals = rows[1:8], rows[8:]
    assert [d[0] for d in days] == [
        (clock.natural_day() - timedelta(days=6 - i)).isoformat() for i in range(7)
    ]
    assert days[-1][4:] == ["2", "CNY", "9.50", "0.00", "0.00", "0"]
    assert all(d[4] == "0" for d in days[:-1])
    assert totals == [
        ["all 7 days", made[0].pid.code, "", "", "2", "CNY", "9.50", "0.00", "0.00", "0"],
        ["all 7 days", "", '\'=HYPERLINK("http://x","y")', "", "2", "CNY", "9.50", "0.00",
         "0.00", "0"],
        ["all 7 days", "", "", "Locked", "2", "CNY", "9.50", "0.00", "0.00", "0"],
    ]  # fmt: skip


def test_a9_portal_pending_csv_lists_open_commissions_with_shop_and_hold(db, shop_a):
    promoter = affkit.promoter()
    locked, held, voided = attributed(shop_a, promoter, 3)
    type(held).objects.filter(pk=held.pk).update(
        status="on_hold", held_from="locked", hold_reason="dispute"
    )
    type(voided).objects.filter(pk=voided.pk).update(status="void")

    response = portal(promoter).get(PENDING_CSV)
    rows = _csv(response)

    assert response["Content-Disposition"].startswith(
        f'attachment; filename="promoter-pending-{promoter.pk}-'
    )
    assert rows[0][:5] == ["Order number", "Shop", "PID", "Status", "On hold because"]
    by_number = {r[0]: r for r in rows[1:]}
    assert set(by_number) == {locked.order.number, held.order.number}
    assert by_number[held.order.number][3:5] == ["On hold", "Dispute open"]
    assert by_number[locked.order.number][1:] == [
        shop_a.name, locked.pid.code, "Locked", "",
        locked.locked_at.astimezone(clock.platform_tz()).strftime("%Y-%m-%d %H:%M"),
        "", "CNY", "4.75",
    ]  # fmt: skip


def test_a9_portal_report_days_are_natural_days_in_the_platform_zone(db, shop_a):
    # given: one commission locked a second before midnight China time, two at midnight
    promoter = affkit.promoter()
    midnight = clock.day_start(clock.natural_day())
    with time_machine.travel(midnight - timedelta(seconds=1), tick=False):
        attributed(shop_a, promoter, 1)
    with time_machine.travel(midnight, tick=False):
        attributed(shop_a, promoter, 2)

    # when
    rows = reports.daily(promoter=promoter, currency="CNY", days=7)
    page = portal(promoter).get(f"{REPORT}?days=7")

    # then: yesterday 1, today 2, on the report and the page alike
    assert [r.day for r in rows] == [clock.natural_day() - timedelta(days=6 - i) for i in range(7)]
    assert [r.orders for r in rows] == [0, 0, 0, 0, 0, 1, 2]
    assert [r.orders for r in page.context["rows"]] == [0, 0, 0, 0, 0, 1, 2]
    assert page.context["chart"]["orders"]["values"] == [0, 0, 0, 0, 0, 1, 2]


def test_a9_portal_report_is_in_one_currency_at_a_time(db, shop_a):
    # given: commissions from a CNY shop (2) and a USD shop (1)
    promoter = affkit.promoter()
    usd_shop = make_shop(name="Dollar shop", currency="USD")
    attributed(shop_a, promoter, 2)
    attributed(usd_shop, promoter, 1)
    client = portal(promoter)

    # when / then: the first currency by default, the chosen one, never a mix
    default = client.get(REPORT)
    assert (default.context["currency"], default.context["total"].orders) == ("CNY", 2)
    assert default.context["currencies"] == ["CNY", "USD"]
    assert 'id="report-currencies"' in default.content.decode()
    usd = client.get(f"{REPORT}?currency=USD&by=shop")
    assert (usd.context["currency"], usd.context["total"].orders) == ("USD", 1)
    assert [r["shop__name"] for r in usd.context["page_obj"]] == ["Dollar shop"]
    assert client.get(f"{REPORT}?currency=EUR").context["currency"] == "CNY"
    rows = _csv(client.get(f"{REPORT_CSV}?days=7&currency=USD"))
    assert {r[5] for r in rows[1:]} == {"USD"}
    assert sum(int(r[4]) for r in rows[1:8]) == 1
    # the pending export has every currency, each row with its own
    pending = _csv(client.get(PENDING_CSV))
    assert sorted(r[7] for r in pending[1:]) == ["CNY", "CNY", "USD"]


def test_a9_portal_report_breakdown_is_paginated_by_pid_or_by_shop(db, shop_a):
    promoter = affkit.promoter(trial=False)
    attributed(shop_a, promoter, 27, pids=27)
    client = portal(promoter)

    first = client.get(REPORT)
    second = client.get(f"{REPORT}?page=2", HTTP_HX_REQUEST="true")
    by_shop = client.get(f"{REPORT}?by=shop")

    assert len(first.context["page_obj"].object_list) == 25
    assert len(second.context["page_obj"].object_list) == 2
    assert b"<html" not in second.content  # the table only, swapped in place
    assert [(r["shop__name"], r["orders"]) for r in by_shop.context["page_obj"]] == [
        (shop_a.name, 27)
    ]
    assert by_shop.context["by"] == "shop"


def test_a9_portal_report_is_linked_from_the_navigation_and_in_chinese(db, shop_a):
    promoter = affkit.promoter()
    attributed(shop_a, promoter, 1)
    client = portal(promoter)

    home = client.get("/promoter/").content.decode()
    assert f'href="{REPORT}"' in home

    client.cookies["django_language"] = "zh-hans"
    page = client.get(REPORT, HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = page.content.decode()
    assert page.status_code == 200
    assert "佣金报表" in body
    assert "每日佣金" in body
    assert 'aria-current="page" id="nav-commission-report"' in body


def test_a9_portal_reports_are_for_signed_in_approved_promoters_and_read_only(db, owner_client):
    for url in (REPORT, REPORT_CSV, PENDING_CSV):
        for client in (Client(), owner_client):  # nobody; a seller's staff session
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/promoter/login/"), url
    waiting = services.promoter_create(name="Waiting", email="waiting@promo.example.com")
    client = portal(waiting)
    assert client.get(REPORT)["Location"] == "/promoter/onboarding/"
    approved = portal(affkit.promoter())
    for url in (REPORT, REPORT_CSV, PENDING_CSV):
        assert approved.post(url).status_code == 405
        assert approved.get(url)["Cache-Control"].startswith("private")


def test_a9_report_reads_take_exactly_one_shop_or_one_promoter(db, shop_a):
    promoter = affkit.promoter()
    with pytest.raises(TypeError):
        reports.daily(days=7)  # never everyone's commissions
    with pytest.raises(TypeError):
        reports.by_pid(days=7, shop=shop_a, promoter=promoter)
