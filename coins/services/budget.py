"""The budget guardrail (SPEC C-11 with C-5/C-7): a shop's monthly issuance ceiling. Reaching
it pauses issuance (not the account: deduction goes on) until the next calendar month in the
platform time zone, or until the ceiling is raised; the owners hear about it once a month."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction

from core import clock
from core.errors import DomainError
from shops.models import Shop

from .. import rules
from ..models import CoinAccount, CoinBudget
from .ledger import lock_fund


def month_of(at: datetime | None = None) -> date:
    """The first day of ``at``'s calendar month in the platform time zone."""
    return clock.natural_day(at).replace(day=1)


def month_issued(*, shop_id: int, month: date) -> int:
    """Coins granted in ``month`` (grants' time, platform time zone): one aggregate."""
    from ..report_selectors import month_grants

    return month_grants(shop=Shop(pk=shop_id), month=month)


def lock_budget(*, shop_id: int, now: datetime) -> CoinBudget | None:
    """The shop's ceiling row, locked after the fund (lock order fund → budget → rule → wallet
    → lots), its month counter rolled over to ``now``'s month. None: no ceiling ever set."""
    budget = CoinBudget.objects.select_for_update().filter(shop_id=shop_id).first()
    if budget is not None:
        month = month_of(now)
        if budget.month != month:
            budget.month, budget.issued_coins = month, 0
    return budget


def check_ceiling(budget: CoinBudget | None, coins: int) -> None:
    """Refuse a grant of ``coins`` that would take the month over the ceiling: exactly at the
    ceiling is allowed, one coin over is not (the caller holds the budget lock)."""
    if budget is None or budget.ceiling_coins is None:
        return
    left = budget.ceiling_coins - budget.issued_coins
    if coins > left:
        raise DomainError(
            f"The monthly issuance ceiling of {budget.ceiling_coins} coins is reached "
            f"({max(0, left)} left this month, fewer than {coins}): issuance resumes next month "
            "or when the ceiling is raised.",
            code="coins_ceiling_reached",
        )


def count_grant(budget: CoinBudget | None, coins: int) -> None:
    """Add a grant to the month's count; when it reaches the ceiling, tell the owners (once)."""
    if budget is None:
        return
    budget.issued_coins += coins
    budget.save(update_fields=["month", "issued_coins"])
    if budget.ceiling_coins is not None and budget.issued_coins >= budget.ceiling_coins:
        notify_ceiling_reached(budget)


def notify_ceiling_reached(budget: CoinBudget) -> bool:
    """Tell the shop's owners that issuance is paused for the month; once per month (the
    caller holds the budget lock). True when this call sent the notice."""
    from shops.models import NotificationKind, Role
    from shops.services import notify

    if budget.notified_month == budget.month:
        return False
    budget.notified_month = budget.month
    budget.save(update_fields=["month", "issued_coins", "notified_month"])
    notify(
        shop=budget.shop,
        kind=NotificationKind.AUTO_PAUSE,
        roles=[Role.OWNER],
        message="coins.ceiling_reached",
        params={"issued": budget.issued_coins, "ceiling": budget.ceiling_coins},
        link="/coins/rules/",
    )
    return True


@transaction.atomic
def ceiling_reached_notify(*, shop_id: int) -> bool:
    """After a grant was refused at the ceiling: the once-a-month notice (own transaction,
    since the refused grant's savepoint rolled back)."""
    fund = lock_fund(shop_id=shop_id)
    budget = lock_budget(shop_id=fund.shop_id, now=clock.now())
    if budget is None or budget.ceiling_coins is None:
        return False
    if budget.issued_coins < budget.ceiling_coins and budget.notified_month == budget.month:
        return False
    return notify_ceiling_reached(budget)


@transaction.atomic
def ceiling_set(*, shop: Shop, ceiling_coins: object) -> CoinBudget:
    """Set (or with None, remove) the shop's monthly issuance ceiling. Raising it above what
    the month has issued resumes issuance at once; the month's count is taken from the grants
    when the ceiling is first set."""
    if ceiling_coins is not None:
        ceiling_coins = rules.check_coins(ceiling_coins, what="monthly ceiling")
    if not CoinAccount.objects.filter(shop=shop).exists():
        raise DomainError("Open the coin account first.", code="coins_no_account")
    fund = lock_fund(shop_id=shop.pk)  # serialises with grants (they count under this lock)
    now = clock.now()
    budget = lock_budget(shop_id=fund.shop_id, now=now)
    if budget is None:
        month = month_of(now)
        budget = CoinBudget(
            shop=shop, month=month, issued_coins=month_issued(shop_id=shop.pk, month=month)
        )
    budget.ceiling_coins = ceiling_coins
    if ceiling_coins is None or budget.issued_coins < ceiling_coins:
        budget.notified_month = None  # raised: a later reach this month is told again
    budget.updated_at = now
    budget.save()
    return budget
