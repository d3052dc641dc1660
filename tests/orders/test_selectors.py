"""Order selectors: the shop figures the marketing rules read (SPEC C-1, C-9, E-3, E-8, M-1)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from factories import make_feedback, make_order, make_review

from core.money import Money
from orders import selectors
from orders import services as svc

# 12:00 in Shanghai on 31 March 2025: far from any natural-day edge.
AT = datetime(2025, 3, 31, 4, 0, tzinfo=UTC)


# --- SPEC C-1(b): 90-day positive feedback rate ------------------------------------------------


def _feedback(shop, buyer, kind, posted_at):
    order = make_order(shop, buyer, status="delivered", placed_at=posted_at - timedelta(days=10))
    return make_feedback(order, kind=kind, posted_at=posted_at)


def test_c1_positive_feedback_rate_is_none_without_feedback(shop_a):
    # then
    assert selectors.positive_feedback_rate_90d(shop=shop_a, at=AT) is None


def test_c1_positive_feedback_rate_counts_the_last_90_days_in_percent(shop_a, shop_b, buyer):
    # given: 2 positive, 1 neutral inside the window; noise outside it and in shop B
    for kind in ("positive", "positive", "neutral"):
        _feedback(shop_a, buyer, kind, AT - timedelta(days=3))
    _feedback(shop_a, buyer, "negative", AT - timedelta(days=120))
    _feedback(shop_b, buyer, "negative", AT - timedelta(days=1))

    # when
    rate = selectors.positive_feedback_rate_90d(shop=shop_a, at=AT)

    # then
    assert rate == Decimal("66.7")


@pytest.mark.parametrize(
    ("posted", "counted"),
    [
        # The window is the 90 natural days (Asia/Shanghai) ending with the day of `at`:
        # 1 January to 31 March 2025. 1 January begins at 16:00 UTC on 31 December.
        (datetime(2024, 12, 31, 15, 59, 59, tzinfo=UTC), False),
        (datetime(2024, 12, 31, 16, 0, tzinfo=UTC), True),
        (AT, True),
        (datetime(2025, 3, 31, 15, 59, 59, tzinfo=UTC), True),  # later the same natural day
        (datetime(2025, 3, 31, 16, 0, tzinfo=UTC), False),  # the next natural day
    ],
    ids=["day-before-window", "first-instant", "now", "same-day-later", "next-day"],
)
def test_c1_positive_feedback_rate_window_edges(shop_a, buyer, posted, counted):
    # given: one positive inside for sure, one negative at the edge
    _feedback(shop_a, buyer, "positive", AT - timedelta(days=1))
    _feedback(shop_a, buyer, "negative", posted)

    # when
    rate = selectors.positive_feedback_rate_90d(shop=shop_a, at=AT)

    # then
    assert rate == (Decimal("50.0") if counted else Decimal("100.0"))


# --- SPEC C-9 / M-1: GMV -----------------------------------------------------------------------


def test_c9_gmv_excludes_the_coin_deduction_but_the_invoice_includes_it(
    shop_a, buyer, sku_a, no_coin_guard
):
    # given: a ¥100 order, ¥10 of it paid with coins, ¥90 paid
    order = make_order(
        shop_a,
        buyer,
        status="paid",
        sku=sku_a,
        coin_deduction_coins=1000,
        coin_deduction_minor=10_00,
        placed_at=AT - timedelta(days=1),
    )

    # when
    gmv = selectors.gmv_30d(shop=shop_a, at=AT)

    # then: paid ¥90 + coins ¥10 → GMV ¥90, invoice ¥100
    assert order.amount_paid == Money(90_00, "CNY")
    assert gmv == Money(90_00, "CNY")
    assert order.gmv == Money(90_00, "CNY")
    assert order.invoice_amount == Money(100_00, "CNY")


def test_c9_gmv_subtracts_refunds_and_ignores_unpaid_and_other_shops(shop_a, shop_b, buyer, sku_a):
    # given
    placed = AT - timedelta(days=2)
    refunded = make_order(shop_a, buyer, status="paid", sku=sku_a, placed_at=placed)
    make_order(shop_a, buyer, status="paid", sku=sku_a, placed_at=placed)
    make_order(shop_a, buyer, status="pending_payment", sku=sku_a, placed_at=placed)
    make_order(shop_b, buyer, status="paid", placed_at=placed)
    svc.order_refund(
        order=refunded, refund_id="r", amount_minor=25_00, refunded_at=placed + timedelta(hours=1)
    )

    # when
    gmv = selectors.gmv_30d(shop=shop_a, at=AT)

    # then: ¥200 paid - ¥25 refunded
    assert gmv == Money(175_00, "CNY")


@pytest.mark.parametrize(
    ("paid_at", "counted"),
    [
        # 30 natural days in Shanghai ending on 31 March: 2 March .. 31 March
        (datetime(2025, 3, 1, 15, 59, tzinfo=UTC), False),  # 1 March 23:59 Shanghai
        (datetime(2025, 3, 1, 16, 0, tzinfo=UTC), True),  # 2 March 00:00 Shanghai
        (AT, True),
    ],
    ids=["day-31-ago", "day-30-ago", "today"],
)
def test_m1_gmv_window_is_30_natural_days_in_shanghai(shop_a, buyer, sku_a, paid_at, counted):
    # given
    make_order(shop_a, buyer, status="paid", sku=sku_a, placed_at=paid_at)

    # when
    gmv = selectors.gmv_30d(shop=shop_a, at=AT)

    # then
    assert gmv == Money(100_00 if counted else 0, "CNY")


def test_gmv_is_zero_in_the_shops_currency_without_orders(shop_a):
    # then
    assert selectors.gmv_30d(shop=shop_a, at=AT) == Money(0, "CNY")


# --- SPEC E-3: cancel rate ---------------------------------------------------------------------


def test_e3_cancel_rate_is_cancelled_over_created_in_30_days(shop_a, buyer, sku_a):
    # given: 4 orders created in the window, 1 cancelled; an old cancelled one outside
    placed = AT - timedelta(days=5)
    for status in ("paid", "shipped", "pending_payment", "cancelled"):
        make_order(shop_a, buyer, status=status, sku=sku_a, placed_at=placed)
    make_order(shop_a, buyer, status="cancelled", sku=sku_a, placed_at=AT - timedelta(days=40))

    # when
    rate = selectors.cancel_rate_30d(shop=shop_a, at=AT)

    # then
    assert rate == Decimal("25.0")


def test_e3_cancel_rate_is_none_without_orders(shop_a):
    # then
    assert selectors.cancel_rate_30d(shop=shop_a, at=AT) is None


def test_e3_cancel_counts_on_the_creation_day(shop_a, buyer, sku_a):
    # given: created 35 days ago, cancelled yesterday — outside the window by creation day
    order = make_order(
        shop_a, buyer, status="pending_payment", sku=sku_a, placed_at=AT - timedelta(days=35)
    )
    svc.order_cancel(order=order, cancelled_at=AT - timedelta(days=1))
    make_order(shop_a, buyer, status="paid", sku=sku_a, placed_at=AT - timedelta(days=1))

    # when
    rate = selectors.cancel_rate_30d(shop=shop_a, at=AT)

    # then
    assert rate == Decimal("0.0")


# --- SPEC E-8: DSR averages --------------------------------------------------------------------


def test_e8_dsr_averages_of_the_last_30_days(shop_a, shop_b, buyer):
    # given
    def review(shop, dsr, posted_at):
        order = make_order(shop, buyer, status="delivered", placed_at=posted_at - timedelta(days=9))
        return make_review(order, dsr=dsr, posted_at=posted_at)

    # The window is the 30 natural days (Asia/Shanghai) ending with the day of `at`:
    # 2 to 31 March 2025; 2 March begins at 16:00 UTC on 1 March.
    review(shop_a, 5, AT - timedelta(days=1))
    review(shop_a, 4, AT - timedelta(days=29))
    review(shop_a, 4, datetime(2025, 3, 1, 16, 0, tzinfo=UTC))  # first instant of 2 March
    review(shop_a, 1, datetime(2025, 3, 1, 15, 59, 59, tzinfo=UTC))  # 1 March: outside
    review(shop_b, 1, AT - timedelta(days=1))  # another shop

    # when
    dsr = selectors.dsr_averages_30d(shop=shop_a, at=AT)

    # then: (5 + 4 + 4) / 3
    assert dsr.reviews == 3
    assert dsr.item_as_described == Decimal("4.33")
    assert dsr.communication == Decimal("4.33")
    assert dsr.shipping == Decimal("4.33")


def test_e8_dsr_averages_are_none_without_reviews(shop_a):
    # when
    dsr = selectors.dsr_averages_30d(shop=shop_a, at=AT)

    # then
    assert (dsr.item_as_described, dsr.communication, dsr.shipping, dsr.reviews) == (
        None,
        None,
        None,
        0,
    )


# --- dashboard series --------------------------------------------------------------------------


def test_daily_series_has_one_zero_filled_row_per_natural_day(shop_a, buyer, sku_a):
    # given: orders on two days of the window, one partly refunded
    a = make_order(shop_a, buyer, status="paid", sku=sku_a, placed_at=AT - timedelta(days=3))
    make_order(shop_a, buyer, status="cancelled", sku=sku_a, placed_at=AT - timedelta(days=3))
    make_order(shop_a, buyer, status="paid", sku=sku_a, placed_at=AT)
    svc.order_refund(order=a, refund_id="r", amount_minor=40_00, refunded_at=AT)

    # when
    series = selectors.daily_series(shop=shop_a, days=7, at=AT)

    # then
    assert [row.day for row in series] == [date(2025, 3, d) for d in range(25, 32)]
    by_day = {row.day: row for row in series}
    assert (by_day[date(2025, 3, 28)].orders_created, by_day[date(2025, 3, 28)].orders_paid) == (
        2,
        1,
    )
    assert by_day[date(2025, 3, 28)].orders_cancelled == 1
    assert by_day[date(2025, 3, 28)].gmv == Money(100_00, "CNY")
    assert by_day[date(2025, 3, 31)].gmv == Money(60_00, "CNY")  # ¥100 paid - ¥40 refunded
    empty = [row for row in series if row.day not in {date(2025, 3, 28), date(2025, 3, 31)}]
    assert len(empty) == 5
    assert all(
        (r.orders_created, r.orders_paid, r.orders_cancelled, r.gmv) == (0, 0, 0, Money(0, "CNY"))
        for r in empty
    )


def test_daily_series_defaults_to_30_days(shop_a):
    # when
    series = selectors.daily_series(shop=shop_a, at=AT)

    # then
    assert len(series) == 30
    assert series[-1].day == date(2025, 3, 31)
    assert series[0].day == date(2025, 3, 2)


def test_status_counts_cover_every_status(shop_a, shop_b, buyer):
    # given
    make_order(shop_a, buyer, status="paid")
    make_order(shop_a, buyer, status="paid")
    make_order(shop_a, buyer, status="refunded")
    make_order(shop_b, buyer, status="paid")

    # when
    counts = selectors.status_counts(shop=shop_a)

    # then
    assert counts["paid"] == 2
    assert counts["refunded"] == 1
    assert counts["completed"] == 0
    assert set(counts) == {
        "pending_payment",
        "paid",
        "shipped",
        "delivered",
        "completed",
        "cancelled",
        "refunded",
    }


def test_one_daily_window_serves_every_dashboard_figure(shop_a, buyer, django_assert_num_queries):
    # given: feedback 60 days ago (inside 90, outside 30) and an order 3 days ago
    _feedback(shop_a, buyer, "negative", AT - timedelta(days=60))
    make_order(shop_a, buyer, status="paid", placed_at=AT - timedelta(days=3))

    # when: the window is read once
    with django_assert_num_queries(1):
        window = selectors.DailyWindow(shop=shop_a, days=90, at=AT)
    # then: trailing sums of it match the per-figure selectors, with no further query
    with django_assert_num_queries(0):
        assert window.positive_rate(90) == Decimal("0.0")
        assert window.status_counts(30)["paid"] == 1
        assert window.status_counts(30)["delivered"] == 0  # the 70-day-old order is outside 30
        assert window.status_counts(90)["delivered"] == 1
        assert len(window.series(30)) == 30
    assert window.gmv(30) == selectors.gmv_30d(shop=shop_a, at=AT)
    with pytest.raises(ValueError, match="holds 90 days"):
        window.gmv(91)


def test_order_count_from_daily_figures_equals_counting_the_orders(shop_a, shop_b, buyer):
    # given: orders of several statuses on several days, and another shop's
    make_order(shop_a, buyer, status="paid", placed_at=AT - timedelta(days=40))
    make_order(shop_a, buyer, status="paid", placed_at=AT - timedelta(days=2))
    make_order(shop_a, buyer, status="cancelled", placed_at=AT - timedelta(days=2))
    make_order(shop_a, buyer, status="completed", placed_at=AT - timedelta(days=200))
    make_order(shop_b, buyer, status="paid", placed_at=AT - timedelta(days=2))

    # then
    assert selectors.order_count(shop=shop_a) == 4
    for status in ("paid", "cancelled", "completed", "shipped"):
        expected = shop_a.orders.filter(status=status).count()
        assert selectors.order_count(shop=shop_a, status=status) == expected
