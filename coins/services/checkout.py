"""Redemption at checkout (SPEC C-3, C-6): the ``order_placing`` guard.

It runs inside the ingestion transaction before the order row exists (``orders.events``), so
the redemption names the order by its natural key (shop, order number); the ``order.created``
consumer links the saved order (``redemption_link``). A refusal raises ``DomainError`` with a
stable code and, the transaction (or the fast path's savepoint) rolling back, writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction

from core import clock
from core.errors import DomainError
from orders import guards as order_guards
from orders.models import Order
from shops.models import Product

from .. import rules
from ..models import (
    CoinLot,
    CoinProductSetting,
    CoinRedemption,
    CoinRedemptionPart,
    LedgerAccount,
    MovementKind,
)
from .accounts import product_approved
from .ledger import lock_fund, lock_wallet, move, require_active, save_balances


def spendable_lots(*, wallet_id: int, at, lock: bool):
    """SPEC C-6: a wallet's unexpired lots holding coins, earliest expiry first."""
    qs = CoinLot.objects.filter(wallet_id=wallet_id, remaining__gt=0, expires_at__gt=at)
    if lock:
        # Only a holder of the wallet lock locks its lots, so this order cannot deadlock.
        qs = qs.select_for_update()
    return qs.order_by("expires_at", "pk")


@transaction.atomic
def redemption_place(*, order: Order, lines: Sequence) -> CoinRedemption | None:
    """Check and spend the coins ``order`` (unsaved) deducts; None when it deducts none."""
    coins, minor = order.coin_deduction_coins, order.coin_deduction_minor
    if not coins and not minor:
        return None
    now = clock.now()
    fund = lock_fund(shop_id=order.shop_id)
    require_active(fund)

    # SPEC C-3: every product of the order has its deduction switch on (and is approved).
    product_ids = {line.sku.product_id for line in lines}
    settings = {
        s.product_id: s
        for s in CoinProductSetting.objects.filter(
            shop_id=order.shop_id, product_id__in=product_ids
        )
    }
    approved = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "review_status"))
    ratios = []
    for line in lines:
        s = settings.get(line.sku.product_id)
        if s is None or not s.enabled or not product_approved(approved.get(s.product_id, "")):
            raise DomainError(
                f"Coins cannot be used on {line.sku.code}: its coin deduction is off.",
                code="coins_product_not_enabled",
            )
        ratios.append((line.quantity * line.unit_price_minor, s.max_ratio_bp))

    wallet = lock_wallet(fund=fund, buyer_id=order.buyer_id, create=False)
    lots = list(spendable_lots(wallet_id=wallet.pk, at=now, lock=True)) if wallet else []
    rules.check_deduction(
        coins=coins,
        minor=minor,
        payable_before_coins_minor=order.payable_before_coins.amount,
        balance=sum(lot.remaining for lot in lots),
        lines=ratios,
        cap_bp=rules.deduction_cap_bp(),
        cap_minor=rules.deduction_cap_minor(),
        coin_value_minor=rules.coin_value_minor(),
    )
    assert wallet is not None  # check_deduction refuses a deduction from no coins

    try:
        with transaction.atomic():
            redemption = CoinRedemption.objects.create(
                shop_id=order.shop_id,
                order_number=order.number,
                buyer_id=order.buyer_id,
                wallet=wallet,
                coins=coins,
                created_at=now,
            )
    except IntegrityError:  # the order number is taken: the order itself is a duplicate
        raise order_guards.duplicate_error("order", order.number) from None

    # SPEC C-6: earliest-expiring lots first.
    left, parts = coins, []
    for lot in lots:
        take = min(left, lot.remaining)
        lot.remaining -= take
        left -= take
        parts.append(CoinRedemptionPart(redemption=redemption, lot=lot, coins=take))
        if not left:
            break
    for part in parts:
        CoinLot.objects.filter(pk=part.lot.pk).update(remaining=part.lot.remaining)
    CoinRedemptionPart.objects.bulk_create(parts)
    move(
        fund=fund,
        kind=MovementKind.REDEEM,
        coins=coins,
        source=LedgerAccount.WALLET,
        target=LedgerAccount.SPENT,
        wallet=wallet,
        key=f"redeem:{order.shop_id}:{order.number}",
        memo=f"order {order.number}",
    )
    save_balances(fund, wallet)
    return redemption


def redemption_link(*, order: Order) -> int:
    """After ``order.created``: point the order's redemption (if any) at the saved order."""
    return CoinRedemption.objects.filter(
        shop_id=order.shop_id, order_number=order.number, order__isnull=True
    ).update(order=order)
