"""Redemption at checkout (SPEC C-3, C-6): the ``order_placing`` guard.

It runs inside the ingestion transaction before the order row exists (``orders.events``), so
the redemption names the order by its natural key (shop, order number); the ``order.created``
consumer links the saved order (``redemption_link``). A refusal raises ``DomainError`` with a
stable code and, the transaction (or the fast path's savepoint) rolling back, writes nothing.

One order (``redemption_place``, the services' path) and a fast-path run of orders
(``redemptions_place``, deferred through ``orders.events.PlacingBatch``) go through the same
code: the run's funds, then its wallets, then their spendable lots are locked once each, in
primary-key order (the lock order of every coin write), every order is checked in event order
against what the orders before it left, and only then is anything written: on PostgreSQL in
one statement for the whole run (``_WRITE_SQL``), elsewhere one statement per table. On
PostgreSQL the locks and reads (with the request's first read of the coin numbers) go to the
server in one round trip. So the queries of a run do not grow with its orders (bench
``redemption``), and a refusal writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import reduce
from operator import or_

from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from core import clock
from core.errors import DomainError
from core.sqlreads import run_many
from orders import guards as order_guards
from orders.models import Order

from .. import rules
from ..models import (
    CoinFund,
    CoinLot,
    CoinProductSetting,
    CoinRedemption,
    CoinRedemptionPart,
    CoinWallet,
    LedgerAccount,
    MovementKind,
)
from .accounts import product_approved
from .ledger import (
    lock_funds,
    move_many,
    no_account_error,
    require_active_status,
    save_fund_balances,
    save_wallet_balances,
    update_columns,
)


def spendable_lots(*, wallet_id: int, at, lock: bool):
    """SPEC C-6: a wallet's unexpired lots holding coins, earliest expiry first."""
    qs = CoinLot.objects.filter(wallet_id=wallet_id, remaining__gt=0, expires_at__gt=at)
    if lock:
        # Only a holder of the wallet lock locks its lots, so this order cannot deadlock.
        qs = qs.select_for_update()
    return qs.order_by("expires_at", "pk")


def deducts(order: Order) -> bool:
    return bool(order.coin_deduction_coins or order.coin_deduction_minor)


@transaction.atomic
def redemption_place(*, order: Order, lines: Sequence) -> CoinRedemption | None:
    """Check and spend the coins ``order`` (unsaved) deducts; None when it deducts none. A
    duplicate order number is refused as the order's duplicate."""
    if not deducts(order):
        return None
    return _place([(order, lines)], duplicate_is_refusal=True)[0]


def redemptions_place(items: Sequence[tuple[Order, Sequence]]) -> list[CoinRedemption]:
    """``redemption_place`` for a run of unsaved orders (``(order, lines)`` each, in event
    order) inside the caller's transaction: all of them or, raising the first refusal, none.
    A taken order number raises ``duplicate_order`` (PostgreSQL) or ``IntegrityError`` (the
    portable path); either way the fast path replays the run one order at a time."""
    assert transaction.get_connection().in_atomic_block, "a redemption needs a transaction"
    items = [(order, lines) for order, lines in items if deducts(order)]
    return _place(items, duplicate_is_refusal=False) if items else []


def _place(
    items: list[tuple[Order, Sequence]], *, duplicate_is_refusal: bool
) -> list[CoinRedemption]:
    now = clock.now()
    set_based = connection.vendor == "postgresql" and SET_BASED
    # Lock order (DESIGN §3): every fund of the run, then every wallet, then their lots; each
    # table's rows in primary-key order. Each step's refusals come before the next step's locks.
    # On PostgreSQL the same locks and reads as hand-written statements (``_PG_*``: the run's
    # queries are the bulk of its Python time when compiled by the ORM).
    shop_ids = {order.shop_id for order, _ in items}
    pairs = {(order.shop_id, order.buyer_id) for order, _ in items}
    funds: dict[int, CoinFund] = {}
    wallet_ids: dict[tuple[int, int], int] = {}
    wallets: dict[int, CoinWallet] = {}  # the portable path's, by pk (it saves their balances)
    lots: dict[int, list[_Lot]] = defaultdict(list)
    if set_based:
        # The four statements (and the registry's read) in one round trip, in lock order; the
        # checks below then refuse in the same order as the portable path (locks taken by a
        # refused run are released with its rollback).
        ordered = sorted(pairs)
        shops_of, buyers_of = [s for s, _b in ordered], [b for _s, b in ordered]
        product_ids = sorted({line.sku.product_id for _order, lines in items for line in lines})
        registry = rules.scope_statement()  # the request's first read of the coin numbers
        fund_rows, setting_rows, wallet_rows, lot_rows, *registry_rows = run_many(
            [
                (_PG_LOCK_FUNDS, [sorted(shop_ids)]),
                (_PG_PRODUCT_SETTINGS, [product_ids]),
                (_PG_LOCK_WALLETS, [shops_of, buyers_of]),
                (_PG_LOCK_LOTS, [shops_of, buyers_of, now]),
                *([registry] if registry is not None else []),
            ]
        )
        if registry is not None:
            rules.scope_fill(registry_rows[0])
        statuses = dict(fund_rows)
    else:
        funds = lock_funds(shop_ids=shop_ids)
        statuses = {shop_id: fund.account.status for shop_id, fund in funds.items()}
    for order, _ in items:
        status = statuses.get(order.shop_id)
        if status is None:
            raise no_account_error()
        require_active_status(status)

    ratios = _product_ratios(items, rows=setting_rows if set_based else None)

    if set_based:
        for pk, shop_id, buyer_id in wallet_rows:
            wallet_ids[(shop_id, buyer_id)] = pk
        for pk, wallet_id, expires_at, remaining in lot_rows:
            lots[wallet_id].append(_Lot(pk, expires_at, remaining))
    else:
        for key, wallet in _lock_wallets(pairs).items():
            wallet_ids[key] = wallet.pk
            wallets[wallet.pk] = wallet
        if wallet_ids:
            # What the spend needs of each lot, as plain values (no model per lot).
            for pk, wallet_id, expires_at, remaining in (
                CoinLot.objects.select_for_update()
                .filter(
                    wallet_id__in=list(wallet_ids.values()), remaining__gt=0, expires_at__gt=now
                )
                .order_by("pk")
                .values_list("pk", "wallet_id", "expires_at", "remaining")
            ):
                lots[wallet_id].append(_Lot(pk, expires_at, remaining))
    for wallet_lots in lots.values():
        wallet_lots.sort(key=lambda lot: (lot.expires_at, lot.pk))  # SPEC C-6: soonest first

    # Registry numbers once for the run (coins.rules caches them per request too).
    cap_bp, cap_minor = rules.deduction_cap_bp(), rules.deduction_cap_minor()
    coin_value = rules.coin_value_minor()
    redemptions: list[CoinRedemption] = []
    spent: list[list[tuple[_Lot, int]]] = []
    for (order, _lines), order_ratios in zip(items, ratios, strict=True):
        wallet_id = wallet_ids.get((order.shop_id, order.buyer_id))
        wallet_lots = lots[wallet_id] if wallet_id is not None else []
        coins = order.coin_deduction_coins
        rules.check_deduction(
            coins=coins,
            minor=order.coin_deduction_minor,
            payable_before_coins_minor=order.payable_before_coins.amount,
            balance=sum(lot.remaining for lot in wallet_lots),
            lines=order_ratios,
            cap_bp=cap_bp,
            cap_minor=cap_minor,
            coin_value_minor=coin_value,
        )
        assert wallet_id is not None  # check_deduction refuses a deduction from no coins
        redemption = CoinRedemption(
            shop_id=order.shop_id,
            order_number=order.number,
            buyer_id=order.buyer_id,
            wallet_id=wallet_id,
            coins=coins,
            created_at=now,
        )
        if wallets:
            redemption.wallet = wallets[wallet_id]
        redemptions.append(redemption)
        spent.append(_spend(wallet_lots, coins))

    # Nothing was written before this point: every order of the run passed.
    if set_based:
        _write_set_based(redemptions, spent, now=now)
    else:
        _write(funds, redemptions, spent, duplicate_is_refusal=duplicate_is_refusal)
    return redemptions


SET_BASED = True  # tests switch it off to exercise the portable path on PostgreSQL

# The set-based path's locks and reads (PostgreSQL): what ``lock_funds``, ``_lock_wallets``,
# the lots' query and ``_product_ratios`` read, in the same order, with the same locks.
# The funds, locked in pk order, with their accounts' status (the account row is not locked).
_PG_LOCK_FUNDS = """
SELECT "coins_coinfund"."shop_id", "coins_coinaccount"."status"
FROM "coins_coinfund"
INNER JOIN "coins_coinaccount" ON "coins_coinaccount"."id" = "coins_coinfund"."account_id"
WHERE "coins_coinfund"."shop_id" = ANY(%s)
ORDER BY "coins_coinfund"."id" FOR UPDATE OF "coins_coinfund"
"""
# The wallets of the run's (shop, buyer) pairs, locked in pk order.
_PG_LOCK_WALLETS = """
SELECT "coins_coinwallet"."id", "coins_coinwallet"."shop_id", "coins_coinwallet"."buyer_id"
FROM "coins_coinwallet"
WHERE ("coins_coinwallet"."shop_id", "coins_coinwallet"."buyer_id") IN (
    SELECT * FROM unnest(%s::bigint[], %s::bigint[])
)
ORDER BY "coins_coinwallet"."id" FOR UPDATE
"""
# Their spendable lots (C-6: unexpired, holding coins), locked in pk order (the wallets, locked
# by the statement before, found again by the same pairs).
_PG_LOCK_LOTS = """
SELECT "coins_coinlot"."id", "coins_coinlot"."wallet_id", "coins_coinlot"."expires_at",
       "coins_coinlot"."remaining"
FROM "coins_coinlot"
WHERE "coins_coinlot"."wallet_id" IN (
    SELECT "coins_coinwallet"."id" FROM "coins_coinwallet"
    WHERE ("coins_coinwallet"."shop_id", "coins_coinwallet"."buyer_id") IN (
        SELECT * FROM unnest(%s::bigint[], %s::bigint[])
    )
) AND "coins_coinlot"."remaining" > 0 AND "coins_coinlot"."expires_at" > %s
ORDER BY "coins_coinlot"."id" FOR UPDATE OF "coins_coinlot"
"""
# The products' coin settings and review status (no lock: C-3 reads the switch as it is).
_PG_PRODUCT_SETTINGS = """
SELECT s."shop_id", s."product_id", s."enabled", s."max_ratio_bp", p."review_status"
FROM "coins_coinproductsetting" s INNER JOIN "shops_product" p ON p."id" = s."product_id"
WHERE s."product_id" = ANY(%s)
"""


class _Lot:
    """A locked spendable lot, as the spend needs it (SPEC C-6 order: expiry, then pk)."""

    __slots__ = ("expires_at", "pk", "remaining")

    def __init__(self, pk: int, expires_at: datetime, remaining: int) -> None:
        self.pk, self.expires_at, self.remaining = pk, expires_at, remaining


def _write(
    funds: dict[int, CoinFund],
    redemptions: list[CoinRedemption],
    spent: list[list[tuple[_Lot, int]]],
    *,
    duplicate_is_refusal: bool,
) -> None:
    """The run's writes through the ORM (any database): one statement per table."""
    if duplicate_is_refusal:
        try:
            with transaction.atomic():
                CoinRedemption.objects.bulk_create(redemptions)
        except IntegrityError:  # the order number is taken: the order itself is a duplicate
            raise order_guards.duplicate_error("order", redemptions[0].order_number) from None
    else:
        CoinRedemption.objects.bulk_create(redemptions)
    CoinRedemptionPart.objects.bulk_create(
        CoinRedemptionPart(redemption=redemption, lot_id=lot.pk, coins=take)
        for redemption, parts in zip(redemptions, spent, strict=True)
        for lot, take in parts
    )
    touched = {lot.pk: lot for parts in spent for lot, _take in parts}
    update_columns(CoinLot, ("remaining",), [(pk, lot.remaining) for pk, lot in touched.items()])
    move_many(
        kind=MovementKind.REDEEM,
        source=LedgerAccount.WALLET,
        target=LedgerAccount.SPENT,
        items=[
            (funds[r.shop_id], r.wallet, r.coins, _key(r), f"order {r.order_number}")
            for r in redemptions
        ],
    )
    save_fund_balances(list({r.shop_id: funds[r.shop_id] for r in redemptions}.values()))
    save_wallet_balances(list({r.wallet.pk: r.wallet for r in redemptions}.values()))


def _key(redemption: CoinRedemption) -> str:
    return f"redeem:{redemption.shop_id}:{redemption.order_number}"


# PostgreSQL: the run's writes in one statement of data-modifying CTEs, from two sets of arrays
# (the redemptions, and the lots each spends). The same rows as ``_write``: redemptions and their
# parts, the lots' ``remaining``, one REDEEM movement per redemption (key ``redeem:<shop>:
# <order number>``) with its two entries (wallet −coins, spent +coins), the wallets' balances and
# the funds' reserved/spent coins — the cached balances moved by the batch's sums, under the
# locks taken before. A taken order number inserts no redemption (``ON CONFLICT DO NOTHING``):
# the count says so and the caller refuses the run, which rolls every write of it back.
_WRITE_SQL = """
WITH r AS (
    INSERT INTO coins_coinredemption
        (shop_id, order_number, order_id, buyer_id, wallet_id, coins, returned, created_at)
    SELECT u.shop_id, u.number, NULL, u.buyer_id, u.wallet_id, u.coins, 0, %(now)s
    FROM unnest(%(r_shop)s::bigint[], %(r_number)s::varchar[], %(r_buyer)s::bigint[],
                %(r_wallet)s::bigint[], %(r_coins)s::bigint[])
         WITH ORDINALITY AS u(shop_id, number, buyer_id, wallet_id, coins, i)
    ORDER BY u.i
    ON CONFLICT (shop_id, order_number) DO NOTHING
    RETURNING id, shop_id, order_number, wallet_id, coins
), parts AS (
    SELECT r.id AS redemption_id, u.lot_id, u.coins
    FROM unnest(%(p_shop)s::bigint[], %(p_number)s::varchar[], %(p_lot)s::bigint[],
                %(p_coins)s::bigint[]) AS u(shop_id, number, lot_id, coins)
    JOIN r ON r.shop_id = u.shop_id AND r.order_number = u.number
), p AS (
    INSERT INTO coins_coinredemptionpart (redemption_id, lot_id, coins, returned)
    SELECT redemption_id, lot_id, coins, 0 FROM parts
    RETURNING 1
), lots AS (
    UPDATE coins_coinlot l SET remaining = l.remaining - s.coins
    FROM (SELECT lot_id, sum(coins) AS coins FROM parts GROUP BY lot_id) s
    WHERE l.id = s.lot_id
    RETURNING 1
), mv AS (
    INSERT INTO coins_coinmovement
        (shop_id, kind, coins, idempotency_key, order_id, memo, created_at)
    SELECT shop_id, %(kind)s, coins, 'redeem:' || shop_id || ':' || order_number, NULL,
           'order ' || order_number, %(now)s
    FROM r ORDER BY id
    RETURNING id, shop_id, coins, idempotency_key
), entries AS (
    INSERT INTO coins_coinentry (movement_id, shop_id, account, wallet_id, delta, created_at)
    SELECT mv.id, mv.shop_id, %(source)s, r.wallet_id, -mv.coins, %(now)s
    FROM mv JOIN r ON mv.idempotency_key = 'redeem:' || r.shop_id || ':' || r.order_number
    UNION ALL
    SELECT mv.id, mv.shop_id, %(target)s, NULL, mv.coins, %(now)s FROM mv
    RETURNING 1
), wallets AS (
    UPDATE coins_coinwallet w SET balance = w.balance - s.coins
    FROM (SELECT wallet_id, sum(coins) AS coins FROM r GROUP BY wallet_id) s
    WHERE w.id = s.wallet_id
    RETURNING 1
), funds AS (
    UPDATE coins_coinfund f SET reserved = f.reserved - s.coins, spent = f.spent + s.coins
    FROM (SELECT shop_id, sum(coins) AS coins FROM r GROUP BY shop_id) s
    WHERE f.shop_id = s.shop_id
    RETURNING 1
)
SELECT (SELECT array_agg(id ORDER BY id) FROM r),
       (SELECT array_agg(shop_id || ':' || order_number ORDER BY id) FROM r),
       (SELECT count(*) FROM p),
       (SELECT count(*) FROM lots), (SELECT count(*) FROM entries),
       (SELECT count(*) FROM wallets), (SELECT count(*) FROM funds)
"""


def _write_set_based(
    redemptions: list[CoinRedemption],
    spent: list[list[tuple[_Lot, int]]],
    *,
    now: datetime,
) -> None:
    """``_write`` on PostgreSQL, in one statement (``_WRITE_SQL``); a taken order number
    raises its ``duplicate_order`` refusal (``DomainError``), after the statement."""
    parts = [
        (r, lot, take) for r, taken in zip(redemptions, spent, strict=True) for lot, take in taken
    ]
    with connection.cursor() as cur:
        cur.execute(
            _WRITE_SQL,
            {
                "now": now,
                "r_shop": [r.shop_id for r in redemptions],
                "r_number": [r.order_number for r in redemptions],
                "r_buyer": [r.buyer_id for r in redemptions],
                "r_wallet": [r.wallet_id for r in redemptions],
                "r_coins": [r.coins for r in redemptions],
                "p_shop": [r.shop_id for r, _lot, _take in parts],
                "p_number": [r.order_number for r, _lot, _take in parts],
                "p_lot": [lot.pk for _r, lot, _take in parts],
                "p_coins": [take for _r, _lot, take in parts],
                "kind": MovementKind.REDEEM.value,
                "source": LedgerAccount.WALLET.value,
                "target": LedgerAccount.SPENT.value,
            },
        )
        ids, keys, *_counts = cur.fetchone()
    written = dict(zip(keys or [], ids or [], strict=True))
    for redemption in redemptions:
        pk = written.get(f"{redemption.shop_id}:{redemption.order_number}")
        if pk is None:  # the order number is taken: the order is a duplicate (the caller's
            # savepoint or transaction takes back every write of the statement)
            raise order_guards.duplicate_error("order", redemption.order_number)
        redemption.pk = pk
        redemption._state.adding = False


def _product_ratios(
    items: list[tuple[Order, Sequence]], *, rows: Iterable[tuple] | None = None
) -> list[list[tuple[int, int]]]:
    """SPEC C-3: per order, (line total, the product's max ratio) of each line; a line whose
    product has its deduction switch off or is not approved takes no coins (ratio 0), so a
    mixed cart deducts only within the cap of its enabled lines (``rules.check_deduction``).
    An order none of whose products takes coins is refused (``coins_product_not_enabled``).
    ``rows``: the settings as ``_PG_PRODUCT_SETTINGS`` reads them, else one query for the run
    (both paths go through here)."""
    if rows is None:
        product_ids = {line.sku.product_id for _order, lines in items for line in lines}
        rows = CoinProductSetting.objects.filter(product_id__in=product_ids).values_list(
            "shop_id", "product_id", "enabled", "max_ratio_bp", "product__review_status"
        )
    settings = {
        (shop_id, product_id): (enabled, ratio, status)
        for shop_id, product_id, enabled, ratio, status in rows
    }
    out = []
    for order, lines in items:
        ratios = []
        for line in lines:
            ratio = 0  # switch off, no setting, or not approved: the line takes no coins
            setting = settings.get((order.shop_id, line.sku.product_id))
            if setting is not None and setting[0] and product_approved(setting[2]):
                ratio = setting[1]
            ratios.append((line.quantity * line.unit_price_minor, ratio))
        if not any(ratio for _total, ratio in ratios):
            codes = ", ".join(line.sku.code for line in lines[:5])
            raise DomainError(
                f"Coins cannot be used on this order: coin deduction is off for {codes}"
                f"{', …' if len(lines) > 5 else ''}.",
                code="coins_product_not_enabled",
            )
        out.append(ratios)
    return out


def _lock_wallets(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], CoinWallet]:
    """The wallets of (shop, buyer) ``pairs`` that exist, locked in pk order (after their funds:
    a fund lock serialises wallet creation in its shop)."""
    by_shop: dict[int, list[int]] = defaultdict(list)
    for shop_id, buyer_id in sorted(pairs):
        by_shop[shop_id].append(buyer_id)
    where = reduce(or_, (Q(shop_id=s, buyer_id__in=b) for s, b in by_shop.items()))
    return {
        (w.shop_id, w.buyer_id): w
        for w in CoinWallet.objects.select_for_update().filter(where).order_by("pk")
    }


def _spend(lots: list[_Lot], coins: int) -> list[tuple[_Lot, int]]:
    """SPEC C-6: take ``coins`` from ``lots`` (soonest expiry first), in memory; (lot, coins)."""
    left, parts = coins, []
    for lot in lots:
        if not lot.remaining:
            continue
        take = min(left, lot.remaining)
        lot.remaining -= take
        left -= take
        parts.append((lot, take))
        if not left:
            break
    return parts


def redemption_link(*, order: Order) -> int:
    """After ``order.created``: point the order's redemption (if any) at the saved order."""
    return CoinRedemption.objects.filter(
        shop_id=order.shop_id, order_number=order.number, order__isnull=True
    ).update(order=order)
