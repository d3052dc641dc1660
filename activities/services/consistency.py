"""SPEC E-6 layer 1: within 15 minutes of an activity order's creation, its prices and units
against the enrolment (activity price, activity stock).

The consumer of ``order.created`` records each activity order (``activity_order_record``); a
beat task every 15 minutes claims the unchecked ones (``FOR UPDATE SKIP LOCKED``, so two runs
at once check each order once) and checks them set-based: one query for their lines, one for
the activities, one for the enrolments, one for the units each SKU has sold under the
enrolment live when each order was placed — whatever the number of orders. What it finds is
written once per (order, SKU, kind) (UNIQUE, ``ON CONFLICT DO NOTHING``): a second pass adds
nothing. The shop's staff hear about each new finding once (one notice per shop and pass,
``notify``); a finding already recorded is never announced again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.urls import reverse

from core import clock
from core.money import Money
from orders.models import Order
from shops.models import NotificationKind, Shop, Sku
from shops.services import notify

from .. import rules
from ..models import Activity, ActivityOrder, ConsistencyIssue, ConsistencyKind, Enrolment

BATCH = 5_000


def activity_order_record(*, order_id: int) -> ActivityOrder | None:
    """Record ``order_id`` if it carries an activity (one query for the others)."""
    row: Any = (
        Order.objects.filter(pk=order_id, activity_id__isnull=False)
        .values("shop_id", "activity_id", "placed_at")
        .first()
    )
    if row is None:
        return None
    record, _created = ActivityOrder.objects.get_or_create(
        order_id=order_id,
        defaults={
            "shop_id": row["shop_id"],
            "activity_id": row["activity_id"],
            "placed_at": row["placed_at"],
            "recorded_at": clock.now(),
        },
    )
    return record


@dataclass(frozen=True)
class CheckResult:
    checked: int
    issues: int


def _live(candidates, at: datetime) -> Enrolment | None:
    """The enrolment of one (activity, SKU) live at ``at`` (enrolled at or before it, not left
    yet); the latest enrolled one if several were."""
    best: Enrolment | None = None
    for e in candidates:
        live_then = e.enrolled_at <= at and (e.left_at is None or e.left_at > at)
        if live_then and (best is None or e.enrolled_at > best.enrolled_at):
            best = e
    return best


def _sold_through(
    enrolments: dict[tuple[int, int], list[Enrolment]],
    matched: list[Enrolment],
    order_ids: list[int],
) -> dict:
    """Units of the SKU sold under each enrolment of ``matched``, cumulated in placing order,
    at each order of ``order_ids``: one query over the activities' orders of those SKUs since
    the earliest of those enrolments. Each order counts against the enrolment live when it was
    placed (``enrolments`` holds every enrolment of the pairs), so what an earlier, withdrawn
    enrolment sold never counts against a re-enrolment's stock — whatever orders a batch
    holds. Cancelled orders released their units."""
    from orders.models import OrderLine, OrderStatus

    if not matched:
        return {}
    wanted_enrolments = {e.pk for e in matched}
    rows = (
        OrderLine.objects.filter(
            order__activity_record__activity_id__in={e.activity_id for e in matched},
            order__activity_record__placed_at__gte=min(e.enrolled_at for e in matched),
            sku_id__in={e.sku_id for e in matched},
        )
        .exclude(order__status=OrderStatus.CANCELLED)
        .order_by("order__activity_record__placed_at", "order_id", "pk")
        .values_list(
            "order__activity_record__activity_id",
            "sku_id",
            "order__activity_record__placed_at",
            "order_id",
            "quantity",
        )
    )
    wanted = set(order_ids)
    running: dict[int, int] = {}
    out: dict[tuple[int, int], int] = {}
    for activity_id, sku_id, placed_at, order_id, quantity in rows:
        e = _live(enrolments.get((activity_id, sku_id), ()), placed_at)
        if e is None or e.pk not in wanted_enrolments:
            continue
        running[e.pk] = running.get(e.pk, 0) + quantity
        if order_id in wanted:
            out[(order_id, sku_id)] = running[e.pk]
    return out


@transaction.atomic
def consistency_check(*, now: datetime | None = None, batch: int = BATCH) -> CheckResult:
    """Check the activity orders not checked yet (up to ``batch`` per call; the task loops)."""
    from orders.models import OrderLine

    now = now or clock.now()
    due = list(
        ActivityOrder.objects.select_for_update(skip_locked=True)
        .filter(checked_at__isnull=True)
        .order_by("pk")
        .values("pk", "order_id", "shop_id", "activity_id", "placed_at")[:batch]
    )
    if not due:
        return CheckResult(checked=0, issues=0)
    ActivityOrder.objects.filter(pk__in=[d["pk"] for d in due]).update(checked_at=now)
    order_ids = [d["order_id"] for d in due]
    lines = list(
        OrderLine.objects.filter(order_id__in=order_ids)
        .order_by("order_id", "pk")
        .values("order_id", "sku_id", "quantity", "unit_price_minor")
    )
    activities = {
        a.pk: a
        for a in Activity.objects.filter(pk__in={d["activity_id"] for d in due}).only(
            "starts_at", "ends_at"
        )
    }
    by_order = {d["order_id"]: d for d in due}
    skus = {ln["sku_id"] for ln in lines}
    # Every enrolment of these SKUs in these activities; the live one at the order's time wins.
    enrolments: dict[tuple[int, int], list[Enrolment]] = {}
    for e in Enrolment.objects.filter(activity_id__in=list(activities), sku_id__in=skus).only(
        "activity_id",
        "sku_id",
        "activity_price_minor",
        "currency",
        "stock",
        "enrolled_at",
        "left_at",
    ):
        enrolments.setdefault((e.activity_id, e.sku_id), []).append(e)

    matched = []
    for ln in lines:
        d = by_order[ln["order_id"]]
        found_e = _live(enrolments.get((d["activity_id"], ln["sku_id"]), ()), d["placed_at"])
        matched.append((ln, d, found_e))
    sold = _sold_through(
        enrolments, list({e.pk: e for _ln, _d, e in matched if e is not None}.values()), order_ids
    )

    issues: list[ConsistencyIssue] = []

    def add(d, kind, *, sku_id=None, expected="", found=""):
        issues.append(
            ConsistencyIssue(
                order_id=d["order_id"],
                shop_id=d["shop_id"],
                activity_id=d["activity_id"],
                sku_id=sku_id,
                kind=kind,
                expected=str(expected)[:64],
                found=str(found)[:64],
                found_at=now,
            )
        )

    for d in due:
        activity = activities.get(d["activity_id"])
        if activity is None:
            add(d, ConsistencyKind.UNKNOWN_ACTIVITY, found=d["activity_id"])
        elif not rules.in_window(
            placed_at=d["placed_at"], starts_at=activity.starts_at, ends_at=activity.ends_at
        ):
            add(
                d,
                ConsistencyKind.OUTSIDE_WINDOW,
                expected=f"{activity.starts_at:%Y-%m-%d %H:%M}–{activity.ends_at:%Y-%m-%d %H:%M}",
                found=f"{d['placed_at']:%Y-%m-%d %H:%M}",
            )
    for ln, d, enr in matched:
        if d["activity_id"] not in activities:
            continue
        through = sold.get((d["order_id"], ln["sku_id"]), 0)
        for kind in rules.check_activity_line(
            unit_price_minor=ln["unit_price_minor"],
            activity_price_minor=enr.activity_price_minor if enr else None,
            sold_through=through,
            stock=enr.stock if enr else None,
        ):
            if enr is None:  # not enrolled: nothing to compare with
                expected = found = ""
            elif kind == "price":
                expected = str(Money(enr.activity_price_minor, enr.currency))
                found = str(Money(ln["unit_price_minor"], enr.currency))
            else:  # oversold
                expected, found = str(enr.stock), str(through)
            add(d, kind, sku_id=ln["sku_id"], expected=expected, found=found)
    known = set(
        ConsistencyIssue.objects.filter(order_id__in=order_ids).values_list(
            "order_id", "sku_id", "kind"
        )
    )
    new = [i for i in issues if (i.order_id, i.sku_id, i.kind) not in known]
    ConsistencyIssue.objects.bulk_create(new, ignore_conflicts=True)
    _notify_findings(new)
    return CheckResult(checked=len(due), issues=len(new))


NOTICE_LINES = 20  # findings listed in one notice; the checks page has them all


def _notify_findings(issues: list[ConsistencyIssue]) -> None:
    """Tell each shop's staff what this pass found in its activity orders (one notice per shop,
    in-app now and by email after the commit): order, SKU, what differs, expected and found."""
    if not issues:
        return
    by_shop: dict[int, list[ConsistencyIssue]] = {}
    for issue in issues:
        by_shop.setdefault(issue.shop_id, []).append(issue)
    numbers = dict(
        Order.objects.filter(pk__in={i.order_id for i in issues}).values_list("pk", "number")
    )
    codes = dict(
        Sku.objects.filter(pk__in={i.sku_id for i in issues if i.sku_id}).values_list("pk", "code")
    )
    shops = Shop.objects.in_bulk(list(by_shop))
    link = reverse("activities:checks")
    for shop_id, found in sorted(by_shop.items()):
        findings = [
            {
                "order": numbers.get(issue.order_id, issue.order_id),
                "sku": codes.get(issue.sku_id, "") if issue.sku_id else "",
                "kind": issue.kind,
                "expected": issue.expected or "",
                "found": issue.found or "",
            }
            for issue in found[:NOTICE_LINES]
        ]
        # Worded when shown, in the reader's language (activities/notices.py ``findings``).
        notify(
            shop=shops[shop_id],
            kind=NotificationKind.ACTIVITY_CHECK,
            message="activities.findings",
            params={
                "count": len(found),
                "findings": findings,
                "more": len(found) - len(findings),
            },
            link=link,
        )


def consistency_check_all(*, now: datetime | None = None, batch: int = BATCH) -> CheckResult:
    """The beat task's work: batches until nothing is left unchecked."""
    checked = issues = 0
    while True:
        r = consistency_check(now=now, batch=batch)
        checked, issues = checked + r.checked, issues + r.issues
        if r.checked < batch:
            return CheckResult(checked=checked, issues=issues)
