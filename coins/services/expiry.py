"""The daily expiry (SPEC C-6, C-5): lots past their expiry lose their remaining coins and the
reservation is released to the fund.

Batched and safe to run twice or concurrently: a batch locks the funds of the due lots it saw
(``FOR UPDATE SKIP LOCKED``: concurrent runs take other shops), then their wallets and lots in
primary-key order — the lock order of every coin write (fund → wallet → lots) — and re-reads
the lots under the locks, so a lot expires once whoever gets there first. Funds skipped while
busy are taken by a last, waiting pass.

A batch is every due lot of the next wallets (pk order) after the previous batch's, about
``batch_size`` lots: whole wallets, so one expire movement per wallet and run.

On PostgreSQL a batch is set-based (``_expire_batch_pg``): ~10,000 due lots, four statements —
the batch's head (a read), its funds locked ``FOR UPDATE SKIP LOCKED`` in pk order, its
wallets locked in pk order, then one statement of data-modifying CTEs that locks the due lots
(pk order), expires them, inserts one expire movement per wallet and its two entries
(``INSERT … SELECT``) and updates the wallets' and funds' cached balances from the aggregated
batch (``UPDATE … FROM``). Same lock order as every coin write (fund → wallet → lots; the
ceiling and rule rows are not touched by expiry), same rows, same idempotency keys as the
portable path (``_expire_batch``), which SQLite (the embedded ``make run``) keeps using.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F

from core import clock

from ..models import CoinFund, CoinLot, CoinWallet, LedgerAccount, MovementKind
from .ledger import move_many, save_fund_balances, save_wallet_balances

BATCH = 1000  # the portable path (ORM instances per lot)
PG_BATCH = 10_000  # the set-based path (no Python object per lot)


def lots_expire(*, at: datetime | None = None, batch_size: int | None = None) -> int:
    """Expire every lot due at ``at`` (default now); returns the coins expired."""
    at = at or clock.now()
    set_based = connection.vendor == "postgresql" and SET_BASED
    batch = _expire_batch_pg if set_based else _expire_batch
    batch_size = batch_size or (PG_BATCH if set_based else BATCH)
    total = 0
    for skip_locked in (True, False):
        # A cursor over wallet ids within each pass: a batch takes whole wallets after the last
        # one the previous batch saw, so the run reads each due lot about once (not the expired
        # head of the table every batch: quadratic at a million lots, bench ``expiry``) and
        # writes one movement per wallet, however its lots' ids interleave with others'.
        after = 0
        while True:
            coins, _lots, after = batch(
                at=at, batch_size=batch_size, skip_locked=skip_locked, after=after
            )
            total += coins
            if not after:
                break
    return total


SET_BASED = True  # tests switch it off to exercise the portable path on PostgreSQL


def _due(at: datetime):
    # Served by the partial index coin_lot_due (expires_at WHERE remaining > 0).
    return CoinLot.objects.filter(remaining__gt=0, expires_at__lte=at)


@transaction.atomic
def _expire_batch(
    *, at: datetime, batch_size: int, skip_locked: bool, after: int = 0
) -> tuple[int, int, int]:
    """One batch: every due lot of the next wallets after wallet id ``after`` (about
    ``batch_size`` lots, whole wallets); returns (coins expired, lots expired, the last wallet
    id seen — 0 when there were none: the pass is over)."""
    head = list(
        _due(at)
        .filter(wallet_id__gt=after)
        .order_by("wallet_id")
        .values_list("wallet_id", "shop_id")[:batch_size]
    )
    if not head:
        return 0, 0, 0
    last = head[-1][0]
    seen = [shop_id for _wallet_id, shop_id in head]
    funds = {
        f.shop_id: f
        for f in CoinFund.objects.select_for_update(skip_locked=skip_locked)
        .filter(shop_id__in=set(seen))
        .order_by("pk")
    }
    if not funds:
        return 0, 0, last
    # Whole wallets (every due lot of the wallets up to ``last``): one movement per wallet.
    lots = list(
        _due(at).filter(shop_id__in=funds, wallet_id__gt=after, wallet_id__lte=last).order_by("pk")
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
    # (wallets in one statement, the batch's funds in another).
    move_many(
        kind=MovementKind.EXPIRE,
        source=LedgerAccount.WALLET,
        target=LedgerAccount.FUND_AVAILABLE,
        items=items,
    )
    save_wallet_balances([item[1] for item in items])
    save_fund_balances(list({item[0].pk: item[0] for item in items}.values()))
    return sum(lot.remaining for lot in lots), len(lots), last


# --- PostgreSQL: one batch in four statements ------------------------------------------------

_HEAD_SQL = """
SELECT max(h.wallet_id), array_agg(DISTINCT h.shop_id), array_agg(DISTINCT h.wallet_id)
FROM (
    SELECT shop_id, wallet_id FROM coins_coinlot
    WHERE remaining > 0 AND expires_at <= %(at)s AND wallet_id > %(after)s
    ORDER BY wallet_id LIMIT %(n)s
) h
"""

_LOCK_FUNDS_SQL = """
SELECT shop_id FROM coins_coinfund WHERE shop_id = ANY(%(shops)s) ORDER BY id FOR UPDATE{skip}
"""

_LOCK_WALLETS_SQL = """
SELECT id FROM coins_coinwallet WHERE id = ANY(%(wallets)s) AND shop_id = ANY(%(shops)s)
ORDER BY id FOR UPDATE
"""

# Under the fund and wallet locks: the batch's due lots locked (pk order) and re-read — a
# concurrent run or a redemption may have emptied some — then every write of the batch.
# ``FOR UPDATE`` hands back each lot's latest committed ``remaining``, which the UPDATE moves
# to ``expired``. A movement names its wallet in its key (as on the portable path), which is
# how the entries find it again.
_EXPIRE_SQL = """
WITH due AS (
    SELECT id, wallet_id, shop_id, remaining FROM coins_coinlot
    WHERE wallet_id = ANY(%(wallets)s) AND shop_id = ANY(%(shops)s)
      AND remaining > 0 AND expires_at <= %(at)s
    ORDER BY id FOR UPDATE
), lots AS (
    UPDATE coins_coinlot l
    SET expired = l.expired + due.remaining, remaining = 0, expired_at = %(at)s
    FROM due WHERE l.id = due.id
    RETURNING l.id, l.wallet_id, l.shop_id, due.remaining AS coins
), per_wallet AS (
    SELECT wallet_id, min(shop_id) AS shop_id, sum(coins) AS coins, min(id) AS first,
           max(id) AS last, count(*) AS n
    FROM lots GROUP BY wallet_id
), per_fund AS (
    SELECT shop_id, sum(coins) AS coins FROM per_wallet GROUP BY shop_id
), wallets AS (
    UPDATE coins_coinwallet w SET balance = w.balance - p.coins
    FROM per_wallet p WHERE w.id = p.wallet_id
    RETURNING w.id
), funds AS (
    UPDATE coins_coinfund f
    SET available = f.available + p.coins, reserved = f.reserved - p.coins
    FROM per_fund p WHERE f.shop_id = p.shop_id
    RETURNING f.id
), mv AS (
    INSERT INTO coins_coinmovement (shop_id, kind, coins, idempotency_key, memo, created_at)
    SELECT shop_id, %(kind)s, coins,
           'expire:' || wallet_id || ':' || first || '-' || last || ':' || n,
           n || ' lots expired', %(now)s
    FROM per_wallet
    RETURNING id, shop_id, coins, split_part(idempotency_key, ':', 2)::bigint AS wallet_id
), entries AS (
    INSERT INTO coins_coinentry (movement_id, shop_id, account, wallet_id, delta, created_at)
    SELECT mv.id, mv.shop_id, %(source)s, mv.wallet_id, -mv.coins, %(now)s FROM mv
    UNION ALL
    SELECT mv.id, mv.shop_id, %(target)s, NULL, mv.coins, %(now)s FROM mv
    RETURNING 1
)
SELECT coalesce(sum(coins), 0), count(*),
       (SELECT count(*) FROM wallets), (SELECT count(*) FROM funds),
       (SELECT count(*) FROM entries)
FROM lots
"""


@transaction.atomic
def _expire_batch_pg(
    *, at: datetime, batch_size: int, skip_locked: bool, after: int = 0
) -> tuple[int, int, int]:
    """``_expire_batch`` set-based (PostgreSQL): same locks in the same order, same rows."""
    with connection.cursor() as cur:
        cur.execute(_HEAD_SQL, {"at": at, "after": after, "n": batch_size})
        last, shops, wallets = cur.fetchone()
        if last is None:
            return 0, 0, 0
        cur.execute(
            _LOCK_FUNDS_SQL.format(skip=" SKIP LOCKED" if skip_locked else ""), {"shops": shops}
        )
        shops = [row[0] for row in cur.fetchall()]
        if not shops:
            return 0, 0, last
        cur.execute(_LOCK_WALLETS_SQL, {"wallets": wallets, "shops": shops})
        wallets = [row[0] for row in cur.fetchall()]
        cur.execute(
            _EXPIRE_SQL,
            {
                "at": at,
                "shops": shops,
                "wallets": wallets,
                "now": clock.now(),
                "kind": MovementKind.EXPIRE.value,
                "source": LedgerAccount.WALLET.value,
                "target": LedgerAccount.FUND_AVAILABLE.value,
            },
        )
        coins, lots, _w, _f, _e = cur.fetchone()
    return int(coins), int(lots), last
