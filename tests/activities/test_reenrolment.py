"""SPEC E-8 re-enrolment conditions at their exact boundaries: the recovered rate and the DSR
scores compared exactly (never after rounding), and the days a metric cannot be judged (E-3a
minimum sample) counting toward the recovery streak, for each of the four metrics.

The hourly evaluation runs for real; its daily-figure sums are handed in (as
``test_evaluation`` does) so that a day can hold 1,999 orders without placing them."""

from datetime import timedelta

import pytest
from actkit import DAY1_10H, D, H, Seller, enrol, make_activity

from activities import selectors, services
from activities.models import MetricSnapshot
from orders import selectors as orders_selectors
from orders import services as orders

pytestmark = pytest.mark.django_db

ZERO = dict.fromkeys(orders_selectors.METRIC_FIGURES, 0)

# Each metric: figures that breach it, figures below its minimum sample (at a rate that would
# breach if it were judged), and figures exactly at its re-enrolment rate.
CASES = {
    "cancel": (
        {"orders_created": 20, "orders_cancelled": 4},  # 20% > 15%
        {"orders_created": 5, "orders_cancelled": 3},  # 5 < 20 orders
        {"orders_created": 40, "orders_cancelled": 2},  # 5%
    ),
    "late_shipment": (
        {"orders_created": 100, "ship_late": 30, "ship_on_time": 70},  # 30% > 20%
        {"orders_created": 10, "ship_late": 5, "ship_on_time": 5},  # 10 < 20 orders
        {"orders_created": 40, "ship_late": 2, "ship_on_time": 38},  # 5%
    ),
    "logistics_anomaly": (
        {"orders_created": 20, "orders_shipped": 20, "anomalies": 5},  # 25% > 12%
        {"orders_created": 10, "orders_shipped": 10, "anomalies": 5},  # 10 < 20 orders
        {"orders_created": 25, "orders_shipped": 25, "anomalies": 1},  # 4%
    ),
    "negative_review": (
        {"orders_created": 50, "activity_reviews": 20, "activity_reviews_negative": 2},  # 10%
        {"orders_created": 50, "activity_reviews": 4, "activity_reviews_negative": 2},  # 4 < 10
        {"orders_created": 50, "activity_reviews": 100, "activity_reviews_negative": 1},  # 1%
    ),
}


class Figures:
    """The daily-figure sums the evaluation reads, set per day by the test."""

    def __init__(self, monkeypatch, shop):
        self.shop = shop
        self.sums: dict[int, dict[str, int]] = {}
        monkeypatch.setattr(orders_selectors, "metric_window_sums", lambda **_kw: self.sums)

    def set(self, **figures):
        self.sums = {self.shop.pk: {**ZERO, **figures}}

    def days(self, first: int, last: int) -> None:
        """Evaluate at 10:00 on each of days ``first``…``last`` after DAY1 (one a day)."""
        for k in range(first, last + 1):
            services.metrics_evaluate(now=DAY1_10H + k * D)


def exited(monkeypatch, metric):
    """A shop exited on day 1 for ``metric`` breaching on day 0 and day 1."""
    seller = Seller()
    enrol(seller, make_activity())
    figures = Figures(monkeypatch, seller.shop)
    figures.set(**CASES[metric][0])
    services.metrics_evaluate(now=DAY1_10H)
    [exit_] = services.metrics_evaluate(now=DAY1_10H + D).exits
    assert exit_.metrics == [metric]
    return seller, figures


def condition(shop, code, *, day):
    """The condition ``code`` an hour after day ``day``'s evaluation."""
    conditions = selectors.reenrolment_conditions(shop=shop, at=DAY1_10H + day * D + H)
    return next(c for c in conditions if c.check.code == code)


# --- E-8 recovery: exact, never the rounded rate -------------------------------------------------


def test_e8_late_shipment_just_over_5_percent_shown_5_00_does_not_recover(monkeypatch):
    # given: a shop exited for late shipments
    seller, figures = exited(monkeypatch, "late_shipment")

    # when: five days at 100 late of 1,999 — 5.0025%, shown 5.00%
    figures.set(orders_created=1999, ship_late=100, ship_on_time=1899)
    figures.days(2, 6)

    # then: not one of them is at or under 5%; the shop stays out
    snap = MetricSnapshot.objects.filter(shop=seller.shop).order_by("-evaluated_at").first()
    assert snap.metrics["late_shipment"]["value"] == "5.00"
    late = condition(seller.shop, "e8_late_shipment_recovered", day=6)
    assert (late.check.passed, late.check.measured) == (False, "0 days so far")
    assert late.earliest == (DAY1_10H + 11 * D).date()
    assert selectors.reenrolment_blocked(shop=seller.shop, at=DAY1_10H + 6 * D + H)

    # when: five days at exactly 5% (100 late of 2,000)
    figures.set(orders_created=2000, ship_late=100, ship_on_time=1900)
    figures.days(7, 11)

    # then: recovered
    late = condition(seller.shop, "e8_late_shipment_recovered", day=11)
    assert (late.check.passed, late.check.measured, late.earliest) == (True, "5 days so far", None)
    assert late.check.detail == ""


# --- E-8 recovery: a day that cannot be judged (E-3a) counts -------------------------------------


@pytest.mark.parametrize("metric", list(CASES))
def test_e8_days_below_the_minimum_sample_count_toward_recovery(monkeypatch, metric):
    # given: a shop exited for ``metric``
    seller, figures = exited(monkeypatch, metric)
    _breach, thin, at_limit = CASES[metric]
    code = f"e8_{metric}_recovered"
    noun = "reviews" if metric == "negative_review" else "orders"

    # when: four days that cannot be judged — two with nothing at all in the rate (activity
    # reviews aged out: no value), two with too few at a rate that would breach if judged
    figures.set()
    figures.days(2, 3)
    assert condition(seller.shop, code, day=3).check.measured == (
        f"2 days so far (2 without enough {noun} to judge)"
    )
    figures.set(**thin)
    figures.days(4, 5)

    # then: they count (they cannot breach), and the text says so; one day left
    c = condition(seller.shop, code, day=5)
    assert c.check.passed is False
    assert c.check.measured == f"4 days so far (4 without enough {noun} to judge)"
    minimum = 10 if metric == "negative_review" else 20
    assert f"fewer than {minimum} " in c.check.detail
    assert "cannot breach" in c.check.detail
    assert c.earliest == (DAY1_10H + 6 * D).date()  # the date shown does come

    # when: the fifth day is judged, exactly at the re-enrolment rate
    figures.set(**at_limit)
    figures.days(6, 6)

    # then: recovered, saying how many of the days were not judged
    c = condition(seller.shop, code, day=6)
    assert (c.check.passed, c.earliest) == (True, None)
    assert c.check.measured == f"5 days so far (4 without enough {noun} to judge)"

    # and: a judged day above the rate still breaks the streak
    over = {**at_limit}
    first, second = {
        "cancel": ("orders_cancelled", "orders_created"),
        "late_shipment": ("ship_late", "ship_on_time"),
        "logistics_anomaly": ("anomalies", "orders_shipped"),
        "negative_review": ("activity_reviews_negative", "activity_reviews"),
    }[metric]
    over[first] += 1  # one more bad order / review: above the rate
    if metric == "late_shipment":
        over[second] -= 1  # the same orders decided, one more of them late
    figures.set(**over)
    figures.days(7, 7)
    c = condition(seller.shop, code, day=7)
    assert (c.check.passed, c.check.measured) == (False, "0 days so far")


# --- E-8 DSR: exact, never the rounded average ----------------------------------------------------


def _reviewed(seller, scores, at):
    """A delivered order reviewed with each of ``scores`` (all three DSRs alike)."""
    for i, score in enumerate(scores):
        o = seller.order(at + timedelta(minutes=i))
        o = seller.ship(o, o.placed_at + H)
        o = orders.order_deliver(order=o, delivered_at=o.placed_at + 2 * H)
        orders.review_post(
            order=o,
            sku=seller.sku,
            rating=5,
            dsr_item_as_described=score,
            dsr_communication=score,
            dsr_shipping=score,
            posted_at=o.placed_at + 3 * H,
        )


def test_e8_dsr_average_just_under_4_7_shown_rounded_does_not_pass(monkeypatch):
    # given: an exited shop; 23 reviews worth 108 points: 4.6957, which rounds to 4.70
    seller, _figures = exited(monkeypatch, "cancel")
    _reviewed(seller, [5] * 16 + [4] * 7, DAY1_10H + D)
    at = DAY1_10H + 2 * D

    # when
    dsr = {
        c.check.code: c.check
        for c in selectors.reenrolment_conditions(shop=seller.shop, at=at)
        if c.check.code.startswith("e8_dsr_")
    }

    # then: each score fails, and is shown rounded down so it does not read as 4.70
    assert set(dsr) == {"e8_dsr_item_as_described", "e8_dsr_communication", "e8_dsr_shipping"}
    for check in dsr.values():
        assert (check.passed, check.measured, check.required) == (False, "4.69", "≥ 4.7")

    # when: 7 more reviews worth 33 points: 141 over 30 = 4.70 exactly
    _reviewed(seller, [5] * 5 + [4] * 2, DAY1_10H + D + 2 * H)

    # then: it passes
    for c in selectors.reenrolment_conditions(shop=seller.shop, at=at):
        if c.check.code.startswith("e8_dsr_"):
            assert (c.check.passed, c.check.measured) == (True, "4.70")
