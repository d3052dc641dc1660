"""Posting to the coin ledger (DESIGN §3): one movement, two entries summing to zero, and the
cached balances changed with them. Callers hold the locks: fund → budget (the monthly
ceiling, services/budget.py) → rule → wallet → lots, each
table's rows in primary-key order, inside one transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from django.db import connection, transaction
from django.db.models import Model

from core import clock
from core.errors import DomainError

from ..models import (
    AccountStatus,
    CoinEntry,
    CoinFund,
    CoinMovement,
    CoinWallet,
    LedgerAccount,
)

A = LedgerAccount


def lock_fund(*, shop_id: int) -> CoinFund:
    """The shop's fund, locked (the first lock of every coin write in a shop); its account's
    status is read after the lock, so a pause (which takes the same lock) is never missed."""
    fund = lock_funds(shop_ids=[shop_id]).get(shop_id)
    if fund is None:
        raise no_account_error()
    return fund


def no_account_error() -> DomainError:
    return DomainError("This shop has no coin account.", code="coins_no_account")


def lock_funds(*, shop_ids: Collection[int]) -> dict[int, CoinFund]:
    """``lock_fund`` for several shops at once (pk order), by shop id; shops without a coin
    account are left out."""
    # The accounts come with the funds (one round trip); only the funds are locked.
    funds = (
        CoinFund.objects.select_for_update(of=("self",))
        .select_related("account")
        .filter(shop_id__in=shop_ids)
        .order_by("pk")
    )
    return {fund.shop_id: fund for fund in funds}


def require_active(fund: CoinFund) -> None:
    """SPEC C-2: a paused account issues nothing and deducts nothing."""
    require_active_status(fund.account.status)


def require_active_status(status: str) -> None:
    """``require_active`` from the account's status."""
    if status != AccountStatus.ACTIVE:
        raise DomainError(
            "The shop's coin account is paused: no coins are issued or deducted until it is "
            "resumed.",
            code="coins_account_paused",
        )


def lock_wallet(*, fund: CoinFund, buyer_id: int, create: bool) -> CoinWallet | None:
    """The buyer's wallet in the fund's shop, locked (after the fund: the fund lock serialises
    wallet creation in a shop, so get_or_create cannot race here)."""
    qs = CoinWallet.objects.select_for_update().filter(shop_id=fund.shop_id, buyer_id=buyer_id)
    wallet = qs.first()
    if wallet is None and create:
        CoinWallet.objects.create(shop_id=fund.shop_id, buyer_id=buyer_id, created_at=clock.now())
        wallet = qs.get()
    return wallet


def _apply(fund: CoinFund, account: str, wallet: CoinWallet | None, delta: int) -> None:
    if account == A.SHOP_BALANCE:
        fund.topped_up -= delta  # the money side: its balance is −topped_up
    elif account == A.FUND_AVAILABLE:
        fund.available += delta
    elif account == A.SPENT:
        fund.spent += delta
    elif account == A.WALLET:
        assert wallet is not None
        wallet.balance += delta
        fund.reserved += delta  # a buyer's coins are the fund's reservation (C-5)
    else:  # pragma: no cover - LedgerAccount is closed
        raise ValueError(account)


def move(
    *,
    fund: CoinFund,
    kind: str,
    coins: int,
    source: str,
    target: str,
    key: str,
    wallet: CoinWallet | None = None,
    order_id: int | None = None,
    memo: str = "",
) -> CoinMovement:
    """Move ``coins`` from ``source`` to ``target`` (one of them may be ``wallet``)."""
    assert transaction.get_connection().in_atomic_block, "coin movements need a transaction"
    assert coins > 0
    now = clock.now()
    movement = CoinMovement.objects.create(
        shop_id=fund.shop_id,
        kind=kind,
        coins=coins,
        idempotency_key=key,
        order_id=order_id,
        memo=memo[:200],
        created_at=now,
    )
    CoinEntry.objects.bulk_create(_entries(movement, fund, wallet, coins, source, target, now))
    return movement


def _entries(movement, fund, wallet, coins, source, target, now) -> list[CoinEntry]:
    """The two entries of a movement (``source`` −coins, ``target`` +coins), applied to the
    cached balances in memory (the caller saves them)."""
    entries = []
    for account, delta in ((source, -coins), (target, coins)):
        w = wallet if account == A.WALLET else None
        _apply(fund, account, w, delta)
        entries.append(
            CoinEntry(
                movement=movement,
                shop_id=fund.shop_id,
                account=account,
                wallet=w,
                delta=delta,
                created_at=now,
            )
        )
    return entries


def save_balances(fund: CoinFund, *wallets: CoinWallet) -> None:
    """Write the cached balances (the CHECK constraints refuse a negative or unbalanced fund)."""
    save_fund_balances([fund])
    save_wallet_balances(wallets)


def save_fund_balances(funds: Sequence[CoinFund]) -> None:
    """``save_balances`` for several funds (no wallet) in one statement."""
    update_columns(
        CoinFund,
        FUND_BALANCES,
        [(f.pk, *(getattr(f, name) for name in FUND_BALANCES)) for f in funds],
    )


FUND_BALANCES = ("available", "reserved", "spent", "topped_up")


def save_wallet_balances(wallets: Sequence[CoinWallet]) -> None:
    """Wallets' cached balances in one statement."""
    update_columns(CoinWallet, ("balance",), [(w.pk, w.balance) for w in wallets])


def update_columns(model: type[Model], columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Set integer ``columns`` of ``model``'s rows — (pk, value, …) each — in one UPDATE from
    a VALUES list (PostgreSQL and SQLite): ``bulk_update``'s CASE expressions cost more Python
    than the statement costs the database, and one UPDATE per row a round trip each."""
    if not rows:
        return
    qn = connection.ops.quote_name
    pk_column = model._meta.pk.column
    assert pk_column is not None
    table, pk = qn(model._meta.db_table), qn(pk_column)
    names = [f"x{i}" for i in range(len(columns))]
    sets = ", ".join(
        f"{qn(column)} = (SELECT v.{name} FROM v WHERE v.id = {table}.{pk})"  # noqa: S608
        for column, name in zip(columns, names, strict=True)
    )
    values = ", ".join([f"({', '.join(['%s'] * (len(columns) + 1))})"] * len(rows))
    with connection.cursor() as cur:
        cur.execute(
            f"WITH v(id, {', '.join(names)}) AS (VALUES {values}) "  # noqa: S608 - placeholders
            f"UPDATE {table} SET {sets} WHERE {pk} IN (SELECT id FROM v)",
            [p for row in rows for p in row],
        )


def move_many(
    *,
    kind: str,
    source: str,
    target: str,
    items: Sequence[tuple[CoinFund, CoinWallet | None, int, str, str]],
) -> list[CoinMovement]:
    """``move`` for many movements of one kind at once — (fund, wallet, coins, key, memo) each —
    in two INSERTs (movements, then their entries) instead of two per movement: the daily
    expiry moves one batch's coins for up to a thousand wallets (bench ``expiry``). The caller
    holds the locks and saves the cached balances, as with ``move``."""
    assert transaction.get_connection().in_atomic_block, "coin movements need a transaction"
    now = clock.now()
    movements = []
    for fund, _wallet, coins, key, memo in items:
        assert coins > 0
        movements.append(
            CoinMovement(
                shop_id=fund.shop_id,
                kind=kind,
                coins=coins,
                idempotency_key=key,
                memo=memo[:200],
                created_at=now,
            )
        )
    CoinMovement.objects.bulk_create(movements)  # primary keys come back (PostgreSQL, SQLite)
    entries = []
    for movement, (fund, wallet, coins, _key, _memo) in zip(movements, items, strict=True):
        entries += _entries(movement, fund, wallet, coins, source, target, now)
    CoinEntry.objects.bulk_create(entries)
    return movements
