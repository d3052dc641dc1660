"""Reads of the promoter portal. Every read that takes an id also takes the promoter and answers
404 for another promoter's object (DESIGN §2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from core import clock
from core.money import Money

from .. import rules
from ..models import (
    Click,
    Commission,
    CommissionStatus,
    Link,
    PayoutLine,
    Pid,
    Programme,
    Promoter,
    PromoterBalance,
    PromoterDocument,
    PromoterNotice,
    PromoterStatus,
)


def notices_for_promoter(*, promoter: Promoter, limit: int = 10) -> list[PromoterNotice]:
    return list(promoter.notices.order_by("-created_at", "-pk")[:limit])


def documents_for_promoter(*, promoter: Promoter) -> dict[str, PromoterDocument]:
    return {
        d.kind: d for d in PromoterDocument.objects.filter(promoter=promoter).select_related("file")
    }


def get_document_for_promoter(*, promoter: Promoter, document_id: int) -> PromoterDocument:
    return get_object_or_404(
        PromoterDocument.objects.select_related("file"), promoter=promoter, pk=document_id
    )


def pids_for_promoter(*, promoter: Promoter) -> QuerySet[Pid]:
    """The promoter's PIDs, newest first, each with its click count (index ``click_pid_at``)."""
    return (
        Pid.objects.filter(promoter=promoter)
        .annotate(click_count=Count("clicks"))
        .order_by("-created_at", "-pk")
    )


def get_pid_for_promoter(*, promoter: Promoter, pid_id: int) -> Pid:
    return get_object_or_404(Pid, promoter=promoter, pk=pid_id)


def links_for_promoter(*, promoter: Promoter) -> QuerySet[Link]:
    return (
        Link.objects.filter(pid__promoter=promoter)
        .select_related("pid", "shop", "product")
        .annotate(click_count=Count("clicks"))
        .order_by("-created_at", "-pk")
    )


def programmes_open() -> QuerySet[Programme]:
    """Shops whose affiliate programme is on, with their shop-wide rate, by name."""
    return (
        Programme.objects.filter(enabled=True)
        .select_related("shop")
        .annotate(
            shop_rate_bp=Sum(
                "shop__affiliate_rates__rate_bp", filter=Q(shop__affiliate_rates__scope="shop")
            )
        )
        .order_by("shop__name", "pk")
    )


def commissions_for_promoter(*, promoter: Promoter, status: str = "") -> QuerySet[Commission]:
    qs = Commission.objects.filter(promoter=promoter).select_related("order", "pid", "shop")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-locked_at", "-pk")


@dataclass(frozen=True)
class StateTotal:
    status: str
    label: str
    count: int
    amount: Money


@dataclass(frozen=True)
class PromoterReport:
    clicks_30d: int
    orders: int
    by_state: list[StateTotal]
    balances: list[Money]


def report_for_promoter(*, promoter: Promoter) -> PromoterReport:
    """Clicks of the last 30 days, attributed orders and commissions by state (net of
    reversals), in three aggregate queries whatever the promoter's size. A promoter earning in
    several currencies gets one row per state and currency."""
    since = clock.now() - timedelta(days=30)
    clicks = Click.objects.filter(pid__promoter=promoter, clicked_at__gte=since).count()
    rows = (
        Commission.objects.filter(promoter=promoter)
        .values("status", "currency")
        .annotate(n=Count("pk"), net_sum=Sum(F("amount_minor") - F("reversed_minor")))
        .order_by("status", "currency")
    )
    labels = dict(CommissionStatus.choices)
    order = list(CommissionStatus.values)
    by_state = sorted(
        (
            StateTotal(
                status=r["status"],
                label=str(labels.get(r["status"], r["status"])),
                count=r["n"],
                amount=Money(int(r["net_sum"] or 0), r["currency"]),
            )
            for r in rows
        ),
        key=lambda t: (order.index(t.status) if t.status in order else 99, t.amount.currency),
    )
    balances = [
        Money(b.balance_minor, b.currency)
        for b in PromoterBalance.objects.filter(promoter=promoter).order_by("currency")
    ]
    return PromoterReport(
        clicks_30d=clicks,
        orders=sum(t.count for t in by_state),
        by_state=by_state,
        balances=balances,
    )


def payout_lines_for_promoter(*, promoter: Promoter) -> QuerySet[PayoutLine]:
    return (
        PayoutLine.objects.filter(promoter=promoter)
        .select_related("batch")
        .annotate(commission_count=Count("items"))
        .order_by("-batch_id", "-pk")
    )


# --- the admins' review queue (SPEC A-1) ---------------------------------------------------------


@dataclass(frozen=True)
class ReviewAge:
    working_days: Decimal
    overdue: bool


def review_age(*, promoter: Promoter, now=None, sla: Decimal | None = None) -> ReviewAge | None:
    """How long the promoter's documents have waited, in working days, against the SLA (1.8
    working days); None when nothing waits for review. A list passes ``now`` and ``sla`` once
    (the SLA is a registry read: a query)."""
    if promoter.status != PromoterStatus.PENDING or promoter.submitted_at is None:
        return None
    age = rules.working_days_between(
        promoter.submitted_at, now or clock.now(), tz=clock.platform_tz()
    )
    sla = rules.review_sla_working_days() if sla is None else sla
    return ReviewAge(
        working_days=age, overdue=rules.review_overdue(age_working_days=age, sla_working_days=sla)
    )
