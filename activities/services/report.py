"""SPEC E-6 layer 3: the review report of an activity, per enrolled shop, within 72 hours of
its end — sales, cost, returns and ROI.

**Decision** (SPEC names the figures, not their formulas), for the shop's orders that carry
the activity and were placed within its window:

- *sales*: what buyers paid on the paid ones (SPEC C-9: coins deducted are not sales);
- *returns*: refunds recorded up to the cut-off (the end + 72 h, or now before that);
- *cost*, what the activity cost the seller: the price discount — the SKU's list price less the
  price paid, per unit — plus the coupon discount the seller funded (less the platform's
  subsidy) plus the value of the coins granted for those orders (SPEC C-5, through the coins
  selector);
- *ROI*: net sales (sales − returns) per unit of cost (SPEC C-11's reading of ROI).

The beat task updates each report hourly from the activity's end; from 72 hours after it the
report is final and never recomputed. Set-based: six queries per run for any number of
activities and shops, one upsert.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F

from core import clock
from orders.models import Order, OrderLine, OrderStatus, Refund

from .. import rules
from ..models import Activity, ActivityOrder, ActivityReport, Enrolment

# Activities ended this long ago (beyond the 72 h) still get a final report if the task was down.
LATE_DAYS = 7

FIGURES = (
    "orders",
    "paid_orders",
    "units",
    "sales_minor",
    "returns_minor",
    "returned_orders",
    "discount_minor",
    "coupon_minor",
    "coins_minor",
)


@transaction.atomic
def reports_generate(*, now: datetime | None = None) -> int:
    """Create or update the review reports of activities that ended and are not final yet.
    Returns the number of reports written."""
    from coins.selectors import coins_granted_value_by_order

    now = now or clock.now()
    hours = rules.report_hours()
    ended = {
        a.pk: a
        for a in Activity.objects.filter(
            ends_at__lte=now,
            ends_at__gt=now - timedelta(hours=hours) - timedelta(days=LATE_DAYS),
        )
    }
    if not ended:
        return 0
    final_done = set(
        ActivityReport.objects.filter(activity_id__in=list(ended), final=True).values_list(
            "activity_id", "shop_id"
        )
    )
    keys: set[tuple[int, int]] = set(
        Enrolment.objects.filter(activity_id__in=list(ended))
        .values_list("activity_id", "shop_id")
        .distinct()
    )
    cutoffs = {pk: min(now, a.ends_at + timedelta(hours=hours)) for pk, a in ended.items()}
    records = ActivityOrder.objects.filter(activity_id__in=list(ended))
    orders: list[Any] = list(
        Order.objects.filter(pk__in=records.values("order_id")).values(
            "pk",
            "shop_id",
            "activity_id",
            "currency",
            "status",
            "placed_at",
            "paid_at",
            "amount_paid_minor",
            "coupon_discount_minor",
            "platform_subsidy_minor",
        )
    )
    in_window = {
        o["pk"]: o
        for o in orders
        if rules.in_window(
            placed_at=o["placed_at"],
            starts_at=ended[o["activity_id"]].starts_at,
            ends_at=ended[o["activity_id"]].ends_at,
        )
        and (o["activity_id"], o["shop_id"]) not in final_done
    }
    figures: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    currency: dict[tuple[int, int], str] = {}
    paid: set[int] = set()
    for o in in_window.values():
        key = (o["activity_id"], o["shop_id"])
        keys.add(key)
        currency.setdefault(key, o["currency"])
        f = figures[key]
        f["orders"] += 1
        if o["paid_at"] is not None and o["paid_at"] < cutoffs[o["activity_id"]]:
            paid.add(o["pk"])
            f["paid_orders"] += 1
            f["sales_minor"] += o["amount_paid_minor"]
            f["coupon_minor"] += max(0, o["coupon_discount_minor"] - o["platform_subsidy_minor"])
    ids = list(paid)
    for ln in (
        OrderLine.objects.filter(order_id__in=ids)
        .exclude(order__status=OrderStatus.CANCELLED)
        .values("order_id", "quantity", "unit_price_minor", list_price=F("sku__price_minor"))
    ):
        o = in_window[ln["order_id"]]
        f = figures[(o["activity_id"], o["shop_id"])]
        f["units"] += ln["quantity"]
        f["discount_minor"] += max(0, ln["list_price"] - ln["unit_price_minor"]) * ln["quantity"]
    refunded = (
        Refund.objects.filter(order_id__in=ids)
        .values("order_id", "refunded_at", "amount_minor")
        .order_by()
    )
    returned: set[int] = set()
    for r in refunded:
        o = in_window[r["order_id"]]
        if r["refunded_at"] >= cutoffs[o["activity_id"]]:
            continue
        figures[(o["activity_id"], o["shop_id"])]["returns_minor"] += r["amount_minor"]
        returned.add(r["order_id"])
    for order_id in returned:
        o = in_window[order_id]
        figures[(o["activity_id"], o["shop_id"])]["returned_orders"] += 1
    for order_id, value in coins_granted_value_by_order(order_ids=ids).items():
        o = in_window[order_id]
        figures[(o["activity_id"], o["shop_id"])]["coins_minor"] += value
    shop_currency = dict(
        Enrolment.objects.filter(activity_id__in=list(ended))
        .values_list("shop_id", "currency")
        .distinct()
    )
    rows = []
    for activity_id, shop_id in sorted(keys - final_done):
        key = (activity_id, shop_id)
        rows.append(
            ActivityReport(
                activity_id=activity_id,
                shop_id=shop_id,
                currency=currency.get(key) or shop_currency.get(shop_id, "USD"),
                generated_at=now,
                cutoff=cutoffs[activity_id],
                final=rules.report_final(now=now, ends_at=ended[activity_id].ends_at, hours=hours),
                **figures[key],
            )
        )
    ActivityReport.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["activity", "shop"],
        update_fields=["currency", "generated_at", "cutoff", "final", *FIGURES],
    )
    return len(rows)


def report_totals(reports) -> dict[str, int]:
    """Sums of some reports' figures (same currency), for a page's totals row."""
    return {name: sum(getattr(r, name) for r in reports) for name in FIGURES}


__all__ = ["FIGURES", "report_totals", "reports_generate"]
