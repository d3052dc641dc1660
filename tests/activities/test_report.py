"""SPEC E-6 layer 3: the post-activity review report, final 72 hours after the end."""

from datetime import timedelta

import pytest
from actkit import DAY1_10H, H, Seller, make_activity
from django.urls import reverse
from test_consistency import activity_order, deliver, enrol

from activities import services, tasks
from activities.models import ActivityReport
from orders import services as orders

pytestmark = pytest.mark.django_db

M = timedelta(minutes=1)
END = DAY1_10H + 10 * H


@pytest.fixture
def ended(db):
    return make_activity(starts_at=DAY1_10H - H, ends_at=END, enrol_until=DAY1_10H)


def paid(seller, activity, at, *, price=40_00, quantity=1, coupon=0):
    order = activity_order(seller, activity, at, price=price, quantity=quantity)
    return orders.order_pay(
        order=order,
        payment_id=f"P-{order.number}",
        amount_minor=price * quantity,
        method="card",
        paid_at=at + M,
    )


def test_e6_report_sales_cost_returns_roi(seller, ended):
    # given: list price 50.00, activity price 40.00; two paid orders (3 units), one unpaid,
    # a 20.00 refund before the cut-off
    enrol(seller, ended, at=DAY1_10H - 2 * H)
    first = paid(seller, ended, DAY1_10H, quantity=2)
    paid(seller, ended, DAY1_10H + H)
    activity_order(seller, ended, DAY1_10H + 2 * H)  # never paid
    orders.order_refund(order=first, refund_id="R-1", amount_minor=20_00, refunded_at=END + H)
    deliver()
    # when
    assert services.reports_generate(now=END + 2 * H) == 1
    # then
    r = ActivityReport.objects.get()
    assert (r.orders, r.paid_orders, r.units) == (3, 2, 3)
    assert r.sales_minor == 120_00
    assert (r.returns_minor, r.returned_orders) == (20_00, 1)
    assert r.discount_minor == 30_00  # (50 - 40) × 3 units
    assert r.cost_minor == 30_00
    assert str(r.roi) == "3.33"  # (120 - 20) / 30
    assert r.return_rate == 50
    assert not r.final
    assert r.cutoff == END + 2 * H


def test_e6_report_is_final_at_exactly_72_hours_and_frozen(seller, ended):
    enrol(seller, ended, at=DAY1_10H - 2 * H)
    order = paid(seller, ended, DAY1_10H)
    deliver()
    # a second before 72 h: provisional, refunds counted up to now
    services.reports_generate(now=END + 72 * H - timedelta(seconds=1))
    assert not ActivityReport.objects.get().final
    # a refund at 72 h exactly falls after the cut-off
    orders.order_refund(order=order, refund_id="R-2", amount_minor=10_00, refunded_at=END + 72 * H)
    services.reports_generate(now=END + 72 * H)
    r = ActivityReport.objects.get()
    assert r.final
    assert r.cutoff == END + 72 * H
    assert r.returns_minor == 0
    # then: never recomputed
    services.reports_generate(now=END + 80 * H)
    assert ActivityReport.objects.get().generated_at == END + 72 * H


def test_e6_no_report_before_the_end_nor_for_old_activities(seller, ended):
    enrol(seller, ended, at=DAY1_10H - 2 * H)
    assert services.reports_generate(now=END - timedelta(seconds=1)) == 0
    assert services.reports_generate(now=END + 72 * H + 7 * 24 * H) == 0
    assert services.reports_generate(now=END) == 1  # exactly at the end: provisional


def test_e6_report_counts_coin_cost_through_the_coins_selector(seller, ended, monkeypatch):
    # given: coins worth 5.00 granted for the order (SPEC C-5 committed cost)
    import coins.selectors

    enrol(seller, ended, at=DAY1_10H - 2 * H)
    order = paid(seller, ended, DAY1_10H)
    deliver()
    seen = []

    def granted(*, order_ids):
        seen.append(sorted(order_ids))
        return {order.pk: 5_00}

    monkeypatch.setattr(coins.selectors, "coins_granted_value_by_order", granted)
    # when
    services.reports_generate(now=END + H)
    # then
    r = ActivityReport.objects.get()
    assert seen == [[order.pk]]
    assert (r.coins_minor, r.discount_minor, r.cost_minor) == (5_00, 10_00, 15_00)
    assert str(r.roi) == "2.67"  # 40 / 15


def test_e6_coins_selector_values_granted_coins(db):
    from coins.selectors import coins_granted_value_by_order

    assert coins_granted_value_by_order(order_ids=[]) == {}


def test_e6_enrolled_shop_without_orders_gets_an_empty_report(ended):
    s = Seller()
    enrol(s, ended, at=DAY1_10H - 2 * H)
    services.reports_generate(now=END + H)
    r = ActivityReport.objects.get(shop=s.shop)
    assert (r.orders, r.sales_minor, r.cost_minor, r.roi) == (0, 0, 0, None)


def test_e6_report_task_and_page_tenant_isolated(ended, django_assert_max_num_queries):
    from factories import login_client, make_user

    from shops.services import membership_grant

    a, b = Seller(), Seller()
    for s in (a, b):
        enrol(s, ended, at=DAY1_10H - 2 * H)
        paid(s, ended, DAY1_10H)
    deliver()
    import time_machine

    with time_machine.travel(END + 3 * H, tick=False):
        assert tasks.reports_generate_task.delay().get() == {"reports": 2}
    user = make_user()
    membership_grant(shop=a.shop, user=user, role="owner")
    client = login_client(user, a.shop)
    ActivityReport.objects.filter(shop=b.shop).update(sales_minor=777_77)
    with django_assert_max_num_queries(14):
        r = client.get(reverse("activities:reports"))
    body = r.content.decode()
    assert r.status_code == 200
    assert ended.name in body
    assert "777.77" not in body
    assert "40.00" in body
