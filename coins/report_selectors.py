"""Reads behind the issuance-rule pages, the budget guardrail, the grade and the dashboard
(SPEC C-7 preview, C-10, C-11). Every figure is a set-based query: the page's query count does
not grow with the shop's orders, lots or movements (tests/coins/test_dashboard.py pins it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.http import Http404

from core import clock
from core.money import Money
from orders import selectors as order_selectors
from shops.models import Shop, Violation

from . import rules
from .models import (
    CoinAccount,
    CoinBudget,
    CoinFund,
    CoinGrade,
    CoinGrant,
    CoinLot,
    CoinMovement,
    CoinRule,
    MovementKind,
    RuleKind,
)

PREVIEW_DAYS = 30  # SPEC C-7: "what the rule would have cost over the last 30 days"


def coins_money(shop: Shop, coins: int, *, value_minor: int | None = None) -> Money:
    """SPEC C-5: coins' value in the shop currency (1 coin = ¥0.01). A page converting many
    figures reads the registry once and passes ``value_minor``."""
    value = rules.coin_value_minor() if value_minor is None else value_minor
    return Money(coins * value, shop.currency)


def account_for_shop(*, shop: Shop) -> CoinAccount | None:
    return CoinAccount.objects.select_related("fund").filter(shop=shop).first()


def rules_for_shop(*, shop: Shop, status: str = "") -> QuerySet[CoinRule]:
    qs = CoinRule.objects.filter(shop=shop)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def get_rule_for_shop(*, shop: Shop, rule_id: object) -> CoinRule:
    try:
        return CoinRule.objects.get(pk=rule_id, shop=shop)
    except (CoinRule.DoesNotExist, ValueError, TypeError):
        raise Http404("No such rule in this shop.") from None


# --- cost preview (C-7) ----------------------------------------------------------------------


@dataclass(frozen=True)
class CostPreview:
    days: int
    since: datetime
    orders: int  # orders (welcome: buyers) the rule would have granted for
    coins: int  # what it would have granted, capped by its budget
    uncapped_coins: int
    capped_by_budget: bool
    value: Money
    fund_available: Money
    covered: bool  # the fund available today covers it


def rule_cost_preview(
    *,
    shop: Shop,
    kind: str,
    coins: int = 0,
    percent_bp: int = 0,
    threshold_minor: int = 0,
    budget_coins: int | None = None,
    at: datetime | None = None,
) -> CostPreview:
    """SPEC C-7: what a rule would have granted over the shop's last 30 natural days of real
    orders, each figure one aggregate query in orders' selectors (never an order loop). Each
    rule is previewed on its own, before stacking with the shop's other rules."""
    at = at or clock.now()
    since = clock.day_start(clock.natural_day(at) - timedelta(days=PREVIEW_DAYS - 1))
    if kind == RuleKind.WELCOME:
        n = order_selectors.first_paid_buyers(shop=shop, since=since, until=at)
        total = n * coins
    elif kind == RuleKind.SPEND_THRESHOLD:
        n = order_selectors.paid_orders_figures(
            shop=shop, since=since, until=at, min_paid_minor=max(1, threshold_minor)
        ).orders
        total = n * coins
    elif kind == RuleKind.COMPLETION_CASHBACK and percent_bp:
        n, total = order_selectors.completed_orders_share(
            shop=shop,
            since=since,
            until=at,
            share_bp=percent_bp,
            unit_minor=rules.coin_value_minor(),
        )
    elif kind == RuleKind.COMPLETION_CASHBACK:
        n, _units = order_selectors.completed_orders_share(
            shop=shop, since=since, until=at, share_bp=0, unit_minor=1
        )
        total = n * coins
    else:  # instant cashback on payment
        n = order_selectors.paid_orders_figures(shop=shop, since=since, until=at).orders
        total = n * coins
    capped = min(total, budget_coins) if budget_coins else total
    fund = CoinFund.objects.filter(shop=shop).values_list("available", flat=True).first() or 0
    return CostPreview(
        days=PREVIEW_DAYS,
        since=since,
        orders=n,
        coins=capped,
        uncapped_coins=total,
        capped_by_budget=capped < total,
        value=coins_money(shop, capped),
        fund_available=coins_money(shop, fund),
        covered=fund >= capped,
    )


# --- budget guardrail ------------------------------------------------------------------------


def month_start(at: datetime | None = None) -> date:
    return clock.natural_day(at).replace(day=1)


def next_month(month: date) -> date:
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


@dataclass(frozen=True)
class Guardrail:
    ceiling: int | None
    issued: int  # coins granted this calendar month
    month: date

    @property
    def reached(self) -> bool:
        return self.ceiling is not None and self.issued >= self.ceiling

    @property
    def left(self) -> int | None:
        return None if self.ceiling is None else max(0, self.ceiling - self.issued)

    @property
    def percent(self) -> int:
        if not self.ceiling:
            return 0
        return min(100, self.issued * 100 // self.ceiling)


def guardrail_for_shop(*, shop: Shop, at: datetime | None = None) -> Guardrail:
    """This month's issuance against the ceiling: the ceiling row's counter when it is this
    month's, otherwise an aggregate of this month's grants (one or two queries)."""
    month = month_start(at)
    budget = CoinBudget.objects.filter(shop=shop).first()
    if budget is not None and budget.month == month:
        return Guardrail(budget.ceiling_coins, budget.issued_coins, month)
    return Guardrail(
        budget.ceiling_coins if budget else None, month_grants(shop=shop, month=month), month
    )


def month_grants(*, shop: Shop, month: date) -> int:
    return int(
        CoinGrant.objects.filter(
            shop=shop,
            created_at__gte=clock.day_start(month),
            created_at__lt=clock.day_start(next_month(month)),
        ).aggregate(n=Sum("coins"))["n"]
        or 0
    )


# --- grade (C-10) ----------------------------------------------------------------------------


def activity_participation(*, shop: Shop, month: date) -> int:
    """SPEC C-10: the marketing activities (SPEC §5) the shop took part in during ``month``
    (calendar month, platform time zone), read through the activities module's selector."""
    from activities.selectors import activities_joined

    return activities_joined(
        shop=shop, since=clock.day_start(month), until=clock.day_start(next_month(month))
    )


@dataclass(frozen=True)
class GradeInputs:
    month: date
    issued: int
    redeemed: int
    participation: int


def grade_inputs(*, shop: Shop, month: date) -> GradeInputs:
    """Coins issued (grants) and redeemed (checkout) in the calendar month: one aggregate over
    the movements (index shop + kind + created_at)."""
    row = CoinMovement.objects.filter(
        shop=shop,
        kind__in=[MovementKind.GRANT, MovementKind.REDEEM],
        created_at__gte=clock.day_start(month),
        created_at__lt=clock.day_start(next_month(month)),
    ).aggregate(
        issued=Sum("coins", filter=Q(kind=MovementKind.GRANT)),
        redeemed=Sum("coins", filter=Q(kind=MovementKind.REDEEM)),
    )
    return GradeInputs(
        month,
        int(row["issued"] or 0),
        int(row["redeemed"] or 0),
        activity_participation(shop=shop, month=month),
    )


def latest_grade(*, shop: Shop) -> CoinGrade | None:
    return CoinGrade.objects.filter(shop=shop).order_by("-month").first()


def grade_history(*, shop: Shop, months: int = 12) -> list[CoinGrade]:
    return list(CoinGrade.objects.filter(shop=shop).order_by("-month")[:months])


# --- dashboard (C-11) ------------------------------------------------------------------------


@dataclass(frozen=True)
class DayCoins:
    day: date
    issued: int
    redeemed: int
    expired: int


def daily_coins(*, shop: Shop, days: int, at: datetime | None = None) -> list[DayCoins]:
    """Issued, redeemed and expired coins per natural day of the window, zero-filled: one
    grouped query over the movements."""
    tz = clock.platform_tz()
    today = clock.natural_day(at)
    first = today - timedelta(days=days - 1)
    rows = (
        CoinMovement.objects.filter(
            shop=shop,
            kind__in=[MovementKind.GRANT, MovementKind.REDEEM, MovementKind.EXPIRE],
            created_at__gte=clock.day_start(first),
        )
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "kind")
        .annotate(n=Sum("coins"))
        .order_by()
    )
    by = {(r["day"], r["kind"]): int(r["n"]) for r in rows}
    out = []
    for i in range(days):
        d = first + timedelta(days=i)
        out.append(
            DayCoins(
                d,
                by.get((d, MovementKind.GRANT), 0),
                by.get((d, MovementKind.REDEEM), 0),
                by.get((d, MovementKind.EXPIRE), 0),
            )
        )
    return out


@dataclass(frozen=True)
class CoinTotals:
    issued: int  # committed (gross grants)
    redeemed: int  # gross redemptions at checkout
    expired: int
    outstanding: int  # held by buyers = the fund's reservation
    spent: int  # actual cost (redemptions less coins returned on refunds)
    available: int
    expiring_30: int
    expiring_60: int
    expiring_180: int

    @property
    def redemption_percent(self) -> Decimal | None:
        if not self.issued:
            return None
        return (Decimal(self.redeemed) * 100 / self.issued).quantize(Decimal("0.1"))


def coin_totals(*, shop: Shop, at: datetime | None = None) -> CoinTotals:
    """All-time totals by movement kind (one query), the fund (one) and what the unspent lots
    expire in the next 30/60/180 days (one)."""
    at = at or clock.now()
    kinds = dict(
        CoinMovement.objects.filter(shop=shop)
        .values("kind")
        .annotate(n=Sum("coins"))
        .order_by()
        .values_list("kind", "n")
    )
    fund = CoinFund.objects.filter(shop=shop).first()
    soon = CoinLot.objects.filter(shop=shop, remaining__gt=0).aggregate(
        d30=Sum("remaining", filter=Q(expires_at__lt=at + timedelta(days=30))),
        d60=Sum("remaining", filter=Q(expires_at__lt=at + timedelta(days=60))),
        d180=Sum("remaining", filter=Q(expires_at__lt=at + timedelta(days=180))),
    )
    return CoinTotals(
        issued=int(kinds.get(MovementKind.GRANT, 0)),
        redeemed=int(kinds.get(MovementKind.REDEEM, 0)),
        expired=int(kinds.get(MovementKind.EXPIRE, 0)),
        outstanding=fund.reserved if fund else 0,
        spent=fund.spent if fund else 0,
        available=fund.available if fund else 0,
        expiring_30=int(soon["d30"] or 0),
        expiring_60=int(soon["d60"] or 0),
        expiring_180=int(soon["d180"] or 0),
    )


def rules_roi(*, shop: Shop) -> QuerySet[CoinRule]:
    """SPEC C-11 ROI per rule: the coins each rule granted (its cost) against the GMV (paid
    less refunded) of the orders it granted for — one grouped query per page of rules."""
    return (
        CoinRule.objects.filter(shop=shop)
        .annotate(
            touched_paid=Coalesce(Sum("grants__order__amount_paid_minor"), 0),
            touched_refunded=Coalesce(Sum("grants__order__refunded_minor"), 0),
        )
        .annotate(touched_gmv=F("touched_paid") - F("touched_refunded"))
        .order_by("-granted_coins", "-id")
    )


def coin_use_comparison(*, shop: Shop, days: int, at: datetime | None = None):
    at = at or clock.now()
    since = clock.day_start(clock.natural_day(at) - timedelta(days=days - 1))
    return order_selectors.orders_by_coin_use(shop=shop, since=since, until=at)


# --- tile ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TileSummary:
    account: CoinAccount
    outstanding: int
    available: int
    guardrail: Guardrail


@dataclass(frozen=True)
class TileState:
    summary: TileSummary | None  # None: no coin account yet
    violations: int  # serious violations in the C-1 window (for the opening checks)


def tile_state(*, shop: Shop, at: datetime | None = None) -> TileState:
    """The home tile's reads: one query on the shop row for whether it has a coin account, this
    month's grants and the serious violations the opening checks count (the filter of
    ``shops.selectors.serious_violations``, C-1(c)); with an account, a second for the account,
    its fund and its ceiling row. The tile stays within its two queries."""
    at = at or clock.now()
    month = month_start(at)
    window = timedelta(days=rules.violation_window_days())
    month_sum = (
        CoinGrant.objects.filter(
            shop=OuterRef("pk"),
            created_at__gte=clock.day_start(month),
            created_at__lt=clock.day_start(next_month(month)),
        )
        .order_by()
        .values("shop")
        .annotate(n=Sum("coins"))
        .values("n")
    )
    violations = (
        Violation.objects.filter(
            shop=OuterRef("pk"), serious=True, occurred_at__gt=at - window, occurred_at__lte=at
        )
        .order_by()
        .values("shop")
        .annotate(n=Count("id"))
        .values("n")
    )
    row = (
        Shop.objects.filter(pk=shop.pk)
        .annotate(
            account_pk=Subquery(CoinAccount.objects.filter(shop=OuterRef("pk")).values("pk")[:1]),
            month_issued=Subquery(month_sum),
            serious_count=Subquery(violations),
        )
        .values("account_pk", "month_issued", "serious_count")
        .get()
    )
    n = int(row["serious_count"] or 0)
    if row["account_pk"] is None:
        return TileState(None, n)
    account = CoinAccount.objects.select_related("fund", "shop__coin_budget").get(
        pk=row["account_pk"]
    )
    budget = getattr(account.shop, "coin_budget", None)
    if budget is not None and budget.month == month:
        guardrail = Guardrail(budget.ceiling_coins, budget.issued_coins, month)
    else:
        ceiling = budget.ceiling_coins if budget is not None else None
        guardrail = Guardrail(ceiling, int(row["month_issued"] or 0), month)
    fund = account.fund
    return TileState(TileSummary(account, fund.reserved, fund.available, guardrail), n)
