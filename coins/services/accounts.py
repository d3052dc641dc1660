"""Coin account (C-1, C-2), fund top-ups (C-5), product deduction settings (C-3) and issuance
rules (C-7)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction

from core import clock
from core.checks import all_passed
from core.errors import DomainError
from core.money import Money
from shops.models import Product, ReviewStatus, Shop
from shops.notices import Reason
from shops.services import balance_debit

from .. import rules
from ..models import (
    AccountStatus,
    CoinAccount,
    CoinFund,
    CoinMovement,
    CoinProductSetting,
    CoinRule,
    LedgerAccount,
    MovementKind,
    RuleKind,
    RuleStatus,
)
from ..selectors import opening_checks
from .ledger import lock_fund, move, save_balances

KEY_MAX = 150  # the caller's part of an idempotency key
NAME_MAX = 120
MAX_PRODUCTS_PER_EDIT = 1000


def coin_id_for(shop: Shop) -> str:
    """A shop's coin ID: stable, readable, unique (the shop's primary key)."""
    return f"SC-C{shop.pk:08d}"


@transaction.atomic
def account_open(*, shop: Shop) -> CoinAccount:
    """SPEC C-1: the shop opens its coin account itself; the checks are automatic. Every failed
    condition is in the error with its measured value. Opening twice returns the account."""
    existing = CoinAccount.objects.filter(shop=shop).first()
    if existing is not None:
        return existing
    checks = opening_checks(shop=shop)
    if not all_passed(checks):
        failed = [
            f"{c.label}: {c.measured} (required {c.required})"
            + (f" — {c.detail}" if c.detail else "")
            for c in checks
            if c.passed is not True
        ]
        raise DomainError(
            "The coin account cannot be opened: " + "; ".join(failed), code="coins_not_eligible"
        )
    now = clock.now()
    try:
        with transaction.atomic():
            account = CoinAccount.objects.create(
                shop=shop, coin_id=coin_id_for(shop), opened_at=now, status_changed_at=now
            )
            CoinFund.objects.create(account=account, shop=shop)
    except IntegrityError:  # a concurrent opening won: one account per shop
        return CoinAccount.objects.get(shop=shop)
    return account


def _set_status(*, shop: Shop, status: str) -> CoinAccount:
    fund = lock_fund(shop_id=shop.pk)  # serialises with every grant and redemption (C-2)
    account = fund.account
    if account.status != status:
        account.status = status
        account.status_changed_at = clock.now()
        account.save(update_fields=["status", "status_changed_at"])
    return account


@transaction.atomic
def account_pause(*, shop: Shop) -> CoinAccount:
    """SPEC C-2: stop new issuance and deduction; history, balances and expiry run on."""
    return _set_status(shop=shop, status=AccountStatus.PAUSED)


@transaction.atomic
def account_resume(*, shop: Shop) -> CoinAccount:
    """SPEC C-2: issuance and deduction again."""
    return _set_status(shop=shop, status=AccountStatus.ACTIVE)


@transaction.atomic
def fund_top_up(*, shop: Shop, amount: Money, idempotency_key: str) -> CoinMovement:
    """SPEC C-5: move money from the shop balance into the coin fund, as coins (1 coin = ¥0.01).
    The shop balance debit and the fund credit are one transaction; a key used again returns
    the first top-up (another amount under the same key is refused)."""
    if not isinstance(idempotency_key, str) or not 0 < len(idempotency_key) <= KEY_MAX:
        raise DomainError(
            f"An idempotency key is a string of 1 to {KEY_MAX} characters.",
            code="invalid_idempotency_key",
        )
    if not isinstance(amount, Money):
        raise DomainError("A top-up amount must be Money.", code="coins_invalid_amount")
    if amount.currency != shop.currency:
        raise DomainError(
            f"The amount is in {amount.currency}; the shop's balance is in {shop.currency}.",
            code="currency_mismatch",
        )
    value = rules.coin_value_minor()
    if amount.amount <= 0 or amount.amount % value:
        raise DomainError(
            "A top-up must be a positive amount worth a whole number of coins.",
            code="coins_invalid_amount",
        )
    coins = rules.check_coins(amount.amount // value, what="top-up")
    key = f"coins-top-up:{shop.pk}:{idempotency_key}"

    def replay(first: CoinMovement) -> CoinMovement:
        if first.coins != coins or first.kind != MovementKind.TOP_UP:
            raise DomainError(
                f"Idempotency key {idempotency_key!r} was already used for another top-up.",
                code="idempotency_key_reused",
            )
        return first

    first = CoinMovement.objects.filter(idempotency_key=key).first()
    if first is not None:
        return replay(first)
    fund = lock_fund(shop_id=shop.pk)
    first = CoinMovement.objects.filter(idempotency_key=key).first()  # a racer committed first
    if first is not None:
        return replay(first)
    balance_debit(shop=shop, amount=amount, reason=Reason("coins.fund_top_up"), idempotency_key=key)
    movement = move(
        fund=fund,
        kind=MovementKind.TOP_UP,
        coins=coins,
        source=LedgerAccount.SHOP_BALANCE,
        target=LedgerAccount.FUND_AVAILABLE,
        key=key,
        memo=f"top-up {amount.format()}",
    )
    save_balances(fund)
    return movement


def _product_ids(product_ids: Iterable[object]) -> list[int]:
    ids = list(product_ids)
    if not ids or len(ids) > MAX_PRODUCTS_PER_EDIT:
        raise DomainError(
            f"Choose 1 to {MAX_PRODUCTS_PER_EDIT} products.", code="coins_invalid_products"
        )
    checked: set[int] = set()
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, int) or i <= 0:
            raise DomainError(f"{i!r} is not a product id.", code="coins_invalid_products")
        checked.add(i)
    return sorted(checked)


@transaction.atomic
def product_deduction_set(
    *, shop: Shop, product_ids: Iterable[object], enabled: bool, max_ratio_bp: object
) -> list[CoinProductSetting]:
    """SPEC C-3: the coin-deduction switch and max ratio (0 to 30%) of products, in bulk.
    Another shop's product (or an unknown id) refuses the whole edit; nothing is written."""
    ratio = rules.check_ratio_bp(max_ratio_bp, cap_bp=rules.deduction_cap_bp())
    if not isinstance(enabled, bool):
        raise DomainError("The switch is on or off.", code="coins_invalid_switch")
    if enabled and ratio == 0:
        raise DomainError(
            "A product with coin deduction on needs a maximum ratio above 0%.",
            code="coins_invalid_ratio",
        )
    ids = _product_ids(product_ids)
    found = set(Product.objects.filter(shop=shop, pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise DomainError(
            f"Products {missing[:10]} are not products of this shop.", code="coins_unknown_product"
        )
    now = clock.now()
    rows = [
        CoinProductSetting(
            shop=shop, product_id=i, enabled=enabled, max_ratio_bp=ratio, updated_at=now
        )
        for i in ids
    ]
    return CoinProductSetting.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["product"],
        update_fields=["enabled", "max_ratio_bp", "updated_at"],
    )


def product_approved(review_status: str) -> bool:
    return review_status == ReviewStatus.APPROVED


@transaction.atomic
def rule_create(
    *,
    shop: Shop,
    name: str,
    kind: str,
    budget_coins: int,
    starts_at: datetime,
    ends_at: datetime | None = None,
    coins: int = 0,
    percent_bp: int = 0,
    threshold_minor: int = 0,
    stackable: bool = True,
) -> CoinRule:
    """SPEC C-7: a rule with a date window and a coin budget. Needs the coin account."""
    if not CoinAccount.objects.filter(shop=shop).exists():
        raise DomainError("Open the coin account first.", code="coins_no_account")
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > NAME_MAX:
        raise DomainError(
            f"A rule needs a name of 1 to {NAME_MAX} characters.", code="invalid_name"
        )
    if kind not in RuleKind.values:
        raise DomainError(f"Unknown rule kind {kind!r}.", code="coins_invalid_rule")
    rules.check_coins(budget_coins, what="budget")
    if percent_bp:
        if kind != RuleKind.COMPLETION_CASHBACK:
            raise DomainError(
                "Only cashback on completion can be a share of what was paid.",
                code="coins_invalid_rule",
            )
        if isinstance(percent_bp, bool) or not isinstance(percent_bp, int):
            raise DomainError("The share is whole basis points.", code="coins_invalid_rule")
        if not 0 < percent_bp <= rules.BP or coins:
            raise DomainError(
                "Give either a fixed number of coins or a share from 0.01% to 100%.",
                code="coins_invalid_rule",
            )
    else:
        rules.check_coins(coins, what="coins per grant")
        if coins > budget_coins:
            raise DomainError("A grant cannot exceed the budget.", code="coins_invalid_rule")
    if isinstance(threshold_minor, bool) or not isinstance(threshold_minor, int):
        raise DomainError("The threshold is an amount.", code="coins_invalid_rule")
    if kind == RuleKind.SPEND_THRESHOLD and threshold_minor <= 0:
        raise DomainError("A spend threshold must be above zero.", code="coins_invalid_rule")
    if ends_at is not None and ends_at <= starts_at:
        raise DomainError("The rule must end after it starts.", code="coins_invalid_rule")
    return CoinRule.objects.create(
        shop=shop,
        name=name,
        kind=kind,
        coins=coins,
        percent_bp=percent_bp,
        threshold_minor=threshold_minor if kind == RuleKind.SPEND_THRESHOLD else 0,
        starts_at=starts_at,
        ends_at=ends_at,
        budget_coins=budget_coins,
        stackable=bool(stackable),
        created_at=clock.now(),
    )


@transaction.atomic
def rule_stop(*, shop: Shop, rule_id: int) -> CoinRule:
    """SPEC C-7: stop a rule (no further grants; what it granted stays)."""
    rule = CoinRule.objects.select_for_update().filter(pk=rule_id, shop=shop).first()
    if rule is None:
        raise DomainError("No such rule in this shop.", code="not_found")
    if rule.status != RuleStatus.STOPPED:
        rule.status = RuleStatus.STOPPED
        rule.save(update_fields=["status"])
    return rule


@transaction.atomic
def rule_update(
    *,
    shop: Shop,
    rule_id: int,
    name: str,
    ends_at: datetime | None,
    budget_coins: int,
    stackable: bool,
) -> CoinRule:
    """SPEC C-7: edit what is safe to change on a live rule: its name, its end, its budget
    (never below what it has granted) and whether it stacks. What a grant is worth, its kind
    and its start stay as created (past grants were made under them: stop the rule and create
    another). A stopped rule stays stopped and cannot be edited. Locks: fund → rule."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > NAME_MAX:
        raise DomainError(
            f"A rule needs a name of 1 to {NAME_MAX} characters.", code="invalid_name"
        )
    rules.check_coins(budget_coins, what="budget")
    lock_fund(shop_id=shop.pk)  # the grant path's first lock: fund → rule
    rule = CoinRule.objects.select_for_update().filter(pk=rule_id, shop=shop).first()
    if rule is None:
        raise DomainError("No such rule in this shop.", code="not_found")
    if rule.status == RuleStatus.STOPPED:
        raise DomainError(
            "A stopped rule cannot be edited: create a new rule instead.",
            code="coins_rule_stopped",
        )
    if budget_coins < rule.granted_coins:
        raise DomainError(
            f"The rule has already granted {rule.granted_coins} coins: the budget cannot be lower.",
            code="coins_invalid_rule",
        )
    if not rule.percent_bp and rule.coins > budget_coins:
        raise DomainError("A grant cannot exceed the budget.", code="coins_invalid_rule")
    if ends_at is not None and ends_at <= rule.starts_at:
        raise DomainError("The rule must end after it starts.", code="coins_invalid_rule")
    rule.name, rule.ends_at, rule.budget_coins = name, ends_at, budget_coins
    rule.stackable = bool(stackable)
    if rule.granted_coins >= rule.budget_coins:
        rule.status = RuleStatus.STOPPED  # C-7: the budget is spent
    rule.save(update_fields=["name", "ends_at", "budget_coins", "stackable", "status"])
    return rule
