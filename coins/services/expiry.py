"""The daily expiry (SPEC C-6, C-5): lots past their expiry lose their remaining coins and the
reservation is released to the fund.

Batched and safe to run twice or concurrently: a batch locks the funds of the due lots it saw
(``FOR UPDATE SKIP LOCKED``: concurrent runs take other shops), then their wallets and lots in
primary-key order — the lock order of every coin write (fund → wallet → lots) — and re-reads
the lots under the locks, so a lot expires once whoever gets there first. Funds skipped while
busy are taken by a last, waiting pass.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F

from core import clock

from ..models import CoinFund, CoinLot, CoinWallet, LedgerAccount, MovementKind
from .ledger import move_many, save_balances

BATCH = 1000


def lots_expire(*, at: datetime | None = None, batch_size: int = BATCH) -> int:
    """Expire every lot due at ``at`` (default now); returns the coins expired."""
    at = at or clock.now()
    total = 0
    for skip_locked in (True, False):
        # A cursor over lot ids within each pass: a batch starts after the last lot the previous
        # one saw, so the run reads each due lot about once instead of re-reading the expired
        # head of the table every batch (quadratic at a million lots, bench ``expiry``).
        after = 0
        while True:
            coins, _lots, after = _expire_batch(
                at=at, batch_size=batch_size, skip_locked=skip_locked, after=after
            )
            total += coins
            if not after:
                break
    return total


def _due(at: datetime):
    # Served by the partial index coin_lot_due (expires_at WHERE remaining > 0).
    return CoinLot.objects.filter(remaining__gt=0, expires_at__lte=at)


@transaction.atomic
def _expire_batch(
    *, at: datetime, batch_size: int, skip_locked: bool, after: int = 0
) -> tuple[int, int, int]:
    """One batch of the due lots with ids above ``after``; returns (coins expired, lots
    expired, the last lot id seen — 0 when there were none: the pass is over)."""
    head = list(
        _due(at).filter(pk__gt=after).order_by("pk").values_list("pk", "shop_id")[:batch_size]
    )
    if not head:
        return 0, 0, 0
    last = head[-1][0]
    seen = [shop_id for _pk, shop_id in head]
    funds = {
        f.shop_id: f
        for f in CoinFund.objects.select_for_update(skip_locked=skip_locked)
        .filter(shop_id__in=set(seen))
        .order_by("pk")
    }
    if not funds:
        return 0, 0, last
    lots = list(
        _due(at).filter(shop_id__in=funds, pk__gt=after, pk__lte=last).order_by("pk")[:batch_size]
    )
    wallet_ids = sorted({lot.wallet_id for lot in lots})
    wallets = {
        w.pk: w
        for w in CoinWallet.objects.select_for_update().filter(pk__in=wallet_ids).order_by("pk")
    }
    # Re-read the lots under the wallet locks: a concurrent run may have expired them already.
    lots = list(_due(at).select_for_update().filter(pk__in=[lot.pk for lot in lots]).order_by("pk"))
    if not lots:
        return 0, 0, last
    by_wallet: dict[int, list[CoinLot]] = defaultdict(list)
    for lot in lots:
        by_wallet[lot.wallet_id].append(lot)
    CoinLot.objects.filter(pk__in=[lot.pk for lot in lots]).update(
        expired=F("expired") + F("remaining"), remaining=0, expired_at=at
    )
    # Paused accounts too (C-2: expiry runs on): the account's status is not consulted.
    items = []
    for wallet_id, wallet_lots in by_wallet.items():
        wallet = wallets[wallet_id]
        items.append(
            (
                funds[wallet.shop_id],
                wallet,
                sum(lot.remaining for lot in wallet_lots),
                # Each lot expires once, and lot sets are disjoint: first, last and count name it.
                f"expire:{wallet_id}:{wallet_lots[0].pk}-{wallet_lots[-1].pk}:{len(wallet_lots)}",
                f"{len(wallet_lots)} lots expired",
            )
        )
    # One movement per wallet, written two INSERTs per batch; cached balances in two UPDATEs
    # (wallets in one statement, then each fund of the batch).
    move_many(
        kind=MovementKind.EXPIRE,
        source=LedgerAccount.WALLET,
        target=LedgerAccount.FUND_AVAILABLE,
        items=items,
    )
    _save_wallet_balances([item[1] for item in items])
    for fund in {item[0].pk: item[0] for item in items}.values():
        save_balances(fund)
    return sum(lot.remaining for lot in lots), len(lots), last


def _save_wallet_balances(wallets: list[CoinWallet]) -> None:
    """The batch's wallet balances in one UPDATE from a VALUES list (PostgreSQL and SQLite):
    ``bulk_update``'s CASE expression costs more Python than the whole statement costs the
    database at a thousand wallets."""
    if not wallets:
        return
    table = connection.ops.quote_name(CoinWallet._meta.db_table)
    rows = ", ".join(["(%s, %s)"] * len(wallets))
    params = [v for w in wallets for v in (w.pk, w.balance)]
    with connection.cursor() as cur:
        cur.execute(
            f"WITH v(id, balance) AS (VALUES {rows}) "  # noqa: S608 - placeholders only
            f"UPDATE {table} SET balance = (SELECT v.balance FROM v WHERE v.id = {table}.id) "
            f"WHERE id IN (SELECT id FROM v)",
            params,
        )
