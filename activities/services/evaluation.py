"""The hourly metric evaluation (SPEC E-3, E-3a, E-4) and the forced exit it may decide (E-5).

One pass for every shop: the fulfilment sweep records what time decided, one ``GROUP BY`` sums
the daily figures of the 30-day window per shop, one query takes out what declared carrier
incidents exempt — then every shop is judged in memory and its snapshot written in bulk. The
number of queries does not grow with the number of shops (only the exits, few, cost more).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from core import clock
from orders import selectors as orders_selectors
from orders import services as orders_services
from orders.selectors import IncidentWindow
from shops.models import NotificationKind, Shop
from shops.services import notify

from .. import rules
from ..models import (
    ActivityExit,
    CarrierIncident,
    Enrolment,
    EnrolmentStatus,
    Evaluation,
    EvaluationLock,
    MetricSnapshot,
)
from ..rules import METRICS, Limits, Metric, Standing

LOCK_NAME = "metrics"


def window_bounds(*, day: date, days: int) -> tuple[date, datetime, datetime]:
    """The window's first natural day and its [from, to) instants: ``days`` natural days in the
    platform time zone ending with ``day``."""
    first = day - timedelta(days=days - 1)
    return first, clock.day_start(first), clock.day_start(day + timedelta(days=1))


def incidents_overlapping(start: datetime, end: datetime) -> list[CarrierIncident]:
    return list(CarrierIncident.objects.filter(starts_at__lt=end, ends_at__gt=start).order_by("pk"))


def incident_windows(incidents) -> list[IncidentWindow]:
    return [
        IncidentWindow(carrier=i.carrier, region=i.region, starts_at=i.starts_at, ends_at=i.ends_at)
        for i in incidents
    ]


def judge(*, figures: dict[str, int], exempt: dict[str, int], limits: Limits, category: str):
    """The four metrics of one shop from its window sums (pure). Returns ``{metric: {...}}``
    with numerator, denominator, value, threshold, minimum sample, standing and exemptions."""
    return Judge(limits)(figures=figures, exempt=exempt, category=category)


class Judge:
    """``judge`` for many shops under one set of numbers: each category's thresholds are
    worked out once (the hourly pass judges 10,000 shops in a handful of categories)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._by_category: dict[str, list[tuple[Metric, Decimal, str, str, int]]] = {}

    def _table(self, category: str):
        table = self._by_category.get(category)
        if table is None:
            limits = self.limits
            table = []
            for metric in METRICS:
                threshold = limits.threshold(metric, category)
                table.append(
                    (
                        metric,
                        threshold,
                        str(threshold),
                        str(limits.thresholds[metric]),
                        limits.min_samples[metric],
                    )
                )
            self._by_category[category] = table
        return table

    def __call__(self, *, figures: dict[str, int], exempt: dict[str, int], category: str):
        def less(name: str) -> int:
            return figures.get(name, 0) - exempt.get(name, 0)

        late = less("ship_late")
        inputs: dict[Metric, tuple[Decimal, int]] = {
            Metric.CANCEL: (Decimal(figures.get("orders_cancelled", 0)), figures["orders_created"]),
            Metric.LATE_SHIPMENT: (Decimal(late), less("ship_on_time") + late),
            Metric.ANOMALY: (
                rules.weighted_anomalies(
                    other=less("anomalies"),
                    official=less("anomalies_official"),
                    weight=self.limits.official_weight,
                ),
                less("orders_shipped"),
            ),
            Metric.NEGATIVE_REVIEW: (
                Decimal(figures.get("activity_reviews_negative", 0)),
                figures.get("activity_reviews", 0),
            ),
        }
        share = self.limits.warning_share
        out = {}
        for metric, threshold, threshold_text, base_text, min_sample in self._table(category):
            numerator, denominator = inputs[metric]
            standing = rules.check_metric(
                numerator=numerator,
                denominator=denominator,
                threshold=threshold,
                min_sample=min_sample,
                warning_share=share,
            )
            out[metric.value] = {
                "numerator": format(numerator.normalize(), "f") if numerator else "0",
                "denominator": denominator,
                "value": None
                if (v := rules.rate_percent(numerator, denominator)) is None
                else str(v),
                "threshold": threshold_text,
                "base_threshold": base_text,
                "min_sample": min_sample,
                "standing": standing.value,
            }
        return out


@dataclass(frozen=True)
class EvaluationResult:
    evaluation: Evaluation
    exits: list[ActivityExit]


@transaction.atomic
def metrics_evaluate(*, now: datetime | None = None) -> EvaluationResult:
    """Evaluate every shop's four metrics now, store a snapshot per shop, and exit the shops
    whose same metric breached yesterday (its final value) and breaches now (SPEC E-5).

    Two evaluations never overlap: each locks the one ``EvaluationLock`` row first. An order
    event committing meanwhile is in the daily figures this pass reads or in the next one's.
    """
    now = now or clock.now()
    EvaluationLock.objects.select_for_update().get_or_create(name=LOCK_NAME)
    orders_services.fulfilment_sweep(now=now)
    limits = rules.current_limits()
    today = clock.natural_day(now)
    first, start, end = window_bounds(day=today, days=limits.window_days)
    incidents = incidents_overlapping(start, end)
    windows = incident_windows(incidents)
    sums = orders_selectors.metric_window_sums(first_day=first, last_day=today)
    exempt = orders_selectors.incident_exemptions(
        incidents=windows, placed_from=start, placed_to=end
    )
    evaluation = Evaluation.objects.create(
        evaluated_at=now,
        day=today,
        window_start=first,
        limits=limits.as_json(),
        incidents=[i.pk for i in incidents],
    )
    zero = dict.fromkeys(orders_selectors.METRIC_FIGURES, 0)
    judge_shop = Judge(limits)
    rows = []
    breached: list[int] = []
    for shop_id, category in Shop.objects.order_by("pk").values_list("pk", "main_category"):
        figures = sums.get(shop_id, zero)
        ex = exempt.get(shop_id, {})
        metrics = judge_shop(figures=figures, exempt=ex, category=category)
        breaches = [m for m, v in metrics.items() if v["standing"] == Standing.BREACH]
        if breaches:
            breached.append(shop_id)
        rows.append(
            (
                evaluation.pk,
                shop_id,
                today,
                now,
                category,
                category in limits.relaxed_categories,
                metrics,
                {"sums": figures, "exempt": ex},
                breaches,
            )
        )
    _snapshots_write(rows)
    evaluation.shops = len(rows)
    exits = _exit_consecutive_breaches(
        evaluation=evaluation, breached=breached, windows=windows, start=start, end=end
    )
    evaluation.exits = len(exits)
    evaluation.save(update_fields=["shops", "exits"])
    return EvaluationResult(evaluation=evaluation, exits=exits)


_SNAPSHOT_COLUMNS = (
    "evaluation_id",
    "shop_id",
    "day",
    "evaluated_at",
    "category",
    "relaxed",
    "metrics",
    "figures",
    "breaches",
)


def _snapshots_write(rows: list[tuple]) -> None:
    """One row per shop (``_SNAPSHOT_COLUMNS``). On PostgreSQL one ``COPY`` (10,000 rows with
    their JSON in one round trip, no model instance per shop — the evaluation's only costs that
    grow with shops); elsewhere ``bulk_create``."""
    if connection.vendor != "postgresql":
        MetricSnapshot.objects.bulk_create(
            [MetricSnapshot(**dict(zip(_SNAPSHOT_COLUMNS, r, strict=True))) for r in rows],
            batch_size=2000,
        )
        return
    table = MetricSnapshot._meta.db_table
    dumps = json.dumps
    with connection.cursor() as cur:
        sql = f"COPY {table} ({', '.join(_SNAPSHOT_COLUMNS)}) FROM STDIN"
        with cur.cursor.copy(sql) as copy:
            for e, shop, day, at, category, relaxed, metrics, figures, breaches in rows:
                copy.write_row(
                    (
                        e,
                        shop,
                        day,
                        at,
                        category,
                        relaxed,
                        dumps(metrics),
                        dumps(figures),
                        dumps(breaches),
                    )
                )


def final_snapshots(*, day: date, shop_ids=None) -> dict[int, MetricSnapshot]:
    """SPEC E-5: each shop's status on ``day`` — its snapshot at the day's last evaluation."""
    last = Evaluation.objects.filter(day=day).order_by("-evaluated_at", "-pk").first()
    if last is None:
        return {}
    rows = MetricSnapshot.objects.filter(evaluation=last)
    if shop_ids is not None:
        rows = rows.filter(shop_id__in=list(shop_ids))
    return {s.shop_id: s for s in rows}


def _exit_consecutive_breaches(*, evaluation, breached, windows, start, end) -> list:
    """SPEC E-5 for the shops breaching now: those whose same metric also breached at
    yesterday's last evaluation, with a live enrolment, are exited. Reads only the breaches of
    yesterday's snapshots first; the full snapshots only of the shops to exit (few)."""
    if not breached:
        return []
    last_yesterday = (
        Evaluation.objects.filter(day=evaluation.day - timedelta(days=1))
        .order_by("-evaluated_at", "-pk")
        .first()
    )
    if last_yesterday is None:
        return []
    before = dict(
        MetricSnapshot.objects.filter(evaluation=last_yesterday, shop_id__in=breached).values_list(
            "shop_id", "breaches"
        )
    )
    if not before:
        return []
    now_breaches = dict(
        MetricSnapshot.objects.filter(evaluation=evaluation, shop_id__in=list(before)).values_list(
            "shop_id", "breaches"
        )
    )
    due_metrics = {
        shop_id: metrics
        for shop_id, breaches in now_breaches.items()
        if (
            metrics := [
                m
                for m in breaches
                if rules.breaches_consecutive(yesterday=m in before[shop_id], today=True)
            ]
        )
    }
    if not due_metrics:
        return []
    due = due_metrics
    live = set(
        Enrolment.objects.filter(
            shop_id__in=list(due),
            status=EnrolmentStatus.ENROLLED,
            activity__ends_at__gt=evaluation.evaluated_at,
        ).values_list("shop_id", flat=True)
    )
    already = set(
        ActivityExit.objects.filter(shop_id__in=list(due), day=evaluation.day).values_list(
            "shop_id", flat=True
        )
    )
    exits = []
    todo = sorted(live - already)  # pk order: the lock order of every writer
    snaps = {
        (s.evaluation_id, s.shop_id): s
        for s in MetricSnapshot.objects.filter(
            evaluation__in=[evaluation, last_yesterday], shop_id__in=todo
        ).select_related("evaluation")
    }
    for shop_id in todo:
        exit_ = shop_exit(
            shop=Shop.objects.get(pk=shop_id),
            snapshot=snaps[(evaluation.pk, shop_id)],
            previous=snaps[(last_yesterday.pk, shop_id)],
            metrics=due_metrics[shop_id],
            windows=windows,
            start=start,
            end=end,
        )
        if exit_ is not None:
            exits.append(exit_)
    return exits


def shop_exit(*, shop, snapshot, previous, metrics, windows, start, end) -> ActivityExit | None:
    """SPEC E-5: take ``shop`` out of every running activity now, with the evidence, and tell
    its staff. Returns None when it was already exited today (the UNIQUE (shop, day) key)."""
    now = snapshot.evaluated_at
    evidence = {
        "metrics": {
            m: {
                "today": snapshot.metrics[m],
                "yesterday": previous.metrics.get(m),
                "orders": orders_selectors.orders_behind(
                    shop=shop,
                    metric=m,
                    placed_from=start,
                    placed_to=end,
                    incidents=windows,
                ),
            }
            for m in metrics
        },
        "incidents": snapshot.evaluation.incidents,
        "exempt": snapshot.figures.get("exempt", {}),
        "window": [str(start.date()), str(end.date())],
    }
    with transaction.atomic():
        exit_, created = ActivityExit.objects.get_or_create(
            shop=shop,
            day=snapshot.day,
            defaults={
                "exited_at": now,
                "snapshot": snapshot,
                "previous": previous,
                "metrics": metrics,
                "evidence": evidence,
            },
        )
    if not created:
        return None
    live = Enrolment.objects.select_for_update().filter(
        Q(shop=shop, status=EnrolmentStatus.ENROLLED, activity__ends_at__gt=now)
    )
    ids = list(live.order_by("pk").values_list("pk", flat=True))
    removed = Enrolment.objects.filter(pk__in=ids).update(
        status=EnrolmentStatus.EXITED, left_at=now, exit=exit_, updated_at=now
    )
    exit_.enrolments_removed = removed
    exit_.save(update_fields=["enrolments_removed", "updated_at"])
    _notify_exit(shop=shop, exit_=exit_)
    return exit_


def metric_label(metric: str) -> str:
    return {
        Metric.CANCEL: _("Cancel rate"),
        Metric.LATE_SHIPMENT: _("Late-shipment rate"),
        Metric.ANOMALY: _("Logistics anomaly rate"),
        Metric.NEGATIVE_REVIEW: _("Negative review rate"),
    }[Metric(metric)]


def _notify_exit(*, shop: Shop, exit_: ActivityExit) -> None:
    """Worded when shown, in the reader's language (activities/notices.py ``exit``)."""
    metrics = [
        {
            "metric": m,
            "today": ev["today"]["value"],
            "yesterday": (ev["yesterday"] or {}).get("value"),
            "limit": ev["today"]["threshold"],
            "orders": list(ev["orders"][:20]),
        }
        for m, ev in exit_.evidence["metrics"].items()
    ]
    notify(
        shop=shop,
        kind=NotificationKind.ACTIVITY_EXIT,
        message="activities.exit",
        params={"metrics": metrics, "postmortem_hours": rules.postmortem_hours()},
        link=reverse("activities:exit", args=[exit_.pk]),
    )
