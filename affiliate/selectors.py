"""Reads of the affiliate module."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Case, Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _

from core import clock
from core.checks import Check
from core.money import Money
from shops.models import Shop

from . import rules
from .models import Commission, CommissionRate, Programme, RateScope


def programme_checks(*, shop: Shop) -> list[Check]:
    """SPEC A-2: a shop can enable its affiliate programme only from a minimum store level."""
    min_level = rules.min_store_level()
    ok = shop.store_level >= min_level
    return [
        Check(
            code="a2_store_level",
            label=_("Store level"),
            passed=ok,
            measured=f"L{shop.store_level}",
            required=f"≥ L{min_level}",
            detail=""
            if ok
            else _("Store level L%(level)s < L%(min)s")
            % {"level": shop.store_level, "min": min_level},
            fix=""
            if ok
            else _(
                "The marketplace raises a shop's level as its sales grow and its service "
                "scores stay high: ship on time and keep cancellations low. Your dashboard "
                "shows the figures that count."
            ),
            fix_url="" if ok else reverse("home"),
            fix_link="" if ok else _("Dashboard"),
        )
    ]


# --- the seller's programme (SPEC: the seller's view) ---------------------------------

OPEN_STATUSES = ("locked", "pre_issued", "on_hold")
PAID_STATUSES = ("settled", "paid_out")


def programme_for_shop(*, shop: Shop) -> Programme | None:
    return Programme.objects.filter(shop=shop).first()


def rates_for_shop(*, shop: Shop) -> list[CommissionRate]:
    """The shop's rates, shop-wide first, then categories, then products."""
    order = Case(
        When(scope=RateScope.SHOP, then=Value(0)),
        When(scope=RateScope.CATEGORY, then=Value(1)),
        default=Value(2),
    )
    return list(
        CommissionRate.objects.filter(shop=shop)
        .select_related("product")
        .order_by(order, "category", "product__title", "pk")
    )


@dataclass(frozen=True)
class CommissionSummary:
    orders: int
    pending: Money  # locked, pre-issued or on hold: what may still be debited
    settled: Money  # debited from the shop balance
    reversed: Money


def commission_summary(*, shop: Shop) -> CommissionSummary:
    """One aggregate query over the shop's commissions (index ``commission_shop_locked``)."""
    zero = Value(0)
    row = Commission.objects.filter(shop=shop).aggregate(
        orders=Count("pk"),
        pending=Coalesce(
            Sum(F("amount_minor") - F("reversed_minor"), filter=Q(status__in=OPEN_STATUSES)), zero
        ),
        settled=Coalesce(Sum("settled_minor", filter=Q(status__in=PAID_STATUSES)), zero),
        reversed=Coalesce(Sum("reversed_minor"), zero),
    )
    return CommissionSummary(
        orders=row["orders"],
        pending=Money(int(row["pending"]), shop.currency),
        settled=Money(int(row["settled"]), shop.currency),
        reversed=Money(int(row["reversed"]), shop.currency),
    )


def commissions_for_shop(*, shop: Shop, status: str = "") -> QuerySet[Commission]:
    """The shop's attributed orders, newest first (index ``commission_shop_locked``)."""
    qs = Commission.objects.filter(shop=shop).select_related("order", "pid", "promoter")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-locked_at", "-pk")


def get_commission_for_shop(*, shop: Shop, commission_id: int) -> Commission:
    """One commission of ``shop`` with its order, click and link; 404 for another shop's."""
    return get_object_or_404(
        Commission.objects.select_related("order", "pid", "promoter", "click__link"),
        shop=shop,
        pk=commission_id,
    )


def promoters_for_shop(*, shop: Shop):
    """The promoters who brought the shop orders: orders, net commission, last order."""
    return (
        Commission.objects.filter(shop=shop)
        .values("promoter_id", "promoter__name")
        .annotate(
            orders=Count("pk"),
            net_total=Sum(F("amount_minor") - F("reversed_minor")),
            last=Max("locked_at"),
        )
        .order_by("-last", "promoter_id")
    )


@dataclass(frozen=True)
class TileSummary:
    """The home tile of a shop with a programme: whether it runs, its commissions waiting for
    the balance (A-7) and the last ``TILE_DAYS`` days' attributed orders (by lock time), their
    promoters and their commission net of reversals (void ones cost nothing)."""

    enabled: bool
    blocked: int
    orders: int
    promoters: int
    commission: Money


TILE_DAYS = 30


def tile_summary(*, shop: Shop, now=None) -> TileSummary | None:
    """None without a programme (one query); else two: the programme with its blocked
    settlements, and the window's aggregate (index ``commission_shop_locked``)."""
    blocked = (
        Commission.objects.filter(
            shop=OuterRef("shop"), status="pre_issued", settle_blocked_at__isnull=False
        )
        .order_by()
        .values("shop")
        .annotate(n=Count("pk"))
        .values("n")
    )
    row = (
        Programme.objects.filter(shop=shop)
        .annotate(blocked=Coalesce(Subquery(blocked), Value(0)))
        .values("enabled", "blocked")
        .first()
    )
    if row is None:
        return None
    since = clock.now() if now is None else now
    since = since - timedelta(days=TILE_DAYS)
    window = Commission.objects.filter(shop=shop, locked_at__gte=since).aggregate(
        orders=Count("pk"),
        promoters=Count("promoter_id", distinct=True),
        net=Coalesce(
            Sum(F("amount_minor") - F("reversed_minor"), filter=~Q(status="void")), Value(0)
        ),
    )
    return TileSummary(
        enabled=row["enabled"],
        blocked=int(row["blocked"]),
        orders=window["orders"],
        promoters=window["promoters"],
        commission=Money(int(window["net"]), shop.currency),
    )


def pre_issue_latency_p99_ms(*, since) -> int | None:
    """SPEC A-6: the 99th percentile of payment → pre-issue latency of commissions pre-issued
    since ``since`` (target < 1 h), for the admins. Two indexed queries, any database."""
    qs = Commission.objects.filter(
        pre_issued_at__gte=since, pre_issue_latency_ms__isnull=False
    ).order_by("pre_issue_latency_ms")
    n = qs.count()
    if not n:
        return None
    index = min(n - 1, -(-99 * n // 100) - 1)  # nearest-rank percentile
    return qs.values_list("pre_issue_latency_ms", flat=True)[index]
