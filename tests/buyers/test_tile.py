"""The buyers tile on the seller's home: this shop's customers of the last 30 days that the buyer
checks flagged (SPEC B-4, B-5, B-6), in at most two queries, never another shop's."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse

from buyers.apps import home_tile
from buyers.models import RiskStatus
from buyers.selectors import customers_to_watch
from buyers.services.identity import buyers_risk_flag
from core import clock
from tests.factories import make_buyer, make_order, make_shop


def _flag(buyer, status=RiskStatus.RISK_REVIEW):
    with transaction.atomic():
        buyers_risk_flag(buyer_ids=[buyer.pk], status=status, reason="B-4: test")


@pytest.mark.django_db
def test_b4_b6_tile_counts_this_shops_recent_customers_only(
    shop_a, rf, django_assert_max_num_queries
):
    # given: recent customers — one in review, one suspected, one low activity, one fine;
    # a flagged buyer who ordered 40 days ago, and one who ordered from another shop only
    now = clock.now()
    review, fraud, low, fine, old, elsewhere = (make_buyer() for _ in range(6))
    for b in (review, fraud, low, fine):
        make_order(shop_a, b, placed_at=now - timedelta(days=3))
    make_order(shop_a, old, placed_at=now - timedelta(days=40))
    make_order(make_shop(), elsewhere, placed_at=now - timedelta(days=1))
    _flag(review)
    _flag(fraud, RiskStatus.SUSPECTED_FRAUD)
    _flag(old)
    _flag(elsewhere)
    type(low).objects.filter(pk=low.pk).update(low_activity=True)

    # when
    with django_assert_max_num_queries(2):
        ctx = home_tile(rf.get("/"), shop_a)

    # then
    assert ctx["watch"].customers == 4
    assert ctx["watch"].in_review == 2
    assert ctx["watch"].low_activity == 1
    assert customers_to_watch(shop=make_shop()).customers == 0


@pytest.mark.django_db
def test_b4_home_shows_the_buyers_tile_with_its_counts(shop_a, owner_client):
    # given
    buyer = make_buyer()
    make_order(shop_a, buyer, placed_at=clock.now() - timedelta(days=2))
    _flag(buyer)

    # when
    response = owner_client.get(reverse("home"))

    # then
    content = response.content.decode()
    assert 'id="tile-buyers"' in content
    assert "1 in risk review at the marketplace" in content
    assert "Of your 1 customer in the last 30 days:" in content
    assert f'href="{reverse("orders:list")}"' in content
