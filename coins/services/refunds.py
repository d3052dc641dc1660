"""Refunds (SPEC C-8): deducted coins go back to the buyer; cashback granted for the order is
clawed back from the unspent balance only, the unrecoverable rest recorded. A partial refund
does both in proportion to the share of the paid amount refunded so far (rounded down; a full
refund settles the rest)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Sum

from core import clock
from orders.models import Order, OrderStatus

from .. import rules
from ..models import (
    CoinClawback,
    CoinFund,
    CoinGrant,
    CoinLot,
    CoinRedemption,
    CoinRefundReturn,
    LedgerAccount,
    LotSource,
    MovementKind,
)
from .checkout import spendable_lots
from .ledger import lock_fund, lock_wallet, move, save_balances


@transaction.atomic
def order_refund_apply(*, order_id: int, refund_id: int, full: bool) -> None:
    """Apply refund ``refund_id`` of the order (idempotent per refund). Runs on a paused
    account too: returning a buyer's coins is not issuance (C-2)."""
    order = Order.objects.get(pk=order_id)
    if not CoinFund.objects.filter(shop_id=order.shop_id).exists():
        return
    fund = lock_fund(shop_id=order.shop_id)
    full = full or order.status == OrderStatus.REFUNDED
    wallet = lock_wallet(fund=fund, buyer_id=order.buyer_id, create=False)
    if wallet is None:
        return  # no coins ever moved for this buyer in this shop
    _return_deducted(fund=fund, wallet=wallet, order=order, refund_id=refund_id, full=full)
    _claw_back(fund=fund, wallet=wallet, order=order, refund_id=refund_id, full=full)
    save_balances(fund, wallet)


def _share(coins: int, order: Order, full: bool) -> int:
    return rules.proportional_coins(
        coins=coins,
        refunded_minor=order.refunded_minor,
        paid_minor=order.amount_paid_minor,
        full=full,
    )


def _return_deducted(*, fund, wallet, order: Order, refund_id: int, full: bool) -> None:
    redemption = (
        CoinRedemption.objects.select_for_update()
        .filter(shop_id=order.shop_id, order_number=order.number)
        .first()
    )
    if redemption is None:
        return
    if CoinRefundReturn.objects.filter(redemption=redemption, refund_id=refund_id).exists():
        return
    n = _share(redemption.coins, order, full) - redemption.returned
    if n <= 0:
        return
    now = clock.now()
    left = n
    # Back to each lot it came from, the last spent first; a lot already past its expiry comes
    # back as one 30-day grace lot (C-8).
    parts = list(redemption.parts.select_related("lot").order_by("-lot__expires_at", "-pk"))
    grace = 0
    for part in parts:
        take = min(left, part.coins - part.returned)
        if take <= 0:
            continue
        left -= take
        part.returned += take
        part.save(update_fields=["returned"])
        if part.lot.expires_at > now:
            CoinLot.objects.create(
                wallet=wallet,
                shop_id=order.shop_id,
                source=LotSource.REFUND_RETURN,
                granted=take,
                remaining=take,
                expires_at=part.lot.expires_at,  # C-8: the original expiry
                rule_id=part.lot.rule_id,
                order=order,
                created_at=now,
            )
        else:
            grace += take
        if not left:
            break
    if grace:
        CoinLot.objects.create(
            wallet=wallet,
            shop_id=order.shop_id,
            source=LotSource.GRACE,
            granted=grace,
            remaining=grace,
            expires_at=now + rules.refund_grace(),
            order=order,
            created_at=now,
        )
    redemption.returned += n
    redemption.save(update_fields=["returned"])
    CoinRefundReturn.objects.create(
        redemption=redemption, refund_id=refund_id, coins=n, created_at=now
    )
    move(
        fund=fund,
        kind=MovementKind.REFUND_RETURN,
        coins=n,
        source=LedgerAccount.SPENT,
        target=LedgerAccount.WALLET,
        wallet=wallet,
        key=f"refund-return:{redemption.pk}:{refund_id}",
        order_id=order.pk,
        memo=f"refund {refund_id} of order {order.number}",
    )


def _claw_back(*, fund, wallet, order: Order, refund_id: int, full: bool) -> None:
    now = clock.now()
    for grant in CoinGrant.objects.filter(order=order).order_by("pk"):
        if CoinClawback.objects.filter(grant=grant, refund_id=refund_id).exists():
            continue
        already = grant.clawbacks.aggregate(s=Sum("due"))["s"] or 0
        due = _share(grant.coins, order, full) - already
        if due <= 0:
            continue
        # The grant's own lot first, then the other unspent coins, earliest expiry first.
        lots = sorted(
            spendable_lots(wallet_id=wallet.pk, at=now, lock=True),
            key=lambda lot: (lot.grant_id != grant.pk, lot.expires_at, lot.pk),
        )
        recovered = 0
        for lot in lots:
            take = min(due - recovered, lot.remaining)
            if take <= 0:
                break
            CoinLot.objects.filter(pk=lot.pk).update(
                remaining=lot.remaining - take, clawed_back=lot.clawed_back + take
            )
            recovered += take
        CoinClawback.objects.create(
            grant=grant,
            refund_id=refund_id,
            due=due,
            recovered=recovered,
            unrecoverable=due - recovered,
            created_at=now,
        )
        if recovered:
            move(
                fund=fund,
                kind=MovementKind.CLAWBACK,
                coins=recovered,
                source=LedgerAccount.WALLET,
                target=LedgerAccount.FUND_AVAILABLE,
                wallet=wallet,
                key=f"clawback:{grant.pk}:{refund_id}",
                order_id=order.pk,
                memo=f"refund {refund_id} of order {order.number}",
            )
