"""Sending health (SPEC M-12): daily rates against the thresholds, auto-pause on 3 consecutive
breach days (time travel), what drove it, and the board."""

from datetime import date, timedelta

import dispatchkit as kit
import pytest
import time_machine

from core import clock
from mailing import rules
from mailing.models import HealthDay, SendingPause
from mailing.services import dispatch, health
from shops.models import Notification


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"sent": 10000, "bounced": 1500}, []),  # delivery exactly 85%
        ({"sent": 10000, "bounced": 1501}, ["delivery"]),  # 84.99%
        ({"sent": 1000, "unsubscribed": 3}, []),  # exactly 0.3%
        ({"sent": 1000, "unsubscribed": 4}, ["unsubscribe"]),
        ({"sent": 10000, "complained": 1}, []),  # exactly 0.01%
        ({"sent": 10000, "complained": 2}, ["complaint"]),
        ({"sent": 0}, []),
    ],
)
def test_m12_breach_boundaries(db, counts, expected):
    full = {"sent": 0, "bounced": 0, "unsubscribed": 0, "complained": 0} | counts
    assert rules.day_breaches(**full) == expected


def _day(n: int) -> date:
    return date(2027, 3, 1) + timedelta(days=n)


def _send_day(shop, day: date, *, bad: bool, campaign=None):
    """100 messages that day; a bad day has 20 hard bounces at bad.example."""
    at = clock.day_start(day) + timedelta(hours=10)
    c = kit.sent_rows(shop, 80 if bad else 100, at=at, campaign=campaign, prefix=f"d{day:%d}")
    if bad:
        kit.sent_rows(
            shop, 20, at=at, campaign=c, prefix=f"b{day:%d}", domain="bad.example", bounce="hard"
        )
    return c


def _evaluate_at_midnight_after(day: date):
    with time_machine.travel(clock.day_start(day + timedelta(days=1)) + timedelta(minutes=10)):
        return health.health_evaluate()


def test_m12_three_consecutive_breach_days_pause_sending_naming_what_drove_it(
    brand_a, shop_a, owner
):
    c = kit.campaign(shop_a, name="Blast")
    for n in range(3):
        _send_day(shop_a, _day(n), bad=True, campaign=c)
    # days 1 and 2 breach: no pause yet
    assert _evaluate_at_midnight_after(_day(0)) == 0
    assert _evaluate_at_midnight_after(_day(1)) == 0
    assert not SendingPause.objects.exists()

    # the third consecutive breach day pauses
    assert _evaluate_at_midnight_after(_day(2)) == 1
    pause = SendingPause.objects.get(shop=shop_a)
    assert pause.drivers["campaign"] == "Blast"
    assert pause.drivers["domain"] == "bad.example"
    assert pause.drivers["breaches"] == ["delivery"]
    assert HealthDay.objects.get(shop=shop_a, day=_day(2)).breaches == ["delivery"]
    n = Notification.objects.get(shop=shop_a, kind="auto_pause")
    assert "Blast" in n.body

    # and nothing leaves while paused
    kit.start(c2 := kit.campaign(shop_a, name="Next"))
    assert dispatch.batch_send(campaign_id=c2.pk).claimed == 0

    # evaluating again opens no second pause
    assert _evaluate_at_midnight_after(_day(2)) == 0


def test_m12_a_good_day_in_between_resets_the_count(brand_a, shop_a):
    for n, bad in enumerate([True, True, False, True, True]):
        _send_day(shop_a, _day(n), bad=bad)
        assert _evaluate_at_midnight_after(_day(n)) == 0
    assert not SendingPause.objects.exists()


def test_m12_a_day_without_sending_breaks_the_run(brand_a, shop_a):
    _send_day(shop_a, _day(0), bad=True)
    _send_day(shop_a, _day(1), bad=True)
    _send_day(shop_a, _day(3), bad=True)  # nothing sent on day 2
    for n in range(4):
        _evaluate_at_midnight_after(_day(n))
    assert not SendingPause.objects.exists()


def test_m12_board_shows_rates_against_thresholds_and_the_pause(
    owner_client, analyst_client, brand_a, shop_a, django_assert_max_num_queries
):
    for n in range(3):
        _send_day(shop_a, _day(n), bad=True)
        _evaluate_at_midnight_after(_day(n))
    # bounded whatever the number of days shown; half are the registry's thresholds
    with django_assert_max_num_queries(32):
        response = owner_client.get("/mailing/health/")
    body = response.content.decode()
    assert response.context["days"][0]["delivery"] == 80
    assert "bad.example" in body
    assert "42.3" in body  # the top-10% benchmark beside the shop's own
    assert analyst_client.post("/mailing/health/resume").status_code == 403
    owner_client.post("/mailing/health/resume")
    assert not SendingPause.objects.filter(ended_at__isnull=True).exists()


def test_m12_a_late_complaint_turns_an_earlier_day_into_a_breach_day_and_pauses(brand_a, shop_a):
    from mailing.services import tracking

    # given: day 0 clean when evaluated, days 1 and 2 with bounces
    c = _send_day(shop_a, _day(0), bad=False)
    _send_day(shop_a, _day(1), bad=True, campaign=c)
    _send_day(shop_a, _day(2), bad=True, campaign=c)
    assert _evaluate_at_midnight_after(_day(0)) == 0
    assert HealthDay.objects.get(shop=shop_a, day=_day(0)).breaches == []
    assert _evaluate_at_midnight_after(_day(1)) == 0

    # when: two days later, a complaint about a day-0 message arrives (it counts on day 0)
    day0 = c.messages.filter(email__startswith="d01").order_by("id").first()
    with time_machine.travel(clock.day_start(_day(2)) + timedelta(hours=15)):
        assert tracking.report_apply(
            tracking.Report(day0.message_id.hex, "complaint", "abuse"), source="esp"
        )

    # then: the job after day 2 sees day 0 as a breach day: 3 in a row pause sending
    assert _evaluate_at_midnight_after(_day(2)) == 1
    assert HealthDay.objects.get(shop=shop_a, day=_day(0)).breaches == ["complaint"]
    pause = SendingPause.objects.get(shop=shop_a)
    assert pause.drivers["breaches"] == ["complaint", "delivery"]


def test_m12_the_days_before_the_first_sending_leave_no_rows(brand_a, shop_a):
    _send_day(shop_a, _day(5), bad=False)
    _evaluate_at_midnight_after(_day(5))
    assert list(HealthDay.objects.filter(shop=shop_a).values_list("day", flat=True)) == [_day(5)]
