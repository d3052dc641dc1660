"""The activities module's registry numbers and pure checks (SPEC E-3, E-3a, E-4, E-6, E-8)."""

from decimal import Decimal

import pytest
from constance import config

from activities import rules
from activities.rules import Metric, Standing
from orders import guards

D = Decimal


def _check(num, den, threshold="15", min_sample=20, share="80"):
    return rules.check_metric(
        numerator=num,
        denominator=den,
        threshold=D(threshold),
        min_sample=min_sample,
        warning_share=D(share),
    )


def test_e3_registry_defaults_are_the_spec_numbers(db):
    assert rules.threshold_max(Metric.CANCEL) == D("15")
    assert rules.threshold_max(Metric.LATE_SHIPMENT) == D("20")
    assert rules.threshold_max(Metric.ANOMALY) == D("12")
    assert rules.threshold_max(Metric.NEGATIVE_REVIEW) == D("3.5")
    assert rules.min_sample(Metric.CANCEL) == 20
    assert rules.min_sample(Metric.LATE_SHIPMENT) == 20
    assert rules.min_sample(Metric.ANOMALY) == 20
    assert rules.min_sample(Metric.NEGATIVE_REVIEW) == 10
    assert rules.min_orders() == 20
    assert rules.window_days() == 30
    assert rules.warning_share() == D("80")
    assert rules.official_anomaly_weight() == D("0.7")
    assert rules.reenrol_max(Metric.LATE_SHIPMENT) == D("5")
    assert rules.reenrol_max(Metric.CANCEL) == D("5")
    assert rules.reenrol_max(Metric.ANOMALY) == D("4")
    assert rules.reenrol_max(Metric.NEGATIVE_REVIEW) == D("1")
    assert rules.reenrol_days() == 5
    keywords = rules.not_as_described_keywords()
    assert "not as described" in keywords
    assert "与描述不符" in keywords
    assert "pas conforme" in keywords


def test_e3_registry_changes_move_the_numbers(db):
    config.ACTIVITIES_LATE_SHIPMENT_RATE_MAX = D("18")
    config.ACTIVITIES_MIN_REVIEWS = 25
    config.ACTIVITIES_NOT_AS_DESCRIBED_KEYWORDS = "broken\n\n  kaputt  \n"
    limits = rules.current_limits()
    assert limits.thresholds[Metric.LATE_SHIPMENT] == D("18")
    assert limits.min_samples[Metric.NEGATIVE_REVIEW] == 25
    assert rules.not_as_described_keywords() == ("broken", "kaputt")
    assert rules.Limits.from_json(limits.as_json()) == limits


def test_e3_exactly_15_percent_is_no_breach_just_over_is():
    assert _check(3, 20) == Standing.WARNING  # 15.00%: at the line, not over it
    assert _check(150, 1000) == Standing.WARNING
    assert _check(151, 1000) == Standing.BREACH  # 15.1%
    assert _check(D("150.01"), 1000) == Standing.BREACH  # 15.001%
    assert rules.rate_percent(3, 20) == D("15.00")


def test_e3_warning_starts_at_80_percent_of_the_threshold():
    assert _check(119, 1000) == Standing.OK  # 11.9% < 12% (80% of 15%)
    assert _check(120, 1000) == Standing.WARNING
    assert _check(120, 1000, share="90") == Standing.OK


def test_e3a_one_order_under_the_minimum_sample_cannot_breach():
    # 19 orders, all cancelled: "not enough orders yet", never 100%
    assert _check(19, 19) == Standing.NOT_ENOUGH
    assert _check(1, 2) == Standing.NOT_ENOUGH  # 2 orders, 1 cancellation: not 50%
    assert _check(4, 20) == Standing.BREACH  # the 20th order makes it count
    assert _check(0, 0, min_sample=0) == Standing.NOT_ENOUGH


def test_e4_3c_shop_late_shipment_at_21_9_passes_and_22_1_breaches():
    relaxed = frozenset({"home_garden", "auto_moto", "digital_accessories"})
    t_3c = rules.relaxed_threshold(
        base=D("20"), category="digital_accessories", relaxed=relaxed, factor=D("1.1")
    )
    t_fashion = rules.relaxed_threshold(
        base=D("20"), category="womens_fashion", relaxed=relaxed, factor=D("1.1")
    )
    assert t_3c == D("22.0")
    assert t_fashion == D("20")
    assert _check(219, 1000, threshold=t_3c) == Standing.WARNING
    assert _check(221, 1000, threshold=t_3c) == Standing.BREACH
    assert _check(219, 1000, threshold=t_fashion) == Standing.BREACH
    assert _check(220, 1000, threshold=t_3c) == Standing.WARNING  # exactly 22%


def test_e4_limits_apply_the_relaxation_by_category(db):
    limits = rules.current_limits()
    assert limits.threshold(Metric.LATE_SHIPMENT, "digital_accessories") == D("22.0")
    assert limits.threshold(Metric.CANCEL, "home_garden") == D("16.5")
    assert limits.threshold(Metric.CANCEL, "toys") == D("15")


def test_e4_official_logistics_anomalies_weigh_0_7():
    # 10 official + 5 other anomalies over 100 shipped: 12 weighted, not 15
    num = rules.weighted_anomalies(other=5, official=10, weight=D("0.7"))
    assert num == D("12.0")
    assert _check(num, 100, threshold="12") == Standing.WARNING  # exactly 12%: no breach
    heavier = rules.weighted_anomalies(other=6, official=10, weight=D("0.7"))
    assert _check(heavier, 100, threshold="12") == Standing.BREACH


def test_e6_headroom_counts_the_orders_that_would_breach():
    # 15 late of 100 at 20%: k more late (num+k)/(100+k) > 20% ⇔ k > 6.25 → 7
    assert rules.breach_headroom(numerator=15, denominator=100, threshold=D("20")) == 7
    # exactly at the threshold: one more crosses it
    assert rules.breach_headroom(numerator=20, denominator=100, threshold=D("20")) == 1
    # already over: 0
    assert rules.breach_headroom(numerator=21, denominator=100, threshold=D("20")) == 0
    # official parcels count 0.7 each: (0 + 0.7k)·100 > 12·(100 + k) ⇔ k > 20.34 → 21
    assert (
        rules.breach_headroom(numerator=0, denominator=100, threshold=D("12"), weight=D("0.7"))
        == 21
    )
    # a threshold of 100% cannot be crossed
    assert rules.breach_headroom(numerator=5, denominator=10, threshold=D("100")) is None


@pytest.mark.parametrize(
    ("yesterday", "today", "exit_"),
    [(True, True, True), (True, False, False), (False, True, False), (False, False, False)],
)
def test_e5_two_consecutive_breaches_are_needed(yesterday, today, exit_):
    assert rules.breaches_consecutive(yesterday=yesterday, today=today) is exit_


@pytest.mark.parametrize(
    ("rating", "text", "negative"),
    [
        (1, "Not as described at all", True),
        (2, "完全与描述不符，差评", True),
        (2, "Pas conforme à la description", True),
        (1, "НЕ СООТВЕТСТВУЕТ ОПИСАНИЮ", True),
        (1, "ＦＡＫＥ product", True),  # full-width letters fold to "fake"
        (3, "not as described", False),  # rating above 2
        (1, "Arrived late", False),  # no keyword
        (1, "", False),
    ],
)
def test_e3_not_as_described_matches_the_multilingual_keywords(db, rating, text, negative):
    keywords = rules.not_as_described_keywords()
    assert guards.not_as_described(rating=rating, text=text, keywords=keywords) is negative


# --- SPEC E-6 layers 1 and 3, snapshot retention ------------------------------------------------


def test_e6_registry_report_hours_and_retention_defaults(db):
    assert rules.report_hours() == 72
    assert rules.snapshot_retention_days() == 14


def test_e6_retention_floor_is_the_reenrolment_days_plus_two(db):
    config.ACTIVITIES_SNAPSHOT_RETENTION_DAYS = 7
    config.ACTIVITIES_REENROL_DAYS = 5
    assert rules.snapshot_retention_days() == 7  # exactly the floor
    config.ACTIVITIES_SNAPSHOT_RETENTION_DAYS = 6
    assert rules.snapshot_retention_days() == 7
    config.ACTIVITIES_SNAPSHOT_RETENTION_DAYS = 8
    assert rules.snapshot_retention_days() == 8


@pytest.mark.parametrize(
    ("unit", "price", "sold", "stock", "kinds"),
    [
        (40_00, 40_00, 3, 3, []),  # exactly the stock: fine
        (40_00, 40_00, 4, 3, ["oversold"]),  # one over
        (40_01, 40_00, 1, 3, ["price"]),  # a cent above
        (39_99, 40_00, 1, 3, ["price"]),  # a cent below
        (41_00, 40_00, 5, 3, ["price", "oversold"]),
        (40_00, None, 1, None, ["not_enrolled"]),
        (40_00, 40_00, 1, None, ["not_enrolled"]),
        (40_00, None, 1, 3, ["not_enrolled"]),
    ],
)
def test_e6_check_activity_line(unit, price, sold, stock, kinds):
    assert (
        rules.check_activity_line(
            unit_price_minor=unit, activity_price_minor=price, sold_through=sold, stock=stock
        )
        == kinds
    )


def test_e6_in_window_is_start_inclusive_end_exclusive():
    from datetime import UTC, datetime, timedelta

    start = datetime(2025, 6, 1, tzinfo=UTC)
    end = start + timedelta(days=1)
    s = timedelta(seconds=1)
    assert rules.in_window(placed_at=start, starts_at=start, ends_at=end)
    assert not rules.in_window(placed_at=start - s, starts_at=start, ends_at=end)
    assert rules.in_window(placed_at=end - s, starts_at=start, ends_at=end)
    assert not rules.in_window(placed_at=end, starts_at=start, ends_at=end)


def test_e6_roi_is_net_sales_per_cost_two_decimals_half_up():
    assert rules.roi(net_sales_minor=100_00, cost_minor=30_00) == D("3.33")
    assert rules.roi(net_sales_minor=2_00, cost_minor=3_00) == D("0.67")  # 0.666… up
    assert rules.roi(net_sales_minor=1, cost_minor=8) == D("0.13")  # 0.125 half up
    assert rules.roi(net_sales_minor=-5_00, cost_minor=10_00) == D("-0.50")
    assert rules.roi(net_sales_minor=5_00, cost_minor=1) == D("500.00")
    assert rules.roi(net_sales_minor=5_00, cost_minor=0) is None
    assert rules.roi(net_sales_minor=5_00, cost_minor=-1) is None


def test_e6_report_is_final_from_exactly_72_hours():
    from datetime import UTC, datetime, timedelta

    end = datetime(2025, 6, 1, tzinfo=UTC)
    h72 = end + timedelta(hours=72)
    assert rules.report_final(now=h72, ends_at=end, hours=72)
    assert not rules.report_final(now=h72 - timedelta(seconds=1), ends_at=end, hours=72)
    assert rules.report_final(now=h72 + timedelta(seconds=1), ends_at=end, hours=72)
    assert not rules.report_final(now=h72, ends_at=end, hours=73)


# --- mutation survivors of activities/rules.py, killed at their boundaries ----------------


def test_e3_rate_percent_boundaries():
    assert rules.rate_percent(0, 0) is None  # no denominator: no rate (not a division error)
    assert rules.rate_percent(1, 1) == D("100.00")  # one order is a denominator
    assert rules.rate_percent(1, 800) == D("0.13")  # 0.125: half up, not to even
    assert rules.rate_percent(3, 800) == D("0.38")  # 0.375
    assert rules.rate_percent(D("1.5"), 7) == D("21.43")


def test_e3a_minimum_sample_of_one_lets_one_order_breach():
    assert _check(1, 1, min_sample=1) == Standing.BREACH
    assert _check(0, 1, min_sample=1) == Standing.OK
    assert _check(1, 0, min_sample=0) == Standing.NOT_ENOUGH  # never with no denominator


def test_e6_headroom_boundaries_of_the_unreachable_cases():
    # a bad order at exactly the threshold's own rate never lifts the rate above it
    assert (
        rules.breach_headroom(numerator=0, denominator=100, threshold=D("20"), weight=D("0.2"))
        is None
    )
    # just above it: reachable
    assert (
        rules.breach_headroom(numerator=0, denominator=100, threshold=D("20"), weight=D("0.21"))
        == 2001
    )
    # a 100% threshold cannot be crossed, whatever a bad order weighs
    assert (
        rules.breach_headroom(numerator=5, denominator=10, threshold=D("100"), weight=D("2"))
        is None
    )
    # 99%: heavy bad orders can still cross it: (5 + 2k)·100 > 99·(10 + k) ⇔ k > 4.85
    assert rules.breach_headroom(numerator=5, denominator=10, threshold=D("99"), weight=D("2")) == 5


def test_e6_headroom_exact_count_near_the_threshold():
    # 16 late of 100 at 20%: (16+5)/105 = 20% exactly (no breach), (16+6)/106 > 20% → 6
    assert rules.breach_headroom(numerator=16, denominator=100, threshold=D("20")) == 6
    # 19 of 100: (19+1)/101 < 20%, (19+2)/102 > 20% → 2
    assert rules.breach_headroom(numerator=19, denominator=100, threshold=D("20")) == 2


def test_e6_fixed_denominator_headroom_boundaries():
    # 10 cancelled of 100 at 15%: 15 is exactly 15% (no breach), 16 breaches → 6 more
    assert rules.fixed_denominator_headroom(numerator=10, denominator=100, threshold=D("15")) == 6
    assert rules.fixed_denominator_headroom(numerator=15, denominator=100, threshold=D("15")) == 1
    assert rules.fixed_denominator_headroom(numerator=16, denominator=100, threshold=D("15")) == 0
    # far above: still 0, never negative
    assert rules.fixed_denominator_headroom(numerator=50, denominator=100, threshold=D("15")) == 0
    # weighted: 12% of 100 = 12; 0.7 each → 18 × 0.7 = 12.6 > 12, 17 × 0.7 = 11.9 → 18
    assert (
        rules.fixed_denominator_headroom(
            numerator=0, denominator=100, threshold=D("12"), weight=D("0.7")
        )
        == 18
    )
    # all of them would not do: None; exactly all of them: the count
    assert rules.fixed_denominator_headroom(numerator=0, denominator=10, threshold=D("100")) is None
    assert rules.fixed_denominator_headroom(numerator=0, denominator=10, threshold=D("90")) == 10
    assert (
        rules.fixed_denominator_headroom(
            numerator=0, denominator=10, threshold=D("10"), weight=D("0")
        )
        is None
    )


def test_e3_e4_e8_registry_readers(db):
    assert rules.cancel_rate_max() == D("15")
    assert rules.relaxed_categories() == {"home_garden", "auto_moto", "digital_accessories"}
    assert rules.relaxation_factor() == D("1.1")
    assert rules.reenrol_min_dsr() == D("4.7")
    config.ACTIVITIES_RELAXED_CATEGORIES = " toys , ,beauty,"
    assert rules.relaxed_categories() == {"toys", "beauty"}
    numbers = rules.reenrol_limits()
    assert numbers.max_rate == {
        Metric.CANCEL.value: D("5"),
        Metric.LATE_SHIPMENT.value: D("5"),
        Metric.ANOMALY.value: D("4"),
        Metric.NEGATIVE_REVIEW.value: D("1"),
    }
    assert numbers.days == 5
    assert numbers.min_dsr == D("4.7")
    config.ACTIVITIES_REENROL_DAYS = 6
    config.ACTIVITIES_REENROL_MIN_DSR = D("4.8")
    config.ACTIVITIES_REENROL_ANOMALY_RATE_MAX = D("3")
    numbers = rules.reenrol_limits()
    assert (numbers.days, numbers.min_dsr, numbers.max_rate["logistics_anomaly"]) == (
        6,
        D("4.8"),
        D("3"),
    )


def test_e7_registry_deadlines_and_within_deadline(db):
    from datetime import UTC, datetime, timedelta

    assert (rules.postmortem_hours(), rules.appeal_hours(), rules.review_target_hours()) == (
        48,
        72,
        48,
    )
    config.ACTIVITIES_POSTMORTEM_HOURS = 36
    config.ACTIVITIES_APPEAL_HOURS = 60
    config.ACTIVITIES_REVIEW_TARGET_HOURS = 24
    assert (rules.postmortem_hours(), rules.appeal_hours(), rules.review_target_hours()) == (
        36,
        60,
        24,
    )
    due = datetime(2025, 6, 12, 2, 0, tzinfo=UTC)
    assert rules.within_deadline(at=due, due=due)  # the 48th hour's last instant is in time
    assert rules.within_deadline(at=due - timedelta(hours=1), due=due)
    assert not rules.within_deadline(at=due + timedelta(microseconds=1), due=due)


def test_e3_limits_are_read_in_one_query_and_follow_stored_numbers(db, django_assert_num_queries):
    # given: every number read once (the defaults never saved are stored then), one changed
    rules.current_limits()
    config.ACTIVITIES_CANCEL_RATE_MAX = D("12")
    # when / then: one query for all of them, the stored value included
    with django_assert_num_queries(1):
        limits = rules.current_limits()
    assert limits.thresholds[Metric.CANCEL.value] == D("12")
    assert limits.thresholds[Metric.LATE_SHIPMENT.value] == D("20")


def test_e8_recovery_is_judged_exactly_and_not_below_the_minimum_sample():
    # 100 late of 1,999 is 5.0025%: shown 5.00, yet above 5%
    assert rules.rate_percent(100, 1999) == D("5.00")
    assert (
        rules.check_recovered(numerator=100, denominator=1999, limit=D("5"), min_sample=20)
        == Standing.BREACH
    )
    assert (
        rules.check_recovered(numerator=100, denominator=2000, limit=D("5"), min_sample=20)
        == Standing.OK
    )
    # weighted numerators too: 1.4 of 35 is exactly 4%
    assert (
        rules.check_recovered(numerator=D("1.4"), denominator=35, limit=D("4"), min_sample=20)
        == Standing.OK
    )
    # SPEC E-3a: below the minimum sample (or nothing at all) it is not judged
    assert (
        rules.check_recovered(numerator=19, denominator=19, limit=D("5"), min_sample=20)
        == Standing.NOT_ENOUGH
    )
    assert (
        rules.check_recovered(numerator=0, denominator=0, limit=D("5"), min_sample=0)
        == Standing.NOT_ENOUGH
    )
    assert (
        rules.check_recovered(numerator=0, denominator=20, limit=D("0"), min_sample=20)
        == Standing.OK
    )


def test_e8_dsr_is_compared_exactly_and_shown_rounded_down():
    # 939 points over 200 reviews average 4.695: rounded half up that reads 4.70
    assert not rules.dsr_meets(total=939, count=200, minimum=D("4.7"))
    assert rules.dsr_meets(total=940, count=200, minimum=D("4.7"))
    assert not rules.dsr_meets(total=0, count=0, minimum=D("0"))
    assert rules.dsr_shown(total=939, count=200) == D("4.69")
    assert rules.dsr_shown(total=940, count=200) == D("4.70")
    assert rules.dsr_shown(total=0, count=0) is None


def test_e2_stock_cover_comes_from_the_registry_and_rounds_up(db):
    assert rules.stock_cover_percent() == 120
    assert rules.stock_cover_needed(committed=100, percent=120) == 120
    assert rules.stock_cover_needed(committed=101, percent=120) == 122  # 121.2
    assert rules.stock_cover_needed(committed=5, percent=100) == 5
    config.ACTIVITIES_STOCK_COVER_PERCENT = 150
    assert rules.stock_cover_percent() == 150
