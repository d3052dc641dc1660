"""SPEC numbers of the activities module (E-3, E-3a, E-4, E-6, E-8), admin-changeable: the
registry is ``settings.CONSTANCE_CONFIG`` (django-constance, database backend; Django admin →
Rule numbers), and the pure ``check_*`` functions below judge a metric against them.

Rates are compared exactly — ``numerator × 100 > threshold × denominator`` — never after
rounding, so "exactly 15%" is not a breach and 15.01% is.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum

from constance import config


class Metric(StrEnum):
    """The four fulfilment metrics of SPEC E-3, in the order pages list them."""

    CANCEL = "cancel"
    LATE_SHIPMENT = "late_shipment"
    ANOMALY = "logistics_anomaly"
    NEGATIVE_REVIEW = "negative_review"


METRICS: tuple[Metric, ...] = tuple(Metric)


# --- the registry -------------------------------------------------------------------------------


def _dec(value) -> Decimal:
    return Decimal(str(value))


def cancel_rate_max() -> Decimal:
    """SPEC E-3: maximum 30-day rolling cancel rate, percent (before E-4 relaxation)."""
    return _dec(config.ACTIVITIES_CANCEL_RATE_MAX)


def threshold_max(metric: Metric) -> Decimal:
    """SPEC E-3: a metric's maximum rate, percent, before the E-4 relaxation."""
    return _dec(
        {
            Metric.CANCEL: config.ACTIVITIES_CANCEL_RATE_MAX,
            Metric.LATE_SHIPMENT: config.ACTIVITIES_LATE_SHIPMENT_RATE_MAX,
            Metric.ANOMALY: config.ACTIVITIES_ANOMALY_RATE_MAX,
            Metric.NEGATIVE_REVIEW: config.ACTIVITIES_NEGATIVE_REVIEW_RATE_MAX,
        }[metric]
    )


def min_orders() -> int:
    """SPEC E-3a: orders a rate's denominator needs before it is evaluated (also the
    dashboard's cancel-rate alarm)."""
    return int(config.ACTIVITIES_MIN_ORDERS)


def min_sample(metric: Metric) -> int:
    """SPEC E-3a: the denominator a metric needs before it can breach (reviews for the
    negative review rate, orders for the others)."""
    if metric == Metric.NEGATIVE_REVIEW:
        return int(config.ACTIVITIES_MIN_REVIEWS)
    return min_orders()


def window_days() -> int:
    """SPEC E-3: the rolling window, natural days."""
    return int(config.ACTIVITIES_WINDOW_DAYS)


def warning_share() -> Decimal:
    """SPEC E-6: early warning from this share of a threshold, percent (80)."""
    return _dec(config.ACTIVITIES_WARNING_SHARE)


def official_anomaly_weight() -> Decimal:
    """SPEC E-4: weight of an official-logistics order in the logistics anomaly rate (0.7)."""
    return _dec(config.ACTIVITIES_OFFICIAL_ANOMALY_WEIGHT)


def not_as_described_keywords() -> tuple[str, ...]:
    """SPEC E-3: the multilingual "not as described" keyword list (orders applies it when a
    review is posted: ``orders.stats.not_as_described_keywords`` reads the same entry)."""
    raw = str(config.ACTIVITIES_NOT_AS_DESCRIBED_KEYWORDS)
    return tuple(k.strip() for k in raw.splitlines() if k.strip())


def relaxed_categories() -> frozenset[str]:
    """SPEC E-4: the main categories whose thresholds are relaxed."""
    raw = str(config.ACTIVITIES_RELAXED_CATEGORIES)
    return frozenset(c.strip() for c in raw.split(",") if c.strip())


def relaxation_factor() -> Decimal:
    """SPEC E-4: the multiplier of the relaxed categories' thresholds."""
    return _dec(config.ACTIVITIES_RELAXATION_FACTOR)


def reenrol_min_dsr() -> Decimal:
    """SPEC E-8: DSR score needed to re-enrol."""
    return _dec(config.ACTIVITIES_REENROL_MIN_DSR)


def reenrol_max(metric: Metric) -> Decimal:
    """SPEC E-8: the rate a breached metric must hold to re-enrol, percent."""
    return _dec(
        {
            Metric.CANCEL: config.ACTIVITIES_REENROL_CANCEL_RATE_MAX,
            Metric.LATE_SHIPMENT: config.ACTIVITIES_REENROL_LATE_SHIPMENT_RATE_MAX,
            Metric.ANOMALY: config.ACTIVITIES_REENROL_ANOMALY_RATE_MAX,
            Metric.NEGATIVE_REVIEW: config.ACTIVITIES_REENROL_NEGATIVE_REVIEW_RATE_MAX,
        }[metric]
    )


def reenrol_days() -> int:
    """SPEC E-8: consecutive natural days the recovered rate must hold."""
    return int(config.ACTIVITIES_REENROL_DAYS)


def stock_cover_percent() -> int:
    """SPEC E-2: stock on hand must be at least this percentage of the activity stock the SKU
    has committed (120)."""
    return int(config.ACTIVITIES_STOCK_COVER_PERCENT)


def postmortem_hours() -> int:
    """SPEC E-7: hours after an exit (or a rejection, or a reopening) to file the post-mortem."""
    return int(config.ACTIVITIES_POSTMORTEM_HOURS)


def appeal_hours() -> int:
    """SPEC E-7: hours after an exit to open an appeal."""
    return int(config.ACTIVITIES_APPEAL_HOURS)


def review_target_hours() -> int:
    """SPEC E-7: the platform's target for deciding a post-mortem or an appeal, hours."""
    return int(config.ACTIVITIES_REVIEW_TARGET_HOURS)


def within_deadline(*, at, due) -> bool:
    """SPEC E-7: "within 48 h" includes the 48th hour's last instant: filing at ``due`` is in
    time, a microsecond later is not."""
    return at <= due


@dataclass(frozen=True)
class Limits:
    """Every registry number one evaluation applies, read once (and stored in its snapshot)."""

    thresholds: dict[str, Decimal]
    min_samples: dict[str, int]
    relaxed_categories: frozenset[str]
    relaxation_factor: Decimal
    official_weight: Decimal
    warning_share: Decimal
    window_days: int

    def threshold(self, metric: Metric, category: str) -> Decimal:
        return relaxed_threshold(
            base=self.thresholds[metric],
            category=category,
            relaxed=self.relaxed_categories,
            factor=self.relaxation_factor,
        )

    def as_json(self) -> dict:
        return {
            "thresholds": {k: str(v) for k, v in self.thresholds.items()},
            "min_samples": dict(self.min_samples),
            "relaxed_categories": sorted(self.relaxed_categories),
            "relaxation_factor": str(self.relaxation_factor),
            "official_weight": str(self.official_weight),
            "warning_share": str(self.warning_share),
            "window_days": self.window_days,
        }

    @classmethod
    def from_json(cls, data: dict) -> Limits:
        return cls(
            thresholds={k: Decimal(v) for k, v in data["thresholds"].items()},
            min_samples={k: int(v) for k, v in data["min_samples"].items()},
            relaxed_categories=frozenset(data["relaxed_categories"]),
            relaxation_factor=Decimal(data["relaxation_factor"]),
            official_weight=Decimal(data["official_weight"]),
            warning_share=Decimal(data["warning_share"]),
            window_days=int(data["window_days"]),
        )


_LIMIT_KEYS = (
    "ACTIVITIES_CANCEL_RATE_MAX",
    "ACTIVITIES_LATE_SHIPMENT_RATE_MAX",
    "ACTIVITIES_ANOMALY_RATE_MAX",
    "ACTIVITIES_NEGATIVE_REVIEW_RATE_MAX",
    "ACTIVITIES_MIN_ORDERS",
    "ACTIVITIES_MIN_REVIEWS",
    "ACTIVITIES_RELAXED_CATEGORIES",
    "ACTIVITIES_RELAXATION_FACTOR",
    "ACTIVITIES_OFFICIAL_ANOMALY_WEIGHT",
    "ACTIVITIES_WARNING_SHARE",
    "ACTIVITIES_WINDOW_DAYS",
)


def _read_all(keys) -> dict:
    """The registry values of ``keys`` in one query (the database backend reads one row per
    number otherwise)."""
    backend = config._backend  # the dashboard's memo wrapper answers from its memo
    stored = dict(backend.mget(list(keys))) if hasattr(backend, "mget") else {}
    # A number never saved is read through constance, which stores its default (once ever),
    # so the next read — and the dashboard's read-once memo — finds it in the one query.
    return {k: stored[k] if stored.get(k) is not None else getattr(config, k) for k in keys}


def current_limits() -> Limits:
    """Every number one evaluation applies, read in one query."""
    v = _read_all(_LIMIT_KEYS)
    orders = int(v["ACTIVITIES_MIN_ORDERS"])
    return Limits(
        thresholds={
            Metric.CANCEL.value: _dec(v["ACTIVITIES_CANCEL_RATE_MAX"]),
            Metric.LATE_SHIPMENT.value: _dec(v["ACTIVITIES_LATE_SHIPMENT_RATE_MAX"]),
            Metric.ANOMALY.value: _dec(v["ACTIVITIES_ANOMALY_RATE_MAX"]),
            Metric.NEGATIVE_REVIEW.value: _dec(v["ACTIVITIES_NEGATIVE_REVIEW_RATE_MAX"]),
        },
        min_samples={
            Metric.CANCEL.value: orders,
            Metric.LATE_SHIPMENT.value: orders,
            Metric.ANOMALY.value: orders,
            Metric.NEGATIVE_REVIEW.value: int(v["ACTIVITIES_MIN_REVIEWS"]),
        },
        relaxed_categories=frozenset(
            c.strip() for c in str(v["ACTIVITIES_RELAXED_CATEGORIES"]).split(",") if c.strip()
        ),
        relaxation_factor=_dec(v["ACTIVITIES_RELAXATION_FACTOR"]),
        official_weight=_dec(v["ACTIVITIES_OFFICIAL_ANOMALY_WEIGHT"]),
        warning_share=_dec(v["ACTIVITIES_WARNING_SHARE"]),
        window_days=int(v["ACTIVITIES_WINDOW_DAYS"]),
    )


# --- pure checks ----------------------------------------------------------------------------------


def relaxed_threshold(
    *, base: Decimal, category: str, relaxed: frozenset[str], factor: Decimal
) -> Decimal:
    """SPEC E-4: the threshold of a shop whose main category is ``category`` (3C at 20% → 22%)."""
    return base * factor if category in relaxed else base


def weighted_anomalies(*, other: int, official: int, weight: Decimal) -> Decimal:
    """SPEC E-4: the anomaly numerator, official-logistics orders counting ``weight`` (0.7)."""
    return Decimal(other) + Decimal(official) * weight


def rate_percent(numerator: Decimal | int, denominator: int) -> Decimal | None:
    """The rate shown (two decimals, half up); None without a denominator."""
    if denominator <= 0:
        return None
    value = Decimal(numerator) * 100 / Decimal(denominator)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class Standing(StrEnum):
    NOT_ENOUGH = "not_enough"  # below the minimum sample: shown, cannot breach
    OK = "ok"
    WARNING = "warning"  # at or above the early-warning share of the threshold
    BREACH = "breach"


def check_metric(
    *,
    numerator: Decimal | int,
    denominator: int,
    threshold: Decimal,
    min_sample: int,
    warning_share: Decimal,
) -> Standing:
    """SPEC E-3/E-3a/E-6: a rate's standing. It breaches only *above* the threshold and only
    with at least ``min_sample`` in its denominator; warns from ``warning_share`` percent of it."""
    if denominator < min_sample or denominator <= 0:
        return Standing.NOT_ENOUGH
    scaled = Decimal(numerator) * 100
    if scaled > threshold * denominator:
        return Standing.BREACH
    if scaled >= threshold * warning_share / 100 * denominator:
        return Standing.WARNING
    return Standing.OK


def breach_headroom(
    *, numerator: Decimal | int, denominator: int, threshold: Decimal, weight: Decimal = Decimal(1)
) -> int | None:
    """SPEC E-6 headroom: the fewest more bad orders (each adding ``weight`` to the numerator
    and 1 to the denominator) that would take the rate above ``threshold``; 0 when it already
    is; None when no number of them would (a threshold of 100%, or a weight at or below it)."""
    num = Decimal(numerator)
    if num * 100 > threshold * denominator:
        return 0
    if threshold >= 100 or weight * 100 <= threshold:
        # a bad order at or below the threshold's own rate never lifts the rate above it
        return None
    # smallest k with (num + k·w)·100 > t·(den + k)  ⇔  k·(100w − t) > t·den − 100·num
    gap = threshold * denominator - num * 100
    k = int(gap / (weight * 100 - threshold)) + 1
    return max(k, 1)


def check_recovered(
    *, numerator: Decimal | int, denominator: int, limit: Decimal, min_sample: int
) -> Standing:
    """SPEC E-8 for one natural day's final value of a breached metric: OK at or under its
    re-enrolment rate ``limit``, compared exactly (``numerator × 100 ≤ limit × denominator``:
    100 late of 1,999 is 5.0025%, shown 5.00%, and is *not* at or under 5%); BREACH above it.
    NOT_ENOUGH below the E-3a minimum sample: the rate is not judged and cannot breach, so
    the day counts toward the recovery streak (the condition's text says how many did)."""
    if denominator < min_sample or denominator <= 0:
        return Standing.NOT_ENOUGH
    if Decimal(numerator) * 100 <= limit * denominator:
        return Standing.OK
    return Standing.BREACH


def dsr_meets(*, total: int, count: int, minimum: Decimal) -> bool:
    """SPEC E-8: the average DSR score (``total`` points over ``count`` reviews) at or above
    ``minimum``, compared exactly (``total ≥ minimum × count``): 939 points over 200 reviews
    average 4.695, shown 4.70, and do *not* reach 4.7. No review: not met."""
    return count > 0 and Decimal(total) >= minimum * count


def dsr_shown(*, total: int, count: int) -> Decimal | None:
    """The average DSR score as shown, two decimals rounded *down*, so a shown score at or
    above a two-decimal minimum always means ``dsr_meets`` (4.695 shows 4.69, not 4.70)."""
    if count <= 0:
        return None
    return (Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)


def stock_cover_needed(*, committed: int, percent: int) -> int:
    """SPEC E-2: the stock on hand that covers ``percent`` of ``committed`` activity units,
    rounded up (120% of 101 is 121.2: 122 units)."""
    return -(-committed * percent // 100)


def breaches_consecutive(*, yesterday: bool, today: bool) -> bool:
    """SPEC E-5: the same metric breached yesterday (its final value) and today (now)."""
    return yesterday and today


def fixed_denominator_headroom(
    *, numerator: Decimal | int, denominator: int, threshold: Decimal, weight: Decimal = Decimal(1)
) -> int | None:
    """SPEC E-6 headroom when the bad orders come from orders already counted (a cancellation,
    a parcel going quiet): the fewest that take ``numerator`` above ``threshold`` percent of
    ``denominator``; None when even all of them would not."""
    num = Decimal(numerator)
    if num * 100 > threshold * denominator:
        return 0
    if weight <= 0:
        return None
    gap = threshold * denominator / 100 - num
    k = int(gap / weight) + 1
    return k if k <= denominator else None


@dataclass(frozen=True)
class ReenrolLimits:
    """SPEC E-8 numbers, read in one query."""

    max_rate: dict[str, Decimal]
    days: int
    min_dsr: Decimal


def reenrol_limits() -> ReenrolLimits:
    v = _read_all(
        (
            "ACTIVITIES_REENROL_CANCEL_RATE_MAX",
            "ACTIVITIES_REENROL_LATE_SHIPMENT_RATE_MAX",
            "ACTIVITIES_REENROL_ANOMALY_RATE_MAX",
            "ACTIVITIES_REENROL_NEGATIVE_REVIEW_RATE_MAX",
            "ACTIVITIES_REENROL_DAYS",
            "ACTIVITIES_REENROL_MIN_DSR",
        )
    )
    return ReenrolLimits(
        max_rate={
            Metric.CANCEL.value: _dec(v["ACTIVITIES_REENROL_CANCEL_RATE_MAX"]),
            Metric.LATE_SHIPMENT.value: _dec(v["ACTIVITIES_REENROL_LATE_SHIPMENT_RATE_MAX"]),
            Metric.ANOMALY.value: _dec(v["ACTIVITIES_REENROL_ANOMALY_RATE_MAX"]),
            Metric.NEGATIVE_REVIEW.value: _dec(v["ACTIVITIES_REENROL_NEGATIVE_REVIEW_RATE_MAX"]),
        },
        days=int(v["ACTIVITIES_REENROL_DAYS"]),
        min_dsr=_dec(v["ACTIVITIES_REENROL_MIN_DSR"]),
    )


# --- SPEC E-6 layers 1 and 3, snapshot retention --------------------------------------------------


def report_hours() -> int:
    """SPEC E-6: hours after an activity's end within which its review report is final (72)."""
    return int(config.ACTIVITIES_REPORT_HOURS)


def snapshot_retention_days() -> int:
    """Natural days metric snapshots are kept (exits' snapshots are kept for ever). Never fewer
    than the E-8 re-enrolment streak needs plus the E-5 yesterday, whatever the registry says."""
    return max(int(config.ACTIVITIES_SNAPSHOT_RETENTION_DAYS), reenrol_days() + 2)


def check_activity_line(
    *,
    unit_price_minor: int,
    activity_price_minor: int | None,
    sold_through: int,
    stock: int | None,
) -> list[str]:
    """SPEC E-6 layer 1 for one line of an activity order against its SKU's enrolment: the
    kinds of disagreement (``ConsistencyKind`` values). ``activity_price_minor`` None: the SKU
    had no live enrolment in the activity when the order was placed. ``sold_through``: units of
    the SKU the activity sold up to and including this order; more than ``stock`` is oversold
    (exactly the stock is not)."""
    if activity_price_minor is None or stock is None:
        return ["not_enrolled"]
    kinds = []
    if unit_price_minor != activity_price_minor:
        kinds.append("price")
    if sold_through > stock:
        kinds.append("oversold")
    return kinds


def in_window(*, placed_at, starts_at, ends_at) -> bool:
    """SPEC E-1/E-6: an activity order belongs in [starts_at, ends_at)."""
    return starts_at <= placed_at < ends_at


def roi(*, net_sales_minor: int, cost_minor: int) -> Decimal | None:
    """SPEC E-6 review report: net sales per unit of cost, two decimals (half up); None
    without a cost."""
    if cost_minor <= 0:
        return None
    return (Decimal(net_sales_minor) / Decimal(cost_minor)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def report_final(*, now, ends_at, hours: int) -> bool:
    """SPEC E-6: the report is final from ``hours`` after the activity's end (exactly 72 h is
    final; a second before is not)."""
    from datetime import timedelta

    return now >= ends_at + timedelta(hours=hours)
