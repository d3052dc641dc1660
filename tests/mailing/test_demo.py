"""The history part of mailing's demo hook (``mailing.demo_history``): audience consent (M-3),
segments (M-4), past campaigns sent through the dispatch engine with their tracking (M-11),
health days (M-12) and last month's statement (M-9) — present, and the same for one seed."""

from datetime import UTC, datetime, timedelta
from random import Random

import pytest
import time_machine
from django.db import transaction

from core import clock
from mailing import demo, demo_history
from mailing.models import (
    Campaign,
    CampaignStatus,
    Consent,
    ConsentStatus,
    HealthDay,
    Message,
    OrderAttribution,
    Segment,
    Statement,
    Suppression,
    SuppressionReason,
)
from mailing.selectors_campaigns import progress
from tests.factories import first_sku, make_buyer, make_order, make_product, make_shop

NOW = datetime(2026, 3, 16, 6, 30, tzinfo=UTC)


@pytest.fixture
def world(m1_met):
    """Two eligible shops; shop A has 24 customers (half in double opt-in countries), each
    with orders spread over the last 40 days."""
    with time_machine.travel(NOW, tick=False):
        a, b = make_shop(), make_shop()
        sku = first_sku(make_product(a))
        for i in range(24):
            buyer = make_buyer(country="FR" if i % 2 else "US")
            for k in range(1 + i % 3):
                make_order(
                    a, buyer, sku=sku, placed_at=NOW - timedelta(days=1 + (i * 7 + k * 13) % 40)
                )
        yield a, b


def _snapshot() -> dict:
    return {
        "campaigns": sorted(
            (c.shop.external_id, c.name, c.status, tuple(vars(progress(campaign=c)).values()))
            for c in Campaign.objects.select_related("shop")
        ),
        "consents": sorted(Consent.objects.values_list("email", "status", "granted_at")),
        "suppressions": sorted(Suppression.objects.values_list("email", "reason", "expires_at")),
        "health": sorted(HealthDay.objects.values_list("shop_id", "day", "sent", "breaches")),
    }


def _seed(shops, seed=7):
    with time_machine.travel(NOW, tick=False):
        demo.seed(shops=list(shops), rng=Random(seed), now=clock.now())


def test_m3_m11_demo_history_has_consent_segments_sent_campaigns_and_tracking(world):
    a, b = world

    # when
    _seed([a, b])

    # then: consent in every state (M-3), suppressions with their reasons
    states = set(Consent.objects.filter(shop=a).values_list("status", flat=True))
    assert states == {ConsentStatus.GRANTED, ConsentStatus.PENDING, ConsentStatus.CONFIRMED}
    reasons = dict(Suppression.objects.filter(shop=a).values_list("reason", "expires_at"))
    assert set(reasons) >= {
        SuppressionReason.UNSUBSCRIBE,
        SuppressionReason.MANUAL,
        SuppressionReason.HARD_BOUNCE,
        SuppressionReason.COMPLAINT,
    }
    assert reasons[SuppressionReason.HARD_BOUNCE] > NOW  # still in its 30-day quarantine
    assert Segment.objects.filter(shop=a).count() == 1 + len(demo_history.SEGMENTS)
    # past campaigns sent through dispatch, with their figures (M-11)
    sent = list(Campaign.objects.filter(shop=a, status=CampaignStatus.SENT).order_by("pk"))
    assert len(sent) == 3
    figures = [progress(campaign=c) for c in sent]
    assert all(f.sent > 0 and f.waiting == 0 for f in figures)
    assert sum(f.opened for f in figures) > 0
    assert sum(f.clicked for f in figures) > 0
    assert [f.unsubscribed for f in figures] == [1, 1, 1]
    assert figures[1].bounced == 1
    assert figures[2].complained == 1
    assert sum(f.orders for f in figures) == OrderAttribution.objects.filter(shop=a).count() > 0
    assert all(c.finished_at < NOW for c in sent)
    assert Message.objects.filter(shop=a, state="sent", billable=True).exists()
    # one campaign waiting for tomorrow's local 10:00, one draft
    statuses = sorted(Campaign.objects.filter(shop=a).values_list("status", flat=True))
    assert statuses.count(CampaignStatus.DRAFT) == 1
    assert statuses.count(CampaignStatus.SENDING) == 1
    # health of each sending day (M-12) and the statement of February (M-9)
    assert HealthDay.objects.filter(shop=a).exists()
    assert Statement.objects.filter(shop=a, month=datetime(2026, 2, 1).date()).exists()
    # shop B has no customers: set up, segments, a draft, nothing sent
    assert not Message.objects.filter(shop=b).exists()


def test_demo_history_is_the_same_for_one_seed(world):
    a, b = world

    # given: one run, rolled back
    with transaction.atomic():
        _seed([a, b])
        first = _snapshot()
        transaction.set_rollback(True)

    # when
    _seed([a, b])

    # then
    assert _snapshot() == first
    assert first["campaigns"]


def test_m11_demo_tick_opens_and_clicks_a_recent_message(world):
    from django.db.models import Sum

    a, b = world
    _seed([a, b])
    before = Message.objects.aggregate(o=Sum("opens"), c=Sum("clicks"))
    # a stream whose first draw is a click (under 0.06)
    seed = next(s for s in range(1000) if Random(s).random() < 0.06)

    # when
    with time_machine.travel(NOW, tick=False):
        demo.tick(rng=Random(seed), now=clock.now())

    # then
    after = Message.objects.aggregate(o=Sum("opens"), c=Sum("clicks"))
    assert (after["o"], after["c"]) == (before["o"] + 1, before["c"] + 1)


def test_m12_demo_pauses_the_second_shop_after_three_breach_days(m1_met):
    # given: three eligible shops with customers (each with orders in the last 40 days); the
    # last one enabled waits for its own domain's DNS records (sends nothing)
    from mailing.models import SendingPause

    with time_machine.travel(NOW, tick=False):
        shops = [make_shop(), make_shop(), make_shop()]
        for shop in shops:
            sku = first_sku(make_product(shop))
            for i in range(12):
                buyer = make_buyer(country="US")
                make_order(shop, buyer, sku=sku, placed_at=NOW - timedelta(days=1 + i * 3 % 40))

    # when
    _seed(shops)

    # then: the second shop's sending is paused by the health evaluation, naming its drivers
    first, second, _third = shops
    assert not SendingPause.objects.filter(shop=first).exists()
    pause = SendingPause.objects.get(shop=second, ended_at__isnull=True)
    assert pause.reason == "health"
    assert "unsubscribe" in pause.drivers["breaches"]
    assert pause.drivers["campaign"].startswith("Clearance")
    assert len(pause.drivers["days"]) == 3
    breach_days = HealthDay.objects.filter(shop=second).exclude(breaches=[]).order_by("day")
    assert [d.day.isoformat() for d in breach_days][-3:] == pause.drivers["days"]
