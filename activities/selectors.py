"""Reads of the activities module."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from core import clock
from core.checks import Check
from shops.models import LogisticsSetting, Shop, Sku
from shops.selectors import carriers_for_shop, usable_carriers

from . import rules
from .models import (
    Activity,
    ActivityExit,
    CarrierIncident,
    Enrolment,
    EnrolmentStatus,
    Evaluation,
    MetricSnapshot,
)
from .rules import Metric, Standing


def relaxation_factor(*, shop: Shop) -> Decimal:
    """SPEC E-4: shops in the relaxed main categories get thresholds ×1.1."""
    if shop.main_category in rules.relaxed_categories():
        return rules.relaxation_factor()
    return Decimal(1)


@dataclass(frozen=True)
class ActivitiesOverview:
    cancel_rate: Decimal | None
    cancel_threshold: Decimal
    relaxed: bool
    cancel_check: Check
    carriers: list[LogisticsSetting]
    carrier_check: Check


def _shown_threshold(threshold: Decimal) -> Decimal:
    """A threshold as shown: one decimal (15.0, 16.5), more only when it has them (14.26)."""
    tenth = threshold.quantize(Decimal("0.1"))
    return tenth if tenth == threshold else threshold.normalize()


def overview(*, shop: Shop, at: datetime | None = None) -> ActivitiesOverview:
    """SPEC E-3 cancel rate judged as the hourly evaluation judges it — the same window,
    E-4 threshold, E-3a minimum sample and exact comparison (``rules.check_metric``) — and
    SPEC E-2 certified carriers."""
    from orders.selectors import DailyWindow

    limits = rules.current_limits()  # every number in one query
    relaxed = shop.main_category in limits.relaxed_categories
    threshold = limits.threshold(Metric.CANCEL, shop.main_category)
    shown = _shown_threshold(threshold)
    days = limits.window_days
    window = DailyWindow(shop=shop, days=days, at=at)
    cancelled = window.total("orders_cancelled", days)
    created = window.total("orders_created", days)
    rate = window.cancel_rate(days)  # shown rounded; judged exactly below
    minimum = limits.min_samples[Metric.CANCEL]
    standing = rules.check_metric(
        numerator=cancelled,
        denominator=created,
        threshold=threshold,
        min_sample=minimum,
        warning_share=limits.warning_share,
    )
    if standing == Standing.NOT_ENOUGH:
        # SPEC E-3a: below the minimum sample the rate is not judged and cannot breach.
        cancel_check = Check(
            code="e3_cancel_rate",
            label=_("30-day cancel rate"),
            passed=None,
            measured=_("not enough orders yet"),
            required=f"≤ {shown}%",
            detail=ngettext(
                "%(n)s order placed in the window: the rate counts from %(min)s orders and "
                "cannot breach before.",
                "%(n)s orders placed in the window: the rate counts from %(min)s orders and "
                "cannot breach before.",
                created,
            )
            % {"n": created, "min": minimum},
            fix=_(
                "Nothing to fix yet. Keep stock up to date and ship paid orders on time, so "
                "that few orders are cancelled once the rate counts."
            ),
        )
    else:
        ok = standing != Standing.BREACH
        cancel_check = Check(
            code="e3_cancel_rate",
            label=_("30-day cancel rate"),
            passed=ok,
            measured=f"{rate}%",
            required=f"≤ {shown}%",
            detail=""
            if ok
            else _(
                "Cancel rate %(rate)s%% (%(cancelled)s of %(created)s orders) > %(max)s%%: a "
                "breach on two consecutive days exits the shop from every running activity."
            )
            % {"rate": rate, "cancelled": cancelled, "created": created, "max": shown},
            fix=""
            if ok
            else _(
                "Look into your cancelled orders (out of stock? slow shipping?), keep stock "
                "up to date and ship paid orders on time; the rate covers the last 30 days."
            ),
            fix_url="" if ok else f"{reverse('orders:list')}?status=cancelled",
            fix_link="" if ok else _("Cancelled orders"),
        )
    carriers = carriers_for_shop(shop=shop)
    usable = usable_carriers(shop=shop, carriers=carriers)
    carrier_check = Check(
        code="e2_certified_carrier",
        label=_("A certified carrier enabled in logistics settings"),
        passed=bool(usable),
        measured=", ".join(str(c.get_carrier_display()) for c in usable) or _("none"),
        required=_("at least one"),
        detail=""
        if usable
        else _("Activities accept only shops that ship with a certified carrier."),
        fix=""
        if usable
        else _(
            "Enable a certified carrier (such as AliExpress Standard Shipping) in your "
            "marketplace logistics settings before enrolling SKUs in an activity."
        ),
    )
    return ActivitiesOverview(
        cancel_rate=rate,
        cancel_threshold=shown,
        relaxed=relaxed,
        cancel_check=cancel_check,
        carriers=carriers,
        carrier_check=carrier_check,
    )


# --- activities, enrolments, exits (SPEC E-1, E-5) ---------------------------------------------


def activities_open(*, at: datetime | None = None) -> QuerySet[Activity]:
    """Activities not ended yet, soonest first (every shop sees the same list)."""
    now = at or clock.now()
    return Activity.objects.filter(ends_at__gt=now).order_by("starts_at", "pk")


def get_activity(*, activity_id: int) -> Activity:
    return get_object_or_404(Activity, pk=activity_id)


def enrolments_for_shop(*, shop: Shop, activity: Activity | None = None) -> QuerySet[Enrolment]:
    rows = Enrolment.objects.filter(shop=shop).select_related("sku", "activity")
    if activity is not None:
        rows = rows.filter(activity=activity)
    return rows.order_by("-enrolled_at", "-pk")


def stock_committed_elsewhere(*, sku: Sku, activity: Activity, at: datetime | None = None) -> int:
    """SPEC E-2: the activity stock ``sku`` has committed in the other activities whose windows
    overlap ``activity``'s still to come (they end after ``at`` and after it starts, and start
    before it ends), where it is still enrolled. One query."""
    from django.db.models import Sum

    now = at or clock.now()
    return (
        Enrolment.objects.filter(
            sku=sku,
            status=EnrolmentStatus.ENROLLED,
            activity__starts_at__lt=activity.ends_at,
            activity__ends_at__gt=max(now, activity.starts_at),
        )
        .exclude(activity_id=activity.pk)
        .aggregate(n=Sum("stock"))["n"]
        or 0
    )


def get_exit_for_shop(*, shop: Shop, exit_id: int) -> ActivityExit:
    """404 for another shop's exit."""
    return get_object_or_404(ActivityExit, shop=shop, pk=exit_id)


def exits_for_shop(*, shop: Shop) -> QuerySet[ActivityExit]:
    return ActivityExit.objects.filter(shop=shop).order_by("-exited_at", "-pk")


def latest_snapshot(*, shop: Shop) -> MetricSnapshot | None:
    """The shop's snapshot at the latest evaluation (the (shop, day, -evaluated_at) index)."""
    return MetricSnapshot.objects.filter(shop=shop).order_by("-day", "-evaluated_at").first()


# --- replay (SPEC E-3: every decision reproducible from raw orders) -----------------------------


def replay_snapshot(*, snapshot: MetricSnapshot) -> dict:
    """The snapshot's figures and metrics recomputed from the raw orders, scans and reviews as
    they stood at its evaluation, with the registry numbers and incidents it applied. Equal to
    what the snapshot stored when the daily figures were right."""
    from orders.selectors import EXEMPTED_FIGURES, metric_figures_replayed

    from .services.evaluation import incident_windows, judge, window_bounds

    evaluation = snapshot.evaluation
    limits = rules.Limits.from_json(evaluation.limits)
    _first, start, end = window_bounds(day=snapshot.day, days=limits.window_days)
    incidents = list(CarrierIncident.objects.filter(pk__in=evaluation.incidents).order_by("pk"))
    keywords = rules.not_as_described_keywords()
    raw = metric_figures_replayed(
        shop_id=snapshot.shop_id,
        placed_from=start,
        placed_to=end,
        at=snapshot.evaluated_at,
        keywords=keywords,
    )
    kept = metric_figures_replayed(
        shop_id=snapshot.shop_id,
        placed_from=start,
        placed_to=end,
        at=snapshot.evaluated_at,
        keywords=keywords,
        incidents=incident_windows(incidents),
    )
    exempt = {f: raw[f] - kept[f] for f in EXEMPTED_FIGURES if raw[f] - kept[f]}
    return {
        "sums": raw,
        "exempt": exempt,
        "metrics": judge(figures=raw, exempt=exempt, limits=limits, category=snapshot.category),
    }


# --- the live monitor (SPEC E-6) and re-enrolment (E-8) ------------------------------------------


@dataclass(frozen=True)
class MetricRow:
    metric: str
    label: str
    value: Decimal | None
    threshold: Decimal
    warning_at: Decimal
    standing: str
    numerator: Decimal
    denominator: int
    min_sample: int
    headroom: int | None  # more bad orders before a breach (None: not reachable)
    headroom_text: str
    fix: str

    @property
    def gauge(self) -> int:
        """The value as a share of the threshold, percent, capped at 100 (the bar's width)."""
        if self.value is None or not self.threshold:
            return 0
        return min(100, int(self.value * 100 / self.threshold))


FIXES = {
    Metric.CANCEL: gettext_lazy(
        "Keep stock up to date and avoid cancelling paid orders; the rate covers 30 days."
    ),
    Metric.LATE_SHIPMENT: gettext_lazy(
        "Ship paid orders and upload a tracking number the carrier scans within 72 hours."
    ),
    Metric.ANOMALY: gettext_lazy(
        "Chase parcels without a carrier scan for 3 days; prefer a certified carrier."
    ),
    Metric.NEGATIVE_REVIEW: gettext_lazy(
        "Make listings match the product (photos, size, material) and answer buyers quickly."
    ),
}


def _headroom(metric: Metric, m: dict, weight: Decimal) -> tuple[int | None, str]:
    num, den, threshold = Decimal(m["numerator"]), m["denominator"], Decimal(m["threshold"])
    if m["standing"] == Standing.NOT_ENOUGH:
        short = m["min_sample"] - den
        return None, ngettext(
            "Not enough orders yet: %(n)s more before this rate counts.",
            "Not enough orders yet: %(n)s more before this rate counts.",
            short,
        ) % {"n": short}
    if metric in (Metric.CANCEL, Metric.ANOMALY):
        k = rules.fixed_denominator_headroom(numerator=num, denominator=den, threshold=threshold)
    else:
        k = rules.breach_headroom(numerator=num, denominator=den, threshold=threshold)
    if k is None:
        return None, gettext("Far from the limit.")
    if k == 0:
        return 0, gettext("Above the limit now.")
    texts = {
        Metric.CANCEL: ngettext(
            "%(n)s more cancellation would breach.", "%(n)s more cancellations would breach.", k
        ),
        Metric.LATE_SHIPMENT: ngettext(
            "%(n)s more late shipment in the next 3 days would breach.",
            "%(n)s more late shipments in the next 3 days would breach.",
            k,
        ),
        Metric.ANOMALY: ngettext(
            "%(n)s more parcel without tracking updates would breach.",
            "%(n)s more parcels without tracking updates would breach.",
            k,
        ),
        Metric.NEGATIVE_REVIEW: ngettext(
            "%(n)s more negative review would breach.",
            "%(n)s more negative reviews would breach.",
            k,
        ),
    }
    return k, texts[metric] % {"n": k}


def metric_rows(*, snapshot: MetricSnapshot) -> list[MetricRow]:
    """The monitor's rows from one snapshot (no query)."""
    from .services.evaluation import metric_label

    limits = rules.Limits.from_json(snapshot.evaluation.limits) if snapshot.evaluation_id else None
    share = limits.warning_share if limits else Decimal(80)
    weight = limits.official_weight if limits else Decimal("0.7")
    rows = []
    for metric in rules.METRICS:
        m = snapshot.metrics.get(metric.value)
        if m is None:
            continue
        threshold = Decimal(m["threshold"])
        k, text = _headroom(metric, m, weight)
        rows.append(
            MetricRow(
                metric=metric.value,
                label=metric_label(metric.value),
                value=Decimal(m["value"]) if m["value"] is not None else None,
                threshold=threshold,
                warning_at=(threshold * share / 100).quantize(Decimal("0.01")),
                standing=m["standing"],
                numerator=Decimal(m["numerator"]),
                denominator=m["denominator"],
                min_sample=m["min_sample"],
                headroom=k,
                headroom_text=text,
                fix=str(FIXES[metric]),
            )
        )
    return rows


@dataclass(frozen=True)
class ReenrolCondition:
    check: Check
    earliest: date | None  # the earliest natural day it can pass (None: passed, or unknown)


def _recovery_measured(metric: str, streak: int, unjudged: int) -> str:
    if not unjudged:
        return ngettext("%(n)s day so far", "%(n)s days so far", streak) % {"n": streak}
    if metric == Metric.NEGATIVE_REVIEW:
        text = ngettext(
            "%(n)s day so far (%(k)s without enough reviews to judge)",
            "%(n)s days so far (%(k)s without enough reviews to judge)",
            streak,
        )
    else:
        text = ngettext(
            "%(n)s day so far (%(k)s without enough orders to judge)",
            "%(n)s days so far (%(k)s without enough orders to judge)",
            streak,
        )
    return text % {"n": streak, "k": unjudged}


def _recovery_detail(metric: str, min_sample: int) -> str:
    if metric == Metric.NEGATIVE_REVIEW:
        text = ngettext(
            "A day with fewer than %(min)s activity review in the rate cannot breach, so it "
            "counts toward the days in a row.",
            "A day with fewer than %(min)s activity reviews in the rate cannot breach, so it "
            "counts toward the days in a row.",
            min_sample,
        )
    else:
        text = ngettext(
            "A day with fewer than %(min)s order in the rate cannot breach, so it counts "
            "toward the days in a row.",
            "A day with fewer than %(min)s orders in the rate cannot breach, so it counts "
            "toward the days in a row.",
            min_sample,
        )
    return text % {"min": min_sample}


def reenrolment_conditions(*, shop: Shop, at: datetime | None = None) -> list[ReenrolCondition]:
    """SPEC E-8 after the shop's latest exit: each breached metric held at or under its
    re-enrolment rate on the last N natural days' final values (compared exactly from each
    snapshot's numerator and denominator; a day below the E-3a minimum sample cannot breach
    and counts, and the text says how many did); the post-mortem approved; the three DSR
    scores at or above the minimum over 30 days (compared exactly from the score sums).
    Empty when the shop was never exited, or when an upheld appeal lifted each of its exits
    (E-7)."""
    from datetime import timedelta

    from orders.selectors import DailyWindow

    from .selectors_postmortem import counting_exit
    from .services.evaluation import metric_label

    now = at or clock.now()
    last_exit = counting_exit(shop=shop)
    if last_exit is None:
        return []
    today = clock.natural_day(now)
    numbers = rules.reenrol_limits()
    days = numbers.days
    finals = final_snapshots_of_days(shop=shop, first=today - timedelta(days=days - 1), last=today)
    out = []
    for metric in last_exit.metrics:
        limit = numbers.max_rate[metric]
        streak = unjudged = 0
        min_sample = 0
        for offset in range(days):
            snap = finals.get(today - timedelta(days=offset))
            m = snap.metrics.get(metric) if snap else None
            if m is None:  # not evaluated that day: nothing to count on
                break
            standing = rules.check_recovered(
                numerator=Decimal(m["numerator"]),
                denominator=m["denominator"],
                limit=limit,
                min_sample=m["min_sample"],
            )
            if standing == Standing.BREACH:
                break
            streak += 1
            if standing == Standing.NOT_ENOUGH:
                unjudged += 1
                min_sample = m["min_sample"]
        ok = streak >= days
        out.append(
            ReenrolCondition(
                check=Check(
                    code=f"e8_{metric}_recovered",
                    label=_("%(metric)s at or under %(limit)s%% on %(days)s days in a row")
                    % {"metric": metric_label(metric), "limit": limit, "days": days},
                    passed=ok,
                    measured=_recovery_measured(metric, streak, unjudged),
                    required=ngettext("%(n)s day", "%(n)s days", days) % {"n": days},
                    detail=_recovery_detail(metric, min_sample) if unjudged else "",
                    fix="" if ok else str(FIXES[Metric(metric)]),
                ),
                earliest=None if ok else today + timedelta(days=days - streak),
            )
        )
    from .selectors_postmortem import postmortem_condition

    check, earliest = postmortem_condition(exit_=last_exit, now=now)
    out.append(ReenrolCondition(check=check, earliest=earliest))
    window = DailyWindow(shop=shop, days=30, at=now)
    count = window.total("reviews", 30)
    minimum = numbers.min_dsr
    for name, label in (
        ("item_as_described", _("Item as described")),
        ("communication", _("Communication")),
        ("shipping", _("Shipping speed")),
    ):
        total = window.total(f"dsr_{name}_sum", 30)
        ok = rules.dsr_meets(total=total, count=count, minimum=minimum)
        score = rules.dsr_shown(total=total, count=count)
        out.append(
            ReenrolCondition(
                check=Check(
                    code=f"e8_dsr_{name}",
                    label=_("%(dsr)s score over 30 days") % {"dsr": label},
                    passed=ok,
                    measured=str(score) if score is not None else _("no reviews"),
                    required=f"≥ {minimum}",
                    fix=""
                    if ok
                    else _("Raise it with accurate listings and fast, tracked shipping."),
                ),
                earliest=None,
            )
        )
    return out


def reenrolment_blocked(*, shop: Shop, at: datetime | None = None) -> bool:
    """SPEC E-8: a shop once exited enrols again only when every condition passes."""
    conditions = reenrolment_conditions(shop=shop, at=at)
    return bool(conditions) and not all(c.check.passed for c in conditions)


def incidents_by_ids(*, ids) -> list[CarrierIncident]:
    """The carrier incidents an evaluation applied (shown on an exit's evidence)."""
    return list(CarrierIncident.objects.filter(pk__in=list(ids)).order_by("starts_at", "pk"))


def final_snapshots_of_days(*, shop: Shop, first: date, last: date) -> dict[date, MetricSnapshot]:
    """SPEC E-5/E-8: the shop's status on each natural day from ``first`` to ``last`` — its
    snapshot at that day's last evaluation (two queries for any number of days)."""
    last_of_day: dict[date, int] = {}
    for pk, day in (
        Evaluation.objects.filter(day__gte=first, day__lte=last)
        .order_by("day", "evaluated_at", "pk")
        .values_list("pk", "day")
    ):
        last_of_day[day] = pk  # ascending: the last one wins
    snaps = MetricSnapshot.objects.filter(shop=shop, evaluation_id__in=list(last_of_day.values()))
    return {s.day: s for s in snaps}


# --- threshold preview for admins (issue: "if thresholds changed to X, these shops would exit") ---


@dataclass(frozen=True)
class PreviewRow:
    shop_id: int
    exit_metrics: list[str]  # breached at yesterday's final and at the latest evaluation
    breach_metrics: list[str]  # breached at the latest evaluation


def threshold_preview(*, limits: rules.Limits) -> list[PreviewRow]:
    """SPEC E-3/E-4/E-5 with other numbers, before an admin saves them: the latest evaluation's
    snapshots and the previous natural day's final ones re-judged with ``limits`` (from their
    stored figures — no order is read). A shop with ``exit_metrics`` would be exited at the next
    evaluation if its figures stayed as they are. Three queries."""
    from datetime import timedelta

    from .services.evaluation import judge

    latest = Evaluation.objects.order_by("-evaluated_at", "-pk").first()
    if latest is None:
        return []
    previous = (
        Evaluation.objects.filter(day=latest.day - timedelta(days=1))
        .order_by("-evaluated_at", "-pk")
        .first()
    )
    snaps = MetricSnapshot.objects.filter(
        evaluation_id__in=[e.pk for e in (latest, previous) if e is not None]
    ).only("shop_id", "evaluation_id", "category", "figures")

    def breached(snap) -> set[str]:
        metrics = judge(
            figures=snap.figures["sums"],
            exempt=snap.figures.get("exempt", {}),
            limits=limits,
            category=snap.category,
        )
        return {m for m, v in metrics.items() if v["standing"] == Standing.BREACH}

    today: dict[int, set[str]] = {}
    before: dict[int, set[str]] = {}
    for snap in snaps:
        (today if snap.evaluation_id == latest.pk else before)[snap.shop_id] = breached(snap)
    rows = []
    for shop_id, now_breached in sorted(today.items()):
        if not now_breached:
            continue
        both = now_breached & before.get(shop_id, set())
        rows.append(
            PreviewRow(
                shop_id=shop_id,
                exit_metrics=sorted(both),
                breach_metrics=sorted(now_breached),
            )
        )
    return rows


def activities_joined(*, shop: Shop, since: datetime, until: datetime) -> int:
    """SPEC C-10 (read by the coins grade): the activities ``shop`` took part in during
    [since, until) — each counted once, however many SKUs it enrolled — when the activity ran
    in the window and one of the shop's enrolments was live while it ran (enrolled before the
    activity and the window ended; not withdrawn or exited before either started). One query."""
    from django.db.models import F, Q

    return (
        Enrolment.objects.filter(
            shop=shop,
            activity__starts_at__lt=until,
            activity__ends_at__gt=since,
            enrolled_at__lt=until,
        )
        .filter(enrolled_at__lt=F("activity__ends_at"))
        .filter(
            Q(left_at__isnull=True)
            | (Q(left_at__gt=since) & Q(left_at__gt=F("activity__starts_at")))
        )
        .values("activity_id")
        .distinct()
        .count()
    )


# --- SPEC E-6 layers 1 and 3: consistency issues and review reports -----------------------------


def consistency_issues_for_shop(*, shop: Shop) -> QuerySet:
    """What the 15-minute check found on the shop's activity orders, newest first (the
    (shop, -found_at) index)."""
    from .models import ConsistencyIssue

    return (
        ConsistencyIssue.objects.filter(shop=shop)
        .select_related("order", "sku")
        .order_by("-found_at", "-pk")
    )


def reports_for_shop(*, shop: Shop) -> QuerySet:
    """The shop's activity review reports, latest cut-off first."""
    from .models import ActivityReport

    return (
        ActivityReport.objects.filter(shop=shop)
        .select_related("activity")
        .order_by("-cutoff", "-pk")
    )
