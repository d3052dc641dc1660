"""The storefront's signed coin reads (DESIGN §6): a product's coin label (SPEC C-3, C-4) and
a buyer's coins in a shop (C-6)."""

from datetime import datetime, timedelta

import pytest
from api.support import signed_headers
from coinkit import coin_shop, enable, give
from django.test import Client
from factories import make_buyer, make_product

from coins import services
from integrations.services import integration_create


@pytest.fixture
def signed(db):
    integration, secret = integration_create(name="Storefront")
    client = Client()

    def get(path, **headers):
        h = signed_headers(key_id=integration.key_id, secret=secret, body=b"")
        h.update(headers)
        return client.get(f"/api/v1/coins{path}", **h)

    return get


def _label(shop, product):
    return f"/shops/{shop.external_id}/products/{product.external_id}/label"


def _balance(shop, buyer):
    return f"/shops/{shop.external_id}/buyers/{buyer.external_id}/balance"


def test_c3_label_of_a_product_where_coins_show(signed, shop_a):
    # given: a ¥32 product at 10%: up to ¥3.20
    coin_shop(shop_a, fund=500_00)
    product = make_product(shop_a, price_minor=32_00)
    enable(shop_a, product, ratio=1000)
    # when
    response = signed(_label(shop_a, product))
    # then
    assert response.status_code == 200
    assert response.json() == {
        "shop": shop_a.external_id,
        "product": product.external_id,
        "shows": True,
        "reasons": [],
        "max_deduction_minor": 3_20,
        "max_deduction_coins": 320,
        "currency": "CNY",
        "label": "up to ¥3.20 off with coins",
    }


def test_c3_label_is_capped_at_50_yuan(signed, shop_a):
    coin_shop(shop_a, fund=500_00)
    product = make_product(shop_a, price_minor=1_000_00)
    enable(shop_a, product, ratio=3000)
    body = signed(_label(shop_a, product)).json()
    assert (body["max_deduction_minor"], body["label"]) == (50_00, "up to ¥50.00 off with coins")


def test_c4_no_label_while_the_fund_is_low_or_the_account_paused(signed, shop_a):
    # given
    coin_shop(shop_a, fund=499_99)
    product = make_product(shop_a)
    enable(shop_a, product)
    services.account_pause(shop=shop_a)
    # when
    body = signed(_label(shop_a, product)).json()
    # then
    assert body["shows"] is False
    assert body["reasons"] == ["account_inactive", "fund_low"]
    assert (body["max_deduction_minor"], body["label"]) == (0, "")


def test_c4_no_label_for_a_product_with_the_switch_off(signed, product_a, shop_a):
    body = signed(_label(shop_a, product_a)).json()
    assert body["shows"] is False
    assert "switch_off" in body["reasons"]


def test_c6_balance_of_a_buyer_with_the_soonest_expiry(signed, shop_a, shop_b):
    # given
    coin_shop(shop_a)
    buyer = make_buyer()
    first = give(shop_a, buyer, 300)
    give(shop_a, buyer, 200)
    # when
    body = signed(_balance(shop_a, buyer)).json()
    other = signed(_balance(shop_b, buyer)).json()
    # then: coins are per shop (C-6)
    assert (body["coins"], body["value_minor"], body["currency"]) == (500, 5_00, "CNY")
    assert body["soonest_expiring_coins"] == 300
    lot_expiry = first.lot.expires_at
    assert abs((datetime.fromisoformat(body["soonest_expiry"]) - lot_expiry).total_seconds()) < 1
    assert (other["coins"], other["soonest_expiry"]) == (0, None)
    assert lot_expiry > first.created_at + timedelta(days=179)


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/shops/nope/products/prod-a/label", "unknown_shop"),
        ("/shops/shop-a/products/nope/label", "unknown_product"),
        ("/shops/shop-a/products/prod-b/label", "unknown_product"),  # shop B's product
        ("/shops/nope/buyers/buyer-1/balance", "unknown_shop"),
        ("/shops/shop-a/buyers/nope/balance", "unknown_buyer"),
    ],
)
def test_c3_unknown_shop_product_or_buyer_is_a_404_with_a_code(
    signed, product_a, product_b, buyer, path, code
):
    response = signed(path)
    assert response.status_code == 404
    assert response.json()["code"] == code


def test_c3_a_bad_signature_is_401(db, product_a, shop_a):
    integration, _secret = integration_create(name="Storefront")
    headers = signed_headers(key_id=integration.key_id, secret="wrong", body=b"")
    response = Client().get(f"/api/v1/coins{_label(shop_a, product_a)}", **headers)
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"


def test_c6_an_unsigned_request_is_401(db, shop_a, buyer):
    response = Client().get(f"/api/v1/coins{_balance(shop_a, buyer)}")
    assert response.status_code == 401
    assert response.json()["code"] == "missing_key"
