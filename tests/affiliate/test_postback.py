"""SPEC A-5: ``POST /api/v1/affiliate/postback`` — signed as SPEC §0, idempotent, amounts only
from our order; tampered or stale → 401; an order not received yet → retryable."""

import json
import time
from datetime import timedelta

import affkit
import pytest
from api.support import signed_headers
from django.test import Client
from factories import first_sku, make_order, make_product

from affiliate.models import Commission, Postback
from core import clock
from integrations.services import integration_create

URL = "/api/v1/affiliate/postback"


@pytest.fixture
def partner(db):
    integration, secret = integration_create(name="Affiliate network")
    return integration, secret


@pytest.fixture
def attributable(shop_a):
    affkit.enable(shop_a, rate_bp=1000)
    click = affkit.click(affkit.link(shop_a), at=clock.now() - timedelta(hours=2))
    sku = first_sku(make_product(shop_a, price_minor=100_00))
    order = make_order(shop_a, sku=sku, status="paid")  # no cookie on the order
    return order, click


def post(partner, payload, *, timestamp=None, tamper=False):
    integration, secret = partner
    body = json.dumps(payload).encode()
    headers = signed_headers(
        key_id=integration.key_id, secret=secret, body=body, timestamp=timestamp
    )
    if tamper:
        body = body.replace(b"pb-", b"pX-")
    return Client().post(URL, data=body, content_type="application/json", **headers)


def payload(order, click, **extra):
    return {
        "postback_id": "pb-1",
        "shop_id": order.shop.external_id,
        "order_number": order.number,
        "click_id": click.click_id,
        **extra,
    }


def test_a5_postback_attributes_with_amounts_from_our_order(partner, attributable):
    order, click = attributable
    response = post(partner, payload(order, click, amount_minor=999_999_00))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "applied",
        "attributed": True,
        "commission_status": "locked",
    }
    c = Commission.objects.get(order=order)
    assert c.click_id == click.pk
    assert c.amount_minor == 9_50  # 10% of (¥100 − 5% fee): the postback's amount is ignored


def test_a5_same_postback_100_times_is_one_conversion(partner, attributable):
    order, click = attributable
    answers = [post(partner, payload(order, click)).json()["status"] for _ in range(100)]
    assert answers[0] == "applied"
    assert set(answers[1:]) == {"duplicate"}
    assert Postback.objects.count() == 1
    assert Commission.objects.filter(order=order).count() == 1


def test_a5_tampered_postback_is_401_and_changes_nothing(partner, attributable):
    order, click = attributable
    response = post(partner, payload(order, click), tamper=True)
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    assert not Postback.objects.exists()
    assert not Commission.objects.exists()


def test_a5_stale_postback_is_401(partner, attributable):
    order, click = attributable
    response = post(partner, payload(order, click), timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    assert response.json()["code"] == "stale_timestamp"
    assert not Postback.objects.exists()


def test_a5_unknown_order_is_retryable_and_recorded_nowhere(partner, attributable):
    order, click = attributable
    response = post(partner, payload(order, click, order_number="NOT-YET"))
    assert response.status_code == 409
    assert response.json()["code"] == "unknown_order"
    assert response.json()["retryable"] is True
    assert not Postback.objects.exists()
    # sent again once the order exists: applied
    assert post(partner, payload(order, click)).json()["status"] == "applied"


@pytest.mark.parametrize(
    "bad",
    [{"click_id": "not-hex!"}, {"click_id": ""}, {"postback_id": ""}, {"order_number": "x" * 65}],
)
def test_a5_malformed_postback_is_422_and_writes_nothing(partner, attributable, bad):
    order, click = attributable
    response = post(partner, payload(order, click, **bad))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert not Postback.objects.exists()


def test_a5_postback_with_an_invalid_click_is_kept_but_attributes_nothing(partner, attributable):
    order, _ = attributable
    response = post(partner, {**payload(order, affkit.Click(click_id="f" * 32))})
    assert response.status_code == 200
    assert response.json()["attributed"] is False
    assert Postback.objects.count() == 1


def test_a5_postback_is_in_the_openapi_document(client, db):
    doc = client.get("/api/v1/openapi.json").json()
    operation = doc["paths"][URL]["post"]
    assert "409" in operation["responses"]
    assert any("SignedRequest" in req for req in operation["security"])
