"""The marketing-email tile on the seller's home: eligibility before enabling (M-1); once
enabled the set-up steps missing (M-2), campaigns sending/scheduled/paused, the last sent
campaign's delivery rate and the sending health (M-12) — in at most two queries, never another
shop's figures."""

from datetime import timedelta

import pytest
from dispatchkit import ADDRESS, PHONE, make_campaign, sent_rows
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import clock
from core.tiles import SEVERITY_CRITICAL, SEVERITY_NOTICE, SEVERITY_WARNING
from mailing import demo
from mailing.apps import home_tile
from mailing.models import Campaign, CampaignStatus, HealthDay, SendingPause
from mailing.services import setup

pytestmark = pytest.mark.django_db
REGISTRY = "constance_constance"
SAVEPOINTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")  # the registry's


def _tile(rf, shop):
    """The tile's context and its queries: (data queries, registry reads). The rule-number
    registry (constance's database backend) answers one query per number read, after the first
    read of each number has stored its default (the warm-up call)."""
    home_tile(rf.get("/"), shop)
    with CaptureQueriesContext(connection) as captured:
        ctx = home_tile(rf.get("/"), shop)
    sql = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(SAVEPOINTS)]
    return ctx, sum(REGISTRY not in q for q in sql), sum(REGISTRY in q for q in sql)


def _complete_setup(shop):
    setup.brand_save(
        shop=shop,
        sender_name="Shop A",
        primary_colour="#e62e04",
        background_colour="#f5f5f5",
        physical_address=ADDRESS,
        service_phone=PHONE,
        logo=SimpleUploadedFile("logo.png", demo.LOGO_PNG, content_type="image/png"),
    )
    setup.template_copy(shop=shop, builtin_key="welcome")


def test_m1_tile_before_enabling_shows_the_checks_in_two_queries(m1_met, shop_a, rf):
    # when
    ctx, queries, reads = _tile(rf, shop_a)

    # then
    assert queries == 2
    assert reads <= 8
    assert ctx["eligible"] is True
    assert ctx["failed"] == 0
    assert not ctx["state"].enabled


def test_m2_tile_lists_the_set_up_steps_still_missing(enabled_a, shop_a, rf):
    # given: enabled (the default domain is verified), no brand footer, logo or template
    # when
    ctx, queries, _reads = _tile(rf, shop_a)

    # then
    assert queries == 1
    assert [url for _label, url in ctx["steps"]] == [
        reverse("mailing:brand"),
        reverse("mailing:templates"),
    ]
    assert [a.severity for a in ctx["attention"]] == [SEVERITY_NOTICE]
    assert "2 set-up steps left" in ctx["attention"][0].text


def test_m2_tile_says_when_the_own_domain_fails_its_dns_check(enabled_a, shop_a, rf):
    # given: an own subdomain whose records were found wrong
    _complete_setup(shop_a)
    domain = setup.own_domain_set(shop=shop_a, domain="promo.shop-a.example.com")
    type(domain).objects.filter(pk=domain.pk).update(status="failed")

    # when
    ctx = home_tile(rf.get("/"), shop_a)

    # then
    assert [label for label, _url in ctx["steps"]] == ["verify the sender domain"]
    assert [a.severity for a in ctx["attention"]] == [SEVERITY_CRITICAL]
    assert "promo.shop-a.example.com" in ctx["attention"][0].text


def test_m12_tile_counts_campaigns_and_the_last_delivery_rate_of_this_shop_only(
    enabled_a, enabled_b, shop_a, shop_b, rf
):
    # given: a campaign sent yesterday (100 left, 20 bounced: 80% < 85%), one sending,
    # one paused, a draft; shop B sends a campaign too
    _complete_setup(shop_a)
    now = clock.now()
    last = sent_rows(shop_a, 80, at=now - timedelta(days=1))
    sent_rows(shop_a, 20, at=now - timedelta(days=1), campaign=last, prefix="b", bounce="hard")
    Campaign.objects.filter(pk=last.pk).update(status=CampaignStatus.SENT, finished_at=now)
    older = sent_rows(shop_a, 5, at=now - timedelta(days=9), prefix="o")
    Campaign.objects.filter(pk=older.pk).update(
        status=CampaignStatus.SENT, finished_at=now - timedelta(days=9)
    )
    for status in (CampaignStatus.SENDING, CampaignStatus.PAUSED, CampaignStatus.DRAFT):
        c = make_campaign(shop_a, name=f"c {status}")
        Campaign.objects.filter(pk=c.pk).update(status=status)
    other = make_campaign(shop_b, name="B's")
    Campaign.objects.filter(pk=other.pk).update(status=CampaignStatus.SENDING)

    # when
    ctx, queries, reads = _tile(rf, shop_a)

    # then: one query whatever the number of messages and campaigns
    assert queries == 1
    assert reads <= 8
    s = ctx["state"]
    assert (s.sending, s.scheduled, s.paused) == (1, 0, 1)
    assert s.last_campaign_id == last.pk
    assert (s.last_attempted, s.last_bounced) == (100, 20)
    assert s.delivery_rate == 80
    assert ctx["steps"] == []
    assert [a.severity for a in ctx["attention"]] == [SEVERITY_WARNING]
    assert "80.0%" in ctx["attention"][0].text


def test_m12_tile_delivery_at_the_threshold_is_no_warning(enabled_a, shop_a, rf):
    # given: 85 of 100 delivered: exactly the minimum
    _complete_setup(shop_a)
    now = clock.now()
    c = sent_rows(shop_a, 85, at=now - timedelta(days=1))
    sent_rows(shop_a, 15, at=now - timedelta(days=1), campaign=c, prefix="b", bounce="hard")
    Campaign.objects.filter(pk=c.pk).update(status=CampaignStatus.SENT, finished_at=now)

    # when
    ctx = home_tile(rf.get("/"), shop_a)

    # then
    assert ctx["state"].delivery_rate == 85
    assert ctx["attention"] == []


def test_m12_tile_warns_of_breach_days_and_an_auto_pause_is_critical(enabled_a, shop_a, rf):
    # given: two breach days of the last three, and one outside the window
    _complete_setup(shop_a)
    today = clock.natural_day(clock.now())
    for ago in (1, 2, 4):
        HealthDay.objects.create(
            shop=shop_a,
            day=today - timedelta(days=ago),
            sent=100,
            unsubscribed=2,
            breaches=["unsubscribe"],
            evaluated_at=clock.now(),
        )
    HealthDay.objects.create(
        shop=shop_a, day=today - timedelta(days=3), sent=100, breaches=[], evaluated_at=clock.now()
    )

    # when
    warned = home_tile(rf.get("/"), shop_a)
    SendingPause.objects.create(shop=shop_a, started_at=clock.now())
    paused = home_tile(rf.get("/"), shop_a)

    # then
    assert warned["state"].breach_days == 2
    assert [a.severity for a in warned["attention"]] == [SEVERITY_WARNING]
    assert "2 of the last 3 days" in warned["attention"][0].text
    assert [a.severity for a in paused["attention"]] == [SEVERITY_CRITICAL]


def test_m12_home_shows_the_enabled_tile(enabled_a, shop_a, owner_client):
    # given
    _complete_setup(shop_a)
    c = make_campaign(shop_a, name="Spring")
    Campaign.objects.filter(pk=c.pk).update(status=CampaignStatus.SENDING)

    # when
    response = owner_client.get(reverse("home"))

    # then
    content = response.content.decode()
    assert 'id="tile-mailing"' in content
    assert "Campaigns: 1 sending, 0 scheduled" in content
    assert "Ready to send" in content
    assert f'href="{reverse("mailing:campaigns")}"' in content
