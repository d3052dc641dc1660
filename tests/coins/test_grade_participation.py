"""SPEC C-10: the grade's activity participation comes from the activities the shop took part
in during the month (SPEC §5), each counted once."""

import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "activities"))

from actkit import DAY1_10H, D, Seller, enrol, make_activity
from factories import make_product

from activities import services as activities
from coins.report_selectors import activity_participation

JUNE = date(2025, 6, 1)  # DAY1_10H is 10 June 2025


@pytest.mark.django_db
def test_c10_activities_joined_in_the_month_count_once_each():
    # given: a shop enrolled in two activities running in June (one of them with two SKUs)
    seller = Seller()
    first = make_activity()
    second = make_activity(name="Store coupons week")
    enrol(seller, first)
    enrol(seller, second)
    other_sku = make_product(
        seller.shop, skus=[{"code": "ACT-2", "price_minor": 50_00, "stock": 1000}]
    ).skus.get()
    activities.enrolment_create(
        shop=seller.shop,
        activity=first,
        sku=other_sku,
        activity_price_minor=45_00,
        stock=100,
        now=DAY1_10H - 2 * D,
    )
    # then: June counts two activities; May (before both started) and another shop count none
    assert activity_participation(shop=seller.shop, month=JUNE) == 2
    assert activity_participation(shop=seller.shop, month=date(2025, 4, 1)) == 0
    assert activity_participation(shop=Seller().shop, month=JUNE) == 0


@pytest.mark.django_db
def test_c10_an_activity_that_ended_before_the_month_does_not_count():
    seller = Seller()
    activity = make_activity(
        starts_at=DAY1_10H - 40 * D, ends_at=DAY1_10H - 12 * D, enrol_until=DAY1_10H - 20 * D
    )
    enrol(seller, activity, at=DAY1_10H - 30 * D)
    # the activity ran 1–29 May (Shanghai): May counts it, June does not
    assert activity_participation(shop=seller.shop, month=date(2025, 5, 1)) == 1
    assert activity_participation(shop=seller.shop, month=JUNE) == 0
