"""Buyers' coins: the wallets list, one buyer's provenance (SPEC C-6 … C-8) and the coins
section of the order page with its accounting (C-9)."""

from datetime import timedelta

import time_machine
from coinkit import coin_order, coin_product, coin_shop, give
from django.db import connection
from django.test.utils import CaptureQueriesContext
from factories import make_buyer

from coins import services
from coins.models import CoinRedemption
from core import clock
from orders import services as order_services

WALLETS = "/coins/buyers/"


def _wallet_url(buyer):
    return f"/coins/buyers/{buyer.pk}/"


def _paid_coin_order(shop, buyer, coins, *, price=100_00, number=None):
    sku = coin_product(shop, price_minor=price)
    kw = {"number": number} if number else {}
    order = coin_order(shop, buyer, sku, coins, status="paid", **kw)
    services.redemption_link(order=order)  # the order.created consumer's work
    return order


def _refund(order, amount, refund_id):
    order = type(order).objects.get(pk=order.pk)
    refund = order_services.order_refund(
        order=order, refund_id=refund_id, amount_minor=amount, refunded_at=clock.now()
    )
    services.order_refund_apply(order_id=order.pk, refund_id=refund.pk, full=False)
    return refund


# --- the wallets list --------------------------------------------------------------------------


def test_c6_wallets_list_sorted_by_balance_links_to_each_wallet(owner_client, shop_a):
    # given
    coin_shop(shop_a)
    rich, poor = make_buyer(), make_buyer()
    give(shop_a, rich, 900)
    give(shop_a, poor, 100)
    # when
    desc = owner_client.get(WALLETS)
    asc = owner_client.get(WALLETS, {"sort": "balance"})
    # then
    assert [r["wallet"].buyer_id for r in desc.context["rows"]] == [rich.pk, poor.pk]
    assert [r["wallet"].buyer_id for r in asc.context["rows"]] == [poor.pk, rich.pk]
    body = desc.content.decode()
    assert f'href="{_wallet_url(rich)}"' in body
    assert "¥9.00" in body


def test_c6_wallets_list_is_paginated_and_junk_sort_falls_back(owner_client, shop_a, settings):
    settings.SC_PAGE_SIZE = 2
    coin_shop(shop_a)
    for coins in (100, 200, 300):
        give(shop_a, make_buyer(), coins)
    first = owner_client.get(WALLETS, {"sort": "nonsense"})
    second = owner_client.get(WALLETS, {"after": first.context["page_obj"].next_cursor})
    assert [r["wallet"].balance for r in first.context["rows"]] == [300, 200]
    assert [r["wallet"].balance for r in second.context["rows"]] == [100]


def test_c6_contacts_are_masked_for_the_analyst_and_pages_are_not_cached(
    owner_client, analyst_client, shop_a
):
    # given
    coin_shop(shop_a)
    buyer = make_buyer(email="jeanne.martin@example.fr")
    give(shop_a, buyer, 100)
    for url in (WALLETS, _wallet_url(buyer)):
        # when
        owner_page = owner_client.get(url)
        analyst_page = analyst_client.get(url)
        # then
        assert "jeanne.martin@example.fr" in owner_page.content.decode()
        assert "jeanne.martin@example.fr" not in analyst_page.content.decode()
        assert "j***@example.fr" in analyst_page.content.decode()
        for response in (owner_page, analyst_page):
            assert "no-store" in response["Cache-Control"]
            assert "private" in response["Cache-Control"]


def test_c6_another_shops_owner_gets_404_for_shop_a_wallets(other_client, shop_a, shop_b):
    # given
    coin_shop(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 100)
    # when
    response = other_client.get(_wallet_url(buyer))
    listing = other_client.get(WALLETS)
    # then
    assert response.status_code == 404
    assert listing.context["rows"] == []


def test_c6_wallet_pages_are_read_only(owner_client, shop_a):
    coin_shop(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 100)
    assert owner_client.post(WALLETS).status_code == 405
    assert owner_client.post(_wallet_url(buyer)).status_code == 405


# --- provenance --------------------------------------------------------------------------------


def test_c8_wallet_shows_each_lot_its_origin_and_where_its_coins_went(owner_client, shop_a):
    # given: a grant of 1000 by a rule for order G-1, 400 spent on order S-1, which is refunded
    coin_shop(shop_a)
    buyer = make_buyer()
    grant = give(shop_a, buyer, 1000)
    order = _paid_coin_order(shop_a, buyer, 400, number="S-1")
    _refund(order, order.amount_paid_minor, "r-prov-1")
    # when
    response = owner_client.get(_wallet_url(buyer))
    # then
    body = response.content.decode()
    assert grant.rule.name in body
    assert grant.order.number in body
    assert "400 coins spent on" in body
    assert "order S-1" in body
    assert "400 returned on refund" in body
    assert "Refund return" in body
    lots = response.context["lots"]
    assert {row["lot"].source for row in lots} == {"grant", "refund_return"}
    assert response.context["balance"].coins == 1000


def test_c6_expired_coins_are_shown_as_expired(owner_client, shop_a):
    coin_shop(shop_a)
    buyer = make_buyer()
    grant = give(shop_a, buyer, 700)
    with time_machine.travel(grant.created_at + timedelta(days=181), tick=False):
        services.lots_expire()
    response = owner_client.get(_wallet_url(buyer))
    assert "700 coins expired" in response.content.decode()
    assert response.context["balance"].coins == 0


def test_c8_wallet_page_query_count_is_constant_in_the_number_of_lots(owner_client, shop_a):
    # given
    coin_shop(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 1000)
    _paid_coin_order(shop_a, buyer, 100)
    owner_client.get(_wallet_url(buyer))
    with CaptureQueriesContext(connection) as few:
        owner_client.get(_wallet_url(buyer))
    for _ in range(8):
        give(shop_a, buyer, 500)
        _paid_coin_order(shop_a, buyer, 600)
    # when
    with CaptureQueriesContext(connection) as many:
        owner_client.get(_wallet_url(buyer))
    # then
    assert len(many.captured_queries) == len(few.captured_queries) <= 20


def test_c6_wallets_list_query_count_is_constant(owner_client, shop_a):
    coin_shop(shop_a)
    give(shop_a, make_buyer(), 100)
    owner_client.get(WALLETS)
    with CaptureQueriesContext(connection) as few:
        owner_client.get(WALLETS)
    for _ in range(10):
        give(shop_a, make_buyer(), 100)
    with CaptureQueriesContext(connection) as many:
        owner_client.get(WALLETS)
    assert len(many.captured_queries) == len(few.captured_queries) <= 20


# --- the order page (C-9) ----------------------------------------------------------------------


def test_c9_order_page_shows_gmv_invoice_and_commission_base(owner_client, shop_a):
    # given: ¥100 payable, ¥10 in coins, ¥90 paid
    coin_shop(shop_a)
    buyer = make_buyer()
    grant = give(shop_a, buyer, 1000)
    order = _paid_coin_order(shop_a, buyer, 1000, price=100_00)
    assert CoinRedemption.objects.get(order=order).coins == 1000
    # when
    body = owner_client.get(f"/orders/{order.pk}/").content.decode()
    # then
    assert 'id="order-coins"' in body
    assert 'id="coin-gmv">¥90.00<' in body
    assert 'id="coin-invoice">¥100.00<' in body
    assert 'id="coin-commission-base">¥90.00<' in body
    assert grant.rule.name in body  # the lot the order spent, by its rule
    assert f'href="{_wallet_url(buyer)}"' in body


def test_c7_order_page_lists_coins_granted_for_the_order(owner_client, shop_a):
    coin_shop(shop_a)
    buyer = make_buyer()
    grant = give(shop_a, buyer, 250)
    body = owner_client.get(f"/orders/{grant.order_id}/").content.decode()
    assert 'id="order-coin-grants"' in body
    assert "250 coins" in body


def test_c9_order_without_coins_has_no_coins_section(owner_client, order_a):
    body = owner_client.get(f"/orders/{order_a.pk}/").content.decode()
    assert 'id="order-coins"' not in body


def test_c9_order_page_query_count_does_not_grow_with_the_lots_spent(owner_client, shop_a):
    # given: one order spending one lot, one spending eight
    coin_shop(shop_a)
    one, many = make_buyer(), make_buyer()
    give(shop_a, one, 1000)
    for _ in range(8):
        give(shop_a, many, 125)
    few_order = _paid_coin_order(shop_a, one, 1000)
    many_order = _paid_coin_order(shop_a, many, 1000)
    owner_client.get(f"/orders/{few_order.pk}/")
    # when
    with CaptureQueriesContext(connection) as few:
        owner_client.get(f"/orders/{few_order.pk}/")
    with CaptureQueriesContext(connection) as lots:
        response = owner_client.get(f"/orders/{many_order.pk}/")
    # then
    assert len(response.context["panels"][0]["panel"]["coins"].parts) == 8
    assert len(lots.captured_queries) == len(few.captured_queries)


def test_c6_a_buyer_of_the_shop_without_coins_has_an_empty_wallet_page(owner_client, order_a):
    response = owner_client.get(_wallet_url(order_a.buyer))
    assert response.status_code == 200
    assert "No coins received yet." in response.content.decode()
    assert response.context["balance"].coins == 0


def test_c6_htmx_requests_get_only_the_swapped_region(owner_client, shop_a, order_a):
    # given
    coin_shop(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 100)
    regions = {
        "/coins/fund/": "Top-up: shop balance → available",
        "/coins/products/": "coin-product-",
        WALLETS: _wallet_url(buyer),
        _wallet_url(buyer): 'id="lot-',
    }
    for url, marker in regions.items():
        # when
        response = owner_client.get(url, headers={"HX-Request": "true"})
        # then: the region alone, not the page around it
        body = response.content.decode()
        assert response.status_code == 200, url
        assert "<html" not in body, url
        assert marker in body, url
        assert "HX-Request" in response["Vary"], url
