"""The hourly evaluation (SPEC E-3, E-3a, E-4) and the forced exit (E-5), with time travel over
natural days in Asia/Shanghai."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from actkit import DAY1_10H, D, H, Seller, enrol
from django.core import mail
from django.db import connections
from factories import make_member

from activities import selectors, services
from activities.models import ActivityExit, Enrolment, EnrolmentStatus, MetricSnapshot
from orders import services as orders
from shops.models import Notification


def _metric(result, shop, metric):
    snap = MetricSnapshot.objects.get(evaluation=result.evaluation, shop=shop)
    return snap.metrics[metric]


def test_e3_one_snapshot_per_shop_with_values_numerators_denominators_thresholds(seller):
    # given: 20 orders, 3 cancelled (15%): at the limit, not over it
    seller.orders(20, DAY1_10H - 2 * D, cancelled=3)
    other = Seller(main_category="digital_accessories")

    # when
    result = services.metrics_evaluate(now=DAY1_10H)

    # then
    cancel = _metric(result, seller.shop, "cancel")
    assert cancel["numerator"] == "3"
    assert cancel["denominator"] == 20
    assert cancel["value"] == "15.00"
    assert cancel["threshold"] == "15"
    assert cancel["standing"] == "warning"
    snap = MetricSnapshot.objects.get(evaluation=result.evaluation, shop=other.shop)
    assert snap.relaxed is True
    assert Decimal(snap.metrics["late_shipment"]["threshold"]) == Decimal("22.0")
    assert snap.metrics["cancel"]["standing"] == "not_enough"
    assert result.evaluation.limits["min_samples"]["negative_review"] == 10
    assert (
        result.evaluation.shops
        == MetricSnapshot.objects.filter(evaluation=result.evaluation).count()
    )


def test_e3_just_over_15_percent_breaches(seller):
    seller.orders(20, DAY1_10H - 2 * D, cancelled=4)  # 20%
    result = services.metrics_evaluate(now=DAY1_10H)
    assert _metric(result, seller.shop, "cancel")["standing"] == "breach"
    assert MetricSnapshot.objects.get(evaluation=result.evaluation).breaches == ["cancel"]


def test_e3a_one_order_under_the_minimum_sample_cannot_breach(seller):
    seller.orders(19, DAY1_10H - 2 * D, cancelled=19)
    result = services.metrics_evaluate(now=DAY1_10H)
    cancel = _metric(result, seller.shop, "cancel")
    assert cancel["standing"] == "not_enough"
    assert cancel["denominator"] == 19


def test_e3_window_is_30_natural_days_in_shanghai(seller):
    # an order placed at 23:30 Shanghai on the window's first day counts; one 31 minutes before
    # its start (16:00 UTC the previous day = 00:00 Shanghai) does not
    first_day_start = datetime(2025, 5, 11, 16, 0, tzinfo=UTC)  # 2025-05-12 00:00 Shanghai
    seller.order(first_day_start + timedelta(minutes=1))
    seller.order(first_day_start - timedelta(minutes=31))
    result = services.metrics_evaluate(now=DAY1_10H)  # window 2025-05-12 … 2025-06-10
    assert _metric(result, seller.shop, "cancel")["denominator"] == 1


def test_e3_queries_do_not_grow_with_shops(db, django_assert_max_num_queries):
    sellers = [Seller() for _ in range(2)]
    for s in sellers:
        s.orders(3, DAY1_10H - 2 * D, cancelled=1)
    services.metrics_evaluate(now=DAY1_10H)
    with django_assert_max_num_queries(20) as few:
        services.metrics_evaluate(now=DAY1_10H + H)
    for _ in range(6):
        Seller().orders(3, DAY1_10H - 2 * D, cancelled=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        services.metrics_evaluate(now=DAY1_10H + 2 * H)


def test_e3a_carrier_incident_orders_leave_the_late_shipment_rate(seller):
    # given: 20 paid orders never shipped, 10 of them by yanwen to FR in an incident window
    base = DAY1_10H - 10 * D
    for i in range(20):
        seller.order(
            base + timedelta(minutes=i),
            logistics_service="yanwen" if i < 10 else "aliexpress_standard",
            country="FR",
        )
    for i in range(20):
        o = seller.order(base + timedelta(hours=1, minutes=i))
        seller.ship(o, base + 2 * H)
    before = services.metrics_evaluate(now=DAY1_10H)
    assert _metric(before, seller.shop, "late_shipment")["numerator"] == "20"

    # when: an admin declares the incident
    incident = services.incident_declare(
        carrier="yanwen",
        region="FR",
        starts_at=base - H,
        ends_at=base + H,
        reason="Yanwen sorting centre closed by strike",
    )
    after = services.metrics_evaluate(now=DAY1_10H + H)

    # then: those 10 leave the rate; the snapshot says what was exempted
    late = _metric(after, seller.shop, "late_shipment")
    assert (late["numerator"], late["denominator"]) == ("10", 30)
    snap = MetricSnapshot.objects.get(evaluation=after.evaluation, shop=seller.shop)
    assert snap.figures["exempt"]["ship_late"] == 10
    assert after.evaluation.incidents == [incident.pk]
    # and the cancel rate is untouched by it
    assert _metric(after, seller.shop, "cancel")["denominator"] == 40


def test_e4_official_logistics_anomalies_weigh_0_7(seller):
    # 20 shipped, 10 official parcels quiet for 3 days: 7 weighted of 20 = 35%
    base = DAY1_10H - 10 * D
    for i in range(20):
        o = seller.order(base + timedelta(minutes=i))
        if i < 10:
            seller.ship(o, base + H, carrier="aliexpress_standard", scan=False)
        else:
            seller.ship(o, base + H, carrier="yanwen")
            orders.order_deliver(order=o, delivered_at=base + 30 * H)
    result = services.metrics_evaluate(now=DAY1_10H)
    anomaly = _metric(result, seller.shop, "logistics_anomaly")
    assert (Decimal(anomaly["numerator"]), anomaly["denominator"]) == (Decimal(7), 20)
    assert anomaly["value"] == "35.00"


# --- forced exit (SPEC E-5) ---------------------------------------------------------------------


def _breaching_seller(activity, *, at=DAY1_10H - 3 * D):
    seller = Seller()
    enrolment = enrol(seller, activity, at=at)
    seller.orders(20, at, cancelled=4)  # 20% cancel rate for 30 days
    return seller, enrolment


def test_e5_breach_on_day_1_only_does_not_exit(activity):
    _seller, enrolment = _breaching_seller(activity)
    result = services.metrics_evaluate(now=DAY1_10H)
    assert result.exits == []
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.ENROLLED


def test_e5_breach_on_days_1_and_2_exits_with_evidence_and_notice(
    activity, owner, django_capture_on_commit_callbacks
):
    # given: the owner works in the breaching shop
    seller, enrolment = _breaching_seller(activity)
    from shops.services import membership_grant

    membership_grant(user=owner, shop=seller.shop, role="owner")
    services.metrics_evaluate(now=DAY1_10H)

    # when: the next natural day's evaluation
    with django_capture_on_commit_callbacks(execute=True):
        result = services.metrics_evaluate(now=DAY1_10H + D)

    # then: exited from the running activity, SKUs out at once, staff told with the numbers
    assert len(result.exits) == 1
    exit_ = result.exits[0]
    assert exit_.metrics == ["cancel"]
    assert exit_.day == datetime(2025, 6, 11).date()
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.EXITED
    assert enrolment.exit == exit_
    evidence = exit_.evidence["metrics"]["cancel"]
    assert evidence["today"]["value"] == "20.00"
    assert evidence["yesterday"]["value"] == "20.00"
    assert len(evidence["orders"]) == 4
    note = Notification.objects.get(shop=seller.shop, recipient=owner, kind="activity_exit")
    assert "20.00%" in note.body
    assert evidence["orders"][0] in note.body
    sent = [m for m in mail.outbox if owner.email in m.to]
    assert sent
    assert "20.00%" in sent[0].body


def test_e5_breach_on_days_1_and_3_is_not_consecutive(activity):
    # given: day 1 breach (4/20), day 2 diluted to 10% (4/40), day 3 back to 20% (8/40)
    seller, _enrolment = _breaching_seller(activity)
    services.metrics_evaluate(now=DAY1_10H)
    fresh = seller.orders(20, DAY1_10H + D - 2 * H)
    assert services.metrics_evaluate(now=DAY1_10H + D).exits == []
    for o in fresh[:4]:
        orders.order_cancel(order=o, cancelled_at=DAY1_10H + 2 * D - H)

    # when: day 3 breaches again
    day3 = services.metrics_evaluate(now=DAY1_10H + 2 * D)

    # then: no exit (day 2 was fine); day 4 breaching too exits
    assert day3.exits == []
    assert len(services.metrics_evaluate(now=DAY1_10H + 3 * D).exits) == 1


def test_e5_a_days_status_is_its_last_evaluation(activity):
    seller, _enrolment = _breaching_seller(activity)
    services.metrics_evaluate(now=DAY1_10H)  # breach at 10:00
    seller.orders(20, DAY1_10H + H)  # diluted to 10% by the evening
    services.metrics_evaluate(now=DAY1_10H + 12 * H)  # 22:00 Shanghai: fine
    for o in seller.orders(10, DAY1_10H + 13 * H, cancelled=10):
        assert o
    # 14/50 = 28% the next morning, but yesterday's final value was fine
    assert services.metrics_evaluate(now=DAY1_10H + D).exits == []


def test_e5_crossing_midnight_in_shanghai(activity):
    _seller, _enrolment = _breaching_seller(activity)
    # 23:50 and 00:10 Shanghai: 20 minutes apart, the same UTC day, two natural days
    before_midnight = datetime(2025, 6, 10, 15, 50, tzinfo=UTC)
    after_midnight = datetime(2025, 6, 10, 16, 10, tzinfo=UTC)
    assert services.metrics_evaluate(now=before_midnight).exits == []
    result = services.metrics_evaluate(now=after_midnight)
    assert len(result.exits) == 1


def test_e5_same_natural_day_across_utc_midnight_does_not_exit(activity):
    _seller, _enrolment = _breaching_seller(activity)
    # 07:50 and 08:10 Shanghai are different UTC days (23:50 and 00:10 UTC), one natural day
    assert services.metrics_evaluate(now=datetime(2025, 6, 9, 23, 50, tzinfo=UTC)).exits == []
    assert services.metrics_evaluate(now=datetime(2025, 6, 10, 0, 10, tzinfo=UTC)).exits == []


def test_e5_running_twice_exits_once(activity):
    seller, _enrolment = _breaching_seller(activity)
    make_member(seller.shop)
    services.metrics_evaluate(now=DAY1_10H)
    first = services.metrics_evaluate(now=DAY1_10H + D)
    second = services.metrics_evaluate(now=DAY1_10H + D + H)
    assert len(first.exits) == 1
    assert second.exits == []
    assert ActivityExit.objects.filter(shop=seller.shop).count() == 1
    assert Notification.objects.filter(shop=seller.shop, kind="activity_exit").count() == 1


def test_e5_only_running_activities_are_left(activity):
    seller, enrolment = _breaching_seller(activity)
    ended = services.activity_create(
        services.ActivityInput(
            kind="coupon",
            name="Old coupons",
            starts_at=DAY1_10H - 20 * D,
            ends_at=DAY1_10H - 10 * D + H,
            enrol_until=DAY1_10H - 10 * D,
        )
    )
    old = enrol(seller, ended, at=DAY1_10H - 11 * D)
    services.metrics_evaluate(now=DAY1_10H)
    services.metrics_evaluate(now=DAY1_10H + D)
    old.refresh_from_db()
    enrolment.refresh_from_db()
    assert old.status == EnrolmentStatus.ENROLLED  # ended activity: untouched
    assert enrolment.status == EnrolmentStatus.EXITED


@pytest.mark.django_db(transaction=True)
def test_e5_two_evaluations_at_once_exit_once(activity):
    seller, _enrolment = _breaching_seller(activity)
    services.metrics_evaluate(now=DAY1_10H)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            results.append(services.metrics_evaluate(now=DAY1_10H + D))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(len(r.exits) for r in results) == [0, 1]
    assert ActivityExit.objects.filter(shop=seller.shop).count() == 1
    assert Enrolment.objects.filter(shop=seller.shop, status="exited").count() == 1


def test_e5_exit_page_shows_the_evidence_and_404s_across_shops(
    activity, owner, owner_client, other_owner, client
):
    from django.urls import reverse

    from shops.services import membership_grant

    seller, _enrolment = _breaching_seller(activity)
    services.metrics_evaluate(now=DAY1_10H)
    exit_ = services.metrics_evaluate(now=DAY1_10H + D).exits[0]
    membership_grant(user=owner, shop=seller.shop, role="owner")
    session = owner_client.session
    session["shop_id"] = seller.shop.pk
    session.save()
    page = owner_client.get(reverse("activities:exit", args=[exit_.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "20.00%" in body
    assert exit_.evidence["metrics"]["cancel"]["orders"][0] in body
    client.force_login(other_owner)
    assert client.get(reverse("activities:exit", args=[exit_.pk])).status_code == 404
    assert selectors.exits_for_shop(shop=seller.shop).count() == 1


@pytest.mark.django_db(transaction=True)
def test_e3_an_order_arriving_during_an_evaluation_counts_in_the_next(monkeypatch):
    # given: an evaluation that, right after reading the daily figures, lets an order commit
    from orders import selectors as orders_selectors

    seller = Seller()
    seller.orders(20, DAY1_10H - 2 * D, cancelled=2)
    real = orders_selectors.metric_window_sums
    done = threading.Event()

    def read_then_let_an_order_in(**kwargs):
        sums = real(**kwargs)
        if not done.is_set():

            def write():
                try:
                    o = seller.order(DAY1_10H - D)
                    orders.order_cancel(order=o, cancelled_at=DAY1_10H - D + H)
                finally:
                    connections.close_all()
                    done.set()

            threading.Thread(target=write).start()
            assert done.wait(30)
        return sums

    monkeypatch.setattr(orders_selectors, "metric_window_sums", read_then_let_an_order_in)

    # when
    first = services.metrics_evaluate(now=DAY1_10H)
    second = services.metrics_evaluate(now=DAY1_10H + H)

    # then: not in the evaluation that was reading, in the next one
    assert _metric(first, seller.shop, "cancel")["denominator"] == 20
    assert _metric(second, seller.shop, "cancel")["denominator"] == 21
    assert _metric(second, seller.shop, "cancel")["numerator"] == "3"


def test_e5_threshold_preview_shows_who_would_exit_under_other_numbers(db):
    # given: a shop at 15% cancellations on two days — no breach at the 15% limit
    from dataclasses import replace

    from activities import rules

    seller = Seller()
    seller.orders(20, DAY1_10H - 2 * D, cancelled=3)
    services.metrics_evaluate(now=DAY1_10H)
    services.metrics_evaluate(now=DAY1_10H + D)
    limits = rules.current_limits()
    assert selectors.threshold_preview(limits=limits) == []

    # when: an admin previews a 14% limit, or a relaxation of its category
    stricter = replace(limits, thresholds={**limits.thresholds, "cancel": Decimal("14")})
    rows = selectors.threshold_preview(limits=stricter)

    # then: the shop would be exited at the next evaluation; nothing was written
    assert [(r.shop_id, r.exit_metrics) for r in rows] == [(seller.shop.pk, ["cancel"])]
    assert ActivityExit.objects.count() == 0
    relaxed = replace(
        stricter, relaxed_categories=frozenset({seller.shop.main_category})
    )  # 14% × 1.1 = 15.4%
    assert selectors.threshold_preview(limits=relaxed) == []


def test_e7_exit_notice_gives_the_registry_postmortem_deadline(activity):
    # given: the admin gives sellers 36 hours to file a post-mortem
    from constance import config

    config.ACTIVITIES_POSTMORTEM_HOURS = 36
    seller, _enrolment = _breaching_seller(activity)
    make_member(seller.shop)
    services.metrics_evaluate(now=DAY1_10H)

    # when
    services.metrics_evaluate(now=DAY1_10H + D)

    # then: the notice says 36 hours, stored and as shown
    note = Notification.objects.get(shop=seller.shop, kind="activity_exit")
    assert "File a post-mortem within 36 hours" in note.body
    assert "File a post-mortem within 36 hours" in note.shown_body
    assert "48 hours" not in note.body
