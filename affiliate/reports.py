"""Reads of the affiliate reports (SPEC A-9): the daily commission report (by day of lock, by PID,
by shop, by status), the pending-commission detail, and the rows of their CSV exports — for the
seller's view (one shop's commissions: ``shop=``) and the promoter portal (one promoter's, in one
currency: ``promoter=`` and ``currency=``; a promoter earns from shops in several currencies).

Days are natural days in the platform time zone (SPEC §0). Amounts are minor units of the
commissions' currency: *pending* is what open commissions (locked, pre-issued, on hold) would
cost net of reversals, *settled* what the shop balance paid (settled and paid out), *reversed*
what refunds took back, *void* counts commissions that will never cost anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from core import clock
from shops.models import Shop

from .models import Commission, CommissionStatus, Promoter

S = CommissionStatus
PENDING = (S.LOCKED, S.PRE_ISSUED, S.ON_HOLD)
PAID = (S.SETTLED, S.PAID_OUT)
WINDOWS = (7, 30, 90)


@dataclass(frozen=True)
class Day:
    day: date
    orders: int = 0
    pending_minor: int = 0
    settled_minor: int = 0
    reversed_minor: int = 0
    void: int = 0


def _sums() -> dict:
    net = F("amount_minor") - F("reversed_minor")
    return {
        "orders": Count("pk"),
        "pending_minor": Coalesce(Sum(net, filter=Q(status__in=PENDING)), 0),
        "settled_minor": Coalesce(Sum("settled_minor", filter=Q(status__in=PAID)), 0),
        "reversed_minor": Coalesce(Sum("reversed_minor"), 0),
        "void": Count("pk", filter=Q(status=S.VOID)),
    }


def commissions(
    *, shop: Shop | None = None, promoter: Promoter | None = None, currency: str = ""
) -> QuerySet[Commission]:
    """Whose commissions a report reads: one shop's or one promoter's (never both, never
    everyone's), optionally in one currency. Indexes ``commission_shop_locked`` and
    ``commission_promoter_locked`` serve the period filters below."""
    if (shop is None) == (promoter is None):
        raise TypeError("a report reads one shop's or one promoter's commissions")
    qs = (
        Commission.objects.filter(shop=shop)
        if shop is not None
        else Commission.objects.filter(promoter=promoter)
    )
    return qs.filter(currency=currency) if currency else qs


def currencies(*, promoter: Promoter, days: int, now: datetime | None = None) -> list[str]:
    """The currencies of the promoter's commissions locked in the period, alphabetically."""
    _, _, start = period(days=days, now=now)
    return list(
        commissions(promoter=promoter)
        .filter(locked_at__gte=start)
        .values_list("currency", flat=True)
        .distinct()
        .order_by("currency")
    )


def period(*, days: int, now: datetime | None = None) -> tuple[date, date, datetime]:
    """The last ``days`` natural days up to today: (first day, today, first day's start)."""
    today = clock.natural_day(now)
    first = today - timedelta(days=days - 1)
    return first, today, clock.day_start(first)


def daily(
    *,
    days: int,
    shop: Shop | None = None,
    promoter: Promoter | None = None,
    currency: str = "",
    now: datetime | None = None,
) -> list[Day]:
    """One row per natural day of the period (days without a commission included), by the day
    the commission was locked. One query."""
    first, today, start = period(days=days, now=now)
    rows = (
        commissions(shop=shop, promoter=promoter, currency=currency)
        .filter(locked_at__gte=start)
        .annotate(day=TruncDate("locked_at", tzinfo=clock.platform_tz()))
        .values("day")
        .annotate(**_sums())
    )
    by_day = {r["day"]: r for r in rows}
    out = []
    for i in range((today - first).days + 1):
        d = first + timedelta(days=i)
        r = by_day.get(d)
        out.append(
            Day(d, **{k: r[k] for k in ("orders", "pending_minor", "settled_minor",
                                        "reversed_minor", "void")})
            if r
            else Day(d)
        )  # fmt: skip
    return out


def totals(rows: list[Day]) -> Day:
    return Day(
        rows[0].day if rows else clock.natural_day(),
        orders=sum(r.orders for r in rows),
        pending_minor=sum(r.pending_minor for r in rows),
        settled_minor=sum(r.settled_minor for r in rows),
        reversed_minor=sum(r.reversed_minor for r in rows),
        void=sum(r.void for r in rows),
    )


def by_status(
    *,
    days: int,
    shop: Shop | None = None,
    promoter: Promoter | None = None,
    currency: str = "",
    now: datetime | None = None,
) -> list[dict]:
    """Commissions locked in the period per status: count, net amount and the report's sums.
    One query."""
    _, _, start = period(days=days, now=now)
    net = Coalesce(Sum(F("amount_minor") - F("reversed_minor")), 0)
    return list(
        commissions(shop=shop, promoter=promoter, currency=currency)
        .filter(locked_at__gte=start)
        .values("status")
        .annotate(net_minor=net, **_sums())
        .order_by("status")
    )


def by_pid(
    *,
    days: int,
    shop: Shop | None = None,
    promoter: Promoter | None = None,
    currency: str = "",
    now: datetime | None = None,
) -> QuerySet:
    """Per PID (and its promoter) over the period, most orders first: for a paginated table."""
    _, _, start = period(days=days, now=now)
    return (
        commissions(shop=shop, promoter=promoter, currency=currency)
        .filter(locked_at__gte=start)
        .values("pid_id", "pid__code", "promoter__name")
        .annotate(**_sums())
        .order_by("-orders", "pid__code")
    )


def by_shop(
    *,
    days: int,
    shop: Shop | None = None,
    promoter: Promoter | None = None,
    currency: str = "",
    now: datetime | None = None,
) -> QuerySet:
    """Per shop over the period, most orders first: for a paginated table (the promoter's
    view: which shops its orders came from)."""
    _, _, start = period(days=days, now=now)
    return (
        commissions(shop=shop, promoter=promoter, currency=currency)
        .filter(locked_at__gte=start)
        .values("shop_id", "shop__name")
        .annotate(**_sums())
        .order_by("-orders", "shop__name", "shop_id")
    )


def pending(
    *, shop: Shop | None = None, promoter: Promoter | None = None, currency: str = ""
) -> QuerySet[Commission]:
    """Open commissions (locked, pre-issued, on hold), newest first, with what each row shows
    at hand."""
    return (
        commissions(shop=shop, promoter=promoter, currency=currency)
        .filter(status__in=PENDING)
        .select_related("order", "pid", "promoter", "shop")
        .order_by("-locked_at", "-pk")
    )
