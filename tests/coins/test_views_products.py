"""Product coin deduction (SPEC C-3) and the configuration status board (C-4)."""

import pytest
from coinkit import enable, open_account, top_up
from django.db import connection
from django.test.utils import CaptureQueriesContext
from factories import make_product

from coins import services
from coins.models import CoinProductSetting
from shops.models import Product

URL = "/coins/products/"


def _ready(shop, fund=500_00):
    open_account(shop)
    if fund:
        top_up(shop, fund)


def _row(response, product):
    return next(r for r in response.context["rows"] if r["status"].product.pk == product.pk)


# --- the status board (C-4) --------------------------------------------------------------------


def test_c4_board_shows_the_label_where_coins_show(owner_client, shop_a):
    # given
    _ready(shop_a)
    product = make_product(shop_a, title="Mug", price_minor=32_00)
    enable(shop_a, product, ratio=1000)
    # when
    response = owner_client.get(URL)
    # then
    row = _row(response, product)
    assert row["status"].shows
    body = response.content.decode()
    assert "up to ¥3.20 off with coins" in body
    assert "Coins show" in body


def test_c4_board_lists_each_reason_with_how_to_fix_it(owner_client, shop_a):
    # given: no account, a pending product with its switch off
    product = make_product(shop_a, title="Lamp", review_status="pending")
    # when
    response = owner_client.get(URL)
    # then
    row = _row(response, product)
    assert row["status"].problems == ["switch_off", "not_approved", "account_inactive", "fund_low"]
    body = response.content.decode()
    assert "Coins do not show" in body
    assert "Coin deduction is off for this product." in body
    assert "The product is not approved by the marketplace." in body
    assert "Open the coin account, or resume it if it is paused." in body
    assert "Top up the coin fund to at least ¥500.00." in body
    assert f'href="/shops/products/{product.pk}/"' in body
    assert 'href="/coins/fund/"' in body


def test_c4_paused_account_and_low_fund_hide_coins_everywhere(owner_client, shop_a):
    # given
    _ready(shop_a, fund=499_99)
    product = make_product(shop_a)
    enable(shop_a, product)
    services.account_pause(shop=shop_a)
    # when
    row = _row(owner_client.get(URL), product)
    # then
    assert row["status"].problems == ["account_inactive", "fund_low"]


def test_c4_filter_only_products_with_problems(owner_client, shop_a):
    # given
    _ready(shop_a)
    good, off = make_product(shop_a, title="Good"), make_product(shop_a, title="Off")
    pending = make_product(shop_a, title="Pending", review_status="pending")
    enable(shop_a, good, pending)
    # when
    response = owner_client.get(URL, {"problems": "1"})
    # then
    shown = {r["status"].product.pk for r in response.context["rows"]}
    assert off.pk in shown
    assert pending.pk in shown
    assert good.pk not in shown
    assert len(response.context["rows"]) == Product.objects.filter(shop=shop_a).count() - 1


def test_c4_board_is_paginated(owner_client, shop_a, settings):
    settings.SC_PAGE_SIZE = 2
    for i in range(3):
        make_product(shop_a, title=f"P{i}")
    first = owner_client.get(URL)
    second = owner_client.get(URL, {"page": 2})
    assert [r["status"].product.title for r in first.context["rows"]] == ["P0", "P1"]
    assert [r["status"].product.title for r in second.context["rows"]] == ["P2"]


def test_c4_board_shows_only_the_current_shops_products(other_client, product_a, shop_b):
    response = other_client.get(URL)
    assert response.status_code == 200
    assert "Wireless earbuds" not in response.content.decode()


def test_c4_board_query_count_is_constant_in_the_number_of_products(owner_client, shop_a):
    # given
    _ready(shop_a)
    enable(shop_a, *[make_product(shop_a, n_skus=2) for _ in range(2)])
    owner_client.get(URL)
    with CaptureQueriesContext(connection) as few:
        owner_client.get(URL)
    enable(shop_a, *[make_product(shop_a, n_skus=3) for _ in range(20)])
    make_product(shop_a, review_status="pending")
    # when
    with CaptureQueriesContext(connection) as many:
        owner_client.get(URL)
    # then
    assert len(many.captured_queries) == len(few.captured_queries) <= 20


# --- bulk edit (C-3) ---------------------------------------------------------------------------


def test_c3_bulk_edit_switches_on_and_sets_the_ratio(marketer_client, shop_a):
    # given
    a, b, c = (make_product(shop_a) for _ in range(3))
    # when
    response = marketer_client.post(URL, {"product": [a.pk, b.pk], "switch": "on", "ratio": "12.5"})
    # then
    assert response.status_code == 302
    settings = {s.product_id: (s.enabled, s.max_ratio_bp) for s in CoinProductSetting.objects.all()}
    assert settings == {a.pk: (True, 1250), b.pk: (True, 1250)}
    assert c.pk not in settings


def test_c3_bulk_edit_keeps_what_is_not_set(owner_client, shop_a):
    # given
    a, b = make_product(shop_a), make_product(shop_a)
    enable(shop_a, a, ratio=1000)
    # when: only the ratio; then only the switch
    owner_client.post(URL, {"product": [a.pk], "ratio": "20"})
    owner_client.post(URL, {"product": [a.pk, b.pk], "switch": "off"})
    # then
    got = {s.product_id: (s.enabled, s.max_ratio_bp) for s in CoinProductSetting.objects.all()}
    assert got == {a.pk: (False, 2000), b.pk: (False, 0)}


def test_c3_another_shops_product_is_404_and_nothing_is_written(owner_client, shop_a, product_b):
    a = make_product(shop_a)
    response = owner_client.post(
        URL, {"product": [a.pk, product_b.pk], "switch": "on", "ratio": "10"}
    )
    assert response.status_code == 404
    assert not CoinProductSetting.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"switch": "on", "ratio": "30.01"}, "at most 30%"),
        ({"switch": "on", "ratio": "31"}, "at most 30%"),
        ({"switch": "on", "ratio": "12.345"}, "at most two decimals"),
        ({"switch": "on", "ratio": "-1"}, "at most two decimals"),
        ({"switch": "on", "ratio": "abc"}, "at most two decimals"),
        ({"switch": "on", "ratio": "0"}, "needs a maximum ratio above 0%"),
        ({"switch": "on"}, "needs a maximum ratio above 0%"),
        ({"switch": "maybe", "ratio": "10"}, "Select a valid choice"),
        ({}, "Choose a switch setting, a maximum ratio, or both."),
    ],
)
def test_c3_bad_input_is_a_form_error_and_writes_nothing(owner_client, shop_a, data, message):
    a = make_product(shop_a)
    response = owner_client.post(URL, {"product": [a.pk], **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CoinProductSetting.objects.exists()


@pytest.mark.parametrize("ids", [[], ["x"], ["0"], ["-3"], ["1" * 30]])
def test_c3_bad_product_ids_are_a_form_error(owner_client, shop_a, ids):
    response = owner_client.post(URL, {"product": ids, "switch": "off"})
    assert response.status_code == 400
    assert not CoinProductSetting.objects.exists()


def test_c3_analyst_cannot_edit_and_sees_no_checkboxes(analyst_client, shop_a):
    a = make_product(shop_a)
    page = analyst_client.get(URL).content.decode()
    response = analyst_client.post(URL, {"product": [a.pk], "switch": "on", "ratio": "10"})
    assert 'name="product"' not in page
    assert response.status_code == 403
    assert not CoinProductSetting.objects.exists()
