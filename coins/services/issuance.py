"""Issuance (SPEC C-5, C-7): grants reserve coins in the fund and put a lot in the buyer's
wallet; each is tied to its rule and order, once per (rule, order)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q

from buyers.models import RiskStatus
from core import clock
from core.errors import DomainError
from orders.models import Order

from .. import rules
from ..models import (
    CoinAccount,
    CoinGrant,
    CoinLot,
    CoinRule,
    LedgerAccount,
    LotSource,
    MovementKind,
    RuleKind,
    RuleStatus,
)
from .budget import ceiling_reached_notify, check_ceiling, count_grant, lock_budget
from .ledger import lock_fund, lock_wallet, move, require_active, save_balances

log = logging.getLogger(__name__)

ON_PAID = (RuleKind.WELCOME, RuleKind.INSTANT_CASHBACK, RuleKind.SPEND_THRESHOLD)
ON_COMPLETED = (RuleKind.COMPLETION_CASHBACK,)


@transaction.atomic
def grant_issue(*, rule_id: int, order: Order, coins: object) -> CoinGrant:
    """Grant ``coins`` under rule ``rule_id`` for ``order``: reserve them in the fund (C-5) and
    add a lot expiring after the lot lifetime (C-6). Idempotent per (rule, order): a second
    call returns the first grant. Refused (nothing written) when the account is paused, the
    rule is stopped or out of budget, the month's issuance ceiling would be passed, or the fund
    cannot cover the coins. Locks: fund → budget → rule → wallet (DESIGN §3)."""
    n = rules.check_coins(coins, what="grant")
    fund = lock_fund(shop_id=order.shop_id)
    now = clock.now()
    budget = lock_budget(shop_id=order.shop_id, now=now)
    rule = CoinRule.objects.select_for_update().filter(pk=rule_id, shop_id=order.shop_id).first()
    if rule is None:
        raise DomainError("No such rule in this shop.", code="not_found")
    first = CoinGrant.objects.filter(rule=rule, order=order).first()
    if first is not None:
        return first
    require_active(fund)
    if rule.status != RuleStatus.ACTIVE:
        raise DomainError(f"The rule {rule.name!r} is stopped.", code="coins_rule_stopped")
    if rule.granted_coins + n > rule.budget_coins:
        raise DomainError(
            f"The rule {rule.name!r} has {rule.budget_coins - rule.granted_coins} coins of "
            f"budget left, fewer than {n}.",
            code="coins_budget_exhausted",
        )
    check_ceiling(budget, n)  # the guardrail: exactly at the ceiling passes, one over does not
    if fund.available < n:
        raise DomainError(
            f"The coin fund has {fund.available} coins available, fewer than the {n} to "
            "issue: top it up from the shop balance.",
            code="coins_fund_insufficient",
        )
    wallet = lock_wallet(fund=fund, buyer_id=order.buyer_id, create=True)
    assert wallet is not None
    try:
        with transaction.atomic():
            grant = CoinGrant.objects.create(
                rule=rule,
                order=order,
                shop_id=order.shop_id,
                buyer_id=order.buyer_id,
                coins=n,
                refunded_before_minor=order.refunded_minor,  # C-8: later refunds claw back
                created_at=now,
            )
    except IntegrityError:  # backstop: the (rule, order) key is taken
        return CoinGrant.objects.get(rule=rule, order=order)
    CoinLot.objects.create(
        wallet=wallet,
        shop_id=order.shop_id,
        source=LotSource.GRANT,
        granted=n,
        remaining=n,
        expires_at=now + rules.lot_lifetime(),
        grant=grant,
        rule=rule,
        order=order,
        created_at=now,
    )
    move(
        fund=fund,
        kind=MovementKind.GRANT,
        coins=n,
        source=LedgerAccount.FUND_AVAILABLE,
        target=LedgerAccount.WALLET,
        wallet=wallet,
        key=f"grant:{grant.pk}",
        order_id=order.pk,
        memo=f"rule {rule.pk} order {order.number}",
    )
    rule.granted_coins += n
    spent = rules.budget_spent(
        granted=rule.granted_coins, budget=rule.budget_coins, per_grant=rule.coins
    )
    if spent:
        rule.status = RuleStatus.STOPPED  # C-7: a rule stops when its budget is spent
    rule.save(update_fields=["granted_coins", "status"])
    save_balances(fund, wallet)
    count_grant(budget, n)
    if spent:
        _tell_rule_stopped(rule)
    return grant


@transaction.atomic
def rule_budget_stop(*, shop_id: int, rule_id: int, coins: int) -> bool:
    """After a grant of ``coins`` was refused for lack of budget (own transaction: the refused
    grant's savepoint rolled back): C-7, the rule stops — its budget cannot cover a grant —
    and the owners hear about it. True when this call stopped it. Locks: fund → rule."""
    lock_fund(shop_id=shop_id)
    rule = CoinRule.objects.select_for_update().filter(pk=rule_id, shop_id=shop_id).first()
    if rule is None or rule.status != RuleStatus.ACTIVE:
        return False
    if rule.budget_coins - rule.granted_coins >= coins:
        return False  # the budget was raised meanwhile: the next order may be granted
    rule.status = RuleStatus.STOPPED
    rule.save(update_fields=["status"])
    _tell_rule_stopped(rule)
    return True


def _first_paid_order(order: Order) -> bool:
    """C-7 welcome: no earlier paid order of this buyer in this shop."""
    earlier = Order.objects.filter(
        shop_id=order.shop_id, buyer_id=order.buyer_id, paid_at__isnull=False
    ).filter(Q(paid_at__lt=order.paid_at) | Q(paid_at=order.paid_at, pk__lt=order.pk))
    return not earlier.exists()


def rule_coins(*, rule: CoinRule, order: Order) -> int:
    """What ``rule`` grants for ``order`` (0: it does not apply)."""
    if rule.kind == RuleKind.WELCOME:
        buyer = order.buyer
        if buyer.low_activity or buyer.risk_status == RiskStatus.RISK_REVIEW:
            return 0  # C-7: no welcome grant for low-activity buyers or buyers in risk review
        return rule.coins if _first_paid_order(order) else 0
    if rule.kind == RuleKind.SPEND_THRESHOLD:
        return rule.coins if order.amount_paid_minor >= rule.threshold_minor else 0
    if rule.kind == RuleKind.COMPLETION_CASHBACK and rule.percent_bp:
        return rules.cashback_coins(
            paid_minor=order.amount_paid_minor - order.refunded_minor,
            percent_bp=rule.percent_bp,
            coin_value_minor=rules.coin_value_minor(),
        )
    return rule.coins


def order_grants_apply(*, order_id: int, kinds: tuple[str, ...], at: datetime) -> list[CoinGrant]:
    """Every active rule of ``kinds`` whose window holds ``at`` grants for the order, stacking
    as configured (C-7): a non-stackable rule grants only on an order with no other grant, and
    no rule adds to an order a non-stackable rule granted for. A grant the fund, budget or
    account refuses is skipped (logged), the others still apply."""
    order = Order.objects.select_related("buyer").get(pk=order_id)
    account = CoinAccount.objects.filter(shop_id=order.shop_id).first()
    if account is None or not account.active:
        return []  # C-2: a paused account issues nothing
    candidates = CoinRule.objects.filter(
        shop_id=order.shop_id, status=RuleStatus.ACTIVE, kind__in=kinds, starts_at__lte=at
    ).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
    made = []
    for rule in candidates.order_by("pk"):
        existing = list(CoinGrant.objects.filter(order=order).select_related("rule"))
        if any(g.rule_id == rule.pk for g in existing):
            continue
        if existing and (not rule.stackable or any(not g.rule.stackable for g in existing)):
            continue
        coins = rule_coins(rule=rule, order=order)
        if coins <= 0:
            continue
        try:
            with transaction.atomic():
                made.append(grant_issue(rule_id=rule.pk, order=order, coins=coins))
        except DomainError as exc:
            log.warning("coin rule %s skipped for order %s: %s", rule.pk, order.pk, exc.code)
            if exc.code == "coins_fund_insufficient":
                _tell_fund_low(order=order, rule=rule, coins=coins)
            elif exc.code == "coins_budget_exhausted":
                rule_budget_stop(shop_id=order.shop_id, rule_id=rule.pk, coins=coins)
            elif exc.code == "coins_ceiling_reached":
                ceiling_reached_notify(shop_id=order.shop_id)
    return made


def _tell_fund_low(*, order: Order, rule: CoinRule, coins: int) -> None:
    """C-5: issuance the fund cannot cover is refused — and the shop's owners hear about it."""
    from shops.models import NotificationKind, Role
    from shops.services import notify

    notify(
        shop=order.shop,
        kind=NotificationKind.BALANCE,
        roles=[Role.OWNER],
        message="coins.fund_low",
        params={"rule": rule.name, "coins": coins, "order": order.number},
        link="/coins/",
    )


def _tell_rule_stopped(rule: CoinRule) -> None:
    """C-7: a rule stopped by its budget — the shop's owners are told why, with what it granted."""
    from shops.models import NotificationKind, Role
    from shops.services import notify

    notify(
        shop=rule.shop,
        kind=NotificationKind.AUTO_PAUSE,
        roles=[Role.OWNER],
        message="coins.rule_budget_spent",
        params={
            "rule": rule.name,
            "granted": rule.granted_coins,
            "budget": rule.budget_coins,
        },
        link="/coins/rules/",
    )
