"""Refunds and cancellations (SPEC C-8, §0): deducted coins go back to the buyer; cashback
granted for the order is clawed back from the unspent balance only, the unrecoverable rest
recorded. A partial refund does both in proportion to the share of the paid amount refunded so
far (rounded down; a full refund settles the rest); a grant's share counts only the refunds
after it, out of what was still paid when it was made (``CoinGrant.refunded_before_minor``).

A cancelled order (before shipping, paid or not) gives back every deducted coin not yet
returned: the coins are spent when the order is placed, and an unpaid order can never be
refunded. Whichever of a cancellation and a refund comes first, the returns of a redemption
never exceed what it deducted (``CoinRedemption.returned``, under its row lock)."""

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


@transaction.atomic
def order_cancel_apply(*, order_id: int) -> int:
    """After ``order.cancelled``: give back every coin the order deducted and no refund has
    returned yet (C-8's lots: the original expiry, or a 30-day grace lot if already past), and
    take it off the fund's spent coins. Idempotent: a replay finds nothing left to return. Runs
    on a paused account too (returning coins is not issuance, C-2). Returns the coins given
    back. Locks: fund → wallet → the redemption."""
    order = Order.objects.get(pk=order_id)
    if order.status != OrderStatus.CANCELLED or not order.coin_deduction_coins:
        return 0
    if not CoinFund.objects.filter(shop_id=order.shop_id).exists():
        return 0
    fund = lock_fund(shop_id=order.shop_id)
    wallet = lock_wallet(fund=fund, buyer_id=order.buyer_id, create=False)
    if wallet is None:
        return 0  # no coins ever moved for this buyer in this shop
    redemption = _locked_redemption(order)
    if redemption is None:
        return 0
    n = redemption.coins - redemption.returned  # what no refund has returned yet
    if n <= 0:
        return 0
    _give_back(
        fund=fund,
        wallet=wallet,
        order=order,
        redemption=redemption,
        coins=n,
        key=f"cancel-return:{redemption.pk}",
        memo=f"cancellation of order {order.number}",
    )
    save_balances(fund, wallet)
    return n


def _share(coins: int, order: Order, full: bool) -> int:
    return rules.proportional_coins(
        coins=coins,
        refunded_minor=order.refunded_minor,
        paid_minor=order.amount_paid_minor,
        full=full,
    )


def _grant_share(grant: CoinGrant, order: Order, full: bool) -> int:
    """C-8: the share of a grant the refunds so far claw back — only the refunds after the
    grant, out of what was still paid when it was made (a %-of-paid completion cashback was
    computed on paid − refunded: counting the earlier refunds again would claw it twice)."""
    before = grant.refunded_before_minor
    return rules.proportional_coins(
        coins=grant.coins,
        refunded_minor=order.refunded_minor - before,
        paid_minor=order.amount_paid_minor - before,
        full=full,
    )


def _locked_redemption(order: Order) -> CoinRedemption | None:
    return (
        CoinRedemption.objects.select_for_update()
        .filter(shop_id=order.shop_id, order_number=order.number)
        .first()
    )


def _return_deducted(*, fund, wallet, order: Order, refund_id: int, full: bool) -> None:
    redemption = _locked_redemption(order)
    if redemption is None:
        return
    if CoinRefundReturn.objects.filter(redemption=redemption, refund_id=refund_id).exists():
        return
    # Bounded by what is left: a cancellation (or an earlier refund) may have returned it all.
    n = _share(redemption.coins, order, full) - redemption.returned
    if n <= 0:
        return
    _give_back(
        fund=fund,
        wallet=wallet,
        order=order,
        redemption=redemption,
        coins=n,
        key=f"refund-return:{redemption.pk}:{refund_id}",
        memo=f"refund {refund_id} of order {order.number}",
    )
    CoinRefundReturn.objects.create(
        redemption=redemption, refund_id=refund_id, coins=n, created_at=clock.now()
    )


def _give_back(
    *,
    fund,
    wallet,
    order: Order,
    redemption: CoinRedemption,
    coins: int,
    key: str,
    memo: str,
) -> None:
    """Return ``coins`` of ``redemption`` to the buyer's wallet (spent → wallet): the caller
    holds the fund, wallet and redemption locks and saves the cached balances."""
    assert 0 < coins <= redemption.coins - redemption.returned
    now = clock.now()
    left = coins
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
    redemption.returned += coins
    redemption.save(update_fields=["returned"])
    move(
        fund=fund,
        kind=MovementKind.REFUND_RETURN,
        coins=coins,
        source=LedgerAccount.SPENT,
        target=LedgerAccount.WALLET,
        wallet=wallet,
        key=key,
        order_id=order.pk,
        memo=memo,
    )


def _claw_back(*, fund, wallet, order: Order, refund_id: int, full: bool) -> None:
    now = clock.now()
    for grant in CoinGrant.objects.filter(order=order).order_by("pk"):
        if CoinClawback.objects.filter(grant=grant, refund_id=refund_id).exists():
            continue
        already = grant.clawbacks.aggregate(s=Sum("due"))["s"] or 0
        due = _grant_share(grant, order, full) - already
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
