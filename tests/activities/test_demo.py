"""The activities demo hook (DESIGN §2): believable activities, enrolments that passed the
pre-check, and a shop over its limits on two days exited with its evidence (SPEC E-1 to E-5)."""

import random
from datetime import timedelta

import pytest
from actkit import Seller

from activities import demo, services
from activities.models import Activity, ActivityExit, Enrolment
from core import clock


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "core.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }


def test_e5_demo_seed_exits_the_shop_over_its_limits(db):
    # given: a healthy shop and one cancelling a quarter of its orders
    now = clock.now()
    healthy, canceller = Seller(), Seller()
    healthy.orders(30, now - timedelta(days=4))
    canceller.orders(30, now - timedelta(days=4), cancelled=8)

    # when
    demo.seed(shops=[healthy.shop, canceller.shop], rng=random.Random(1), now=now)

    # then
    names = {name for _kind, name, *_rest in demo.ACTIVITIES}
    assert Activity.objects.filter(name__in=names).count() == len(demo.ACTIVITIES)
    assert Enrolment.objects.filter(shop=healthy.shop, status="enrolled").exists()
    assert not ActivityExit.objects.filter(shop=healthy.shop).exists()
    exit_ = ActivityExit.objects.get(shop=canceller.shop)
    assert exit_.metrics == ["cancel"]
    assert len(exit_.evidence["metrics"]["cancel"]["orders"]) == 8
    assert not Enrolment.objects.filter(shop=canceller.shop, status="enrolled").exists()
    # SPEC E-7: the exited shop has filed its post-mortem from the pre-filled form
    pm = exit_.postmortem
    assert pm.status == "submitted"
    assert pm.metric == "cancel"
    for number in exit_.evidence["metrics"]["cancel"]["orders"]:
        assert number in pm.affected_orders
    assert services.evidence_files(owner=pm).count() == 1
