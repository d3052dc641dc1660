"""Every seller page runs a fixed number of queries, whatever the amount of data (no N+1).

Each page is rendered once over a small shop and once over a shop with ten times the data;
the query counts must be equal, and stay under a ceiling.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from factories import (
    login_client,
    make_buyer,
    make_order,
    make_orders,
    make_product,
    make_shop,
    make_user,
)

from core import clock
from orders import services as orders
from shops.services import logistics_set, violation_record

CEILING = 20


def _grow(shop, n):
    """``n`` orders, products, carriers and violations: every kind of row a page lists."""
    make_orders(shop, n)
    for i in range(n):
        make_product(shop, title=f"Product {i:03d}", n_skus=2)
    carriers = ["aliexpress_standard", "aliexpress_saver", "yanwen", "4px", "dhl"]
    for carrier in carriers[: min(n, len(carriers))]:
        logistics_set(shop=shop, carrier=carrier, enabled=True, certified=True)
    for i in range(n):
        violation_record(
            shop=shop,
            external_id=f"v-{shop.pk}-{i}",
            kind="late",
            serious=True,
            occurred_at=clock.now() - timedelta(days=2),
        )


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _client_for(shop, name):
    user = make_user(name)
    from shops.services import membership_grant

    membership_grant(user=user, shop=shop, role="owner")
    return login_client(user, shop)


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/orders/",
        "/orders/?status=completed&sort=-amount",
        "/orders/?page=2",
        "/shops/products/",
        "/shops/products/?q=Product",
        "/coins/",
        "/coins/rules/",
        "/coins/rules/new/",
        "/coins/dashboard/",
        "/coins/grade/",
        "/affiliate/",
        "/affiliate/orders/",
        "/affiliate/promoters/",
        "/affiliate/report/",
        "/affiliate/pending/",
        "/mailing/",
        "/activities/",
        "/activities/monitor/",
        "/activities/reenrol/",
    ],
)
def test_list_and_overview_pages_have_constant_query_counts(db, url, django_assert_max_num_queries):
    # given: a shop with 3 of everything and one with 30
    small, big = make_shop(name="Small"), make_shop(name="Big")
    _grow(small, 3)
    _grow(big, 30)
    small_client, big_client = _client_for(small, "small-owner"), _client_for(big, "big-owner")
    _count(small_client, url)  # warm-up: first-request session and content-type caches
    _count(big_client, url)
    # when
    few = _count(small_client, url)
    with django_assert_max_num_queries(CEILING):
        response = big_client.get(url)
    many = _count(big_client, url)
    # then
    assert response.status_code == 200
    assert few == many


def test_order_detail_has_a_constant_query_count(db, django_assert_max_num_queries):
    # given: one order with 3 lines of history, one with 30 (lines, tracking events)
    shop = make_shop()
    client = _client_for(shop, "detail-owner")
    buyer = make_buyer()

    def order_with(n):
        skus = [make_product(shop, n_skus=1).skus.first() for _ in range(n)]
        placed = clock.now() - timedelta(days=3)
        order = orders.order_create(
            orders.OrderInput(
                shop=shop,
                buyer=buyer,
                number=f"Q-{n}",
                placed_at=placed,
                lines=[
                    orders.LineInput(sku=s, quantity=1, unit_price_minor=s.price_minor)
                    for s in skus
                ],
            )
        )
        order = orders.order_pay(
            order=order,
            payment_id=f"p-{n}",
            amount_minor=order.payable_before_coins.amount,
            method="card",
            paid_at=placed,
        )
        order = orders.order_ship(
            order=order, carrier="yanwen", tracking_number=f"T{n}", shipped_at=placed
        )
        for i in range(n):
            orders.tracking_update(
                order=order, status="in_transit", occurred_at=placed + timedelta(hours=i)
            )
            orders.order_refund(
                order=order,
                refund_id=f"r-{n}-{i}",
                amount_minor=1,
                refunded_at=placed + timedelta(hours=i),
            )
        return order

    few_order, many_order = order_with(3), order_with(30)
    _count(client, reverse("orders:detail", args=[few_order.pk]))
    # when
    few = _count(client, reverse("orders:detail", args=[few_order.pk]))
    with django_assert_max_num_queries(CEILING):
        client.get(reverse("orders:detail", args=[many_order.pk]))
    many = _count(client, reverse("orders:detail", args=[many_order.pk]))
    # then
    assert few == many


def test_product_detail_has_a_constant_query_count(db, django_assert_max_num_queries):
    # given
    shop = make_shop()
    client = _client_for(shop, "product-owner")
    small, big = make_product(shop, n_skus=3), make_product(shop, n_skus=30)
    make_order(shop, sku=small.skus.first())
    _count(client, reverse("shops:product_detail", args=[small.pk]))
    # when
    few = _count(client, reverse("shops:product_detail", args=[small.pk]))
    with django_assert_max_num_queries(CEILING):
        client.get(reverse("shops:product_detail", args=[big.pk]))
    many = _count(client, reverse("shops:product_detail", args=[big.pk]))
    # then
    assert few == many


@pytest.mark.parametrize("query", [{}, {"number": "SO"}, {"sort": "-amount"}])
def test_orders_next_pages_cost_what_the_first_costs(db, settings, query):
    # given: 4 pages of orders (keyset pages: no OFFSET, so depth costs nothing extra)
    settings.SC_PAGE_SIZE = 5
    shop = make_shop(name="Deep")
    make_orders(shop, 18)
    client = _client_for(shop, "deep-owner")
    _count(client, "/orders/")
    first = client.get("/orders/", query)
    second = client.get("/orders/", {**query, "after": first.context["page_obj"].next_cursor})
    third_cursor = second.context["page_obj"].next_cursor
    # when
    with CaptureQueriesContext(connection) as at_first:
        client.get("/orders/", query)
    with CaptureQueriesContext(connection) as at_third:
        response = client.get("/orders/", {**query, "after": third_cursor})
    # then
    assert len(response.context["page_obj"]) == 5
    assert len(at_third.captured_queries) == len(at_first.captured_queries)
    assert not any("OFFSET" in q["sql"].upper() for q in at_third.captured_queries)


def _grow_coins(shop, n):
    """A coin account with ``n`` fund movements, products with coin settings and wallets."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "coins"))
    from coinkit import coin_shop, enable, give

    coin_shop(shop)
    products = [make_product(shop, n_skus=2) for _ in range(n)]
    enable(shop, *products[: n // 2 + 1])
    for _ in range(n):
        give(shop, make_buyer(), 100)


@pytest.mark.parametrize(
    "url",
    [
        "/coins/",
        "/coins/fund/",
        "/coins/products/",
        "/coins/products/?problems=1",
        "/coins/buyers/",
    ],
)
def test_coin_pages_have_constant_query_counts(db, url, django_assert_max_num_queries):
    # given: a coin shop with 3 of everything and one with 30
    small, big = make_shop(name="Small coins"), make_shop(name="Big coins")
    _grow_coins(small, 3)
    _grow_coins(big, 30)
    small_client, big_client = _client_for(small, "small-coins"), _client_for(big, "big-coins")
    _count(small_client, url)
    _count(big_client, url)
    # when
    few = _count(small_client, url)
    with django_assert_max_num_queries(CEILING):
        big_client.get(url)
    many = _count(big_client, url)
    # then
    assert few == many
