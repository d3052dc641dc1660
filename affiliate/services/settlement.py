"""Set-based settlement on PostgreSQL (SPEC A-6/A-7): the hourly job in batches, not per row.

One transaction per batch of due commissions (``settle_due_at`` order, then pk; a keyset cursor
so commissions left waiting are not read again in the same run), a few statements a batch and
no model instance:

1. the batch's commissions are locked ``FOR UPDATE SKIP LOCKED`` (a commission a refund handler
   holds is left to the next run), with their order numbers;
2. the shop balances of the batch are locked in pk order (DESIGN §3: commission, then shop
   balance, then promoter balance);
3. per shop, the debits go through the shop balance ledger's batch path
   (``shops.services.balance_debit_batch``): in due order, each commission the running balance
   covers is debited, the others wait (the same rule as the row-by-row path: a later, smaller
   commission may still fit); a commission whose ``affiliate:settle:<id>`` debit is already in
   the ledger is not debited again;
4. the promoters' balances are made if missing and locked in pk order; one ``INSERT … SELECT
   FROM unnest`` writes their credits (``balance_after`` chained by a window sum, a credit whose
   key exists skipped) and one ``UPDATE … FROM`` moves the balances;
5. one ``UPDATE … WHERE id = ANY`` settles the batch's settled commissions, one marks the newly
   waiting ones.

Idempotent as the row path: the ledger keys are unique, a settled commission is no longer
``pre_issued``; a run killed mid-way committed whole batches only and the next run resumes.
SQLite (the embedded ``make run``) keeps the row path.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import connection, transaction

from shops.models import Shop, ShopBalance
from shops.notices import Reason
from shops.services import balance_debit_batch

from ..models import Commission, PromoterEntry

SETTLE_KEY = "affiliate:settle:"
CREDIT_KEY = "affiliate:commission:"

_BATCH = """
SELECT c.id, c.shop_id, c.promoter_id, c.currency, c.amount_minor - c.reversed_minor,
       c.settle_blocked_at IS NULL, o.number, c.settle_due_at
FROM affiliate_commission c JOIN orders_order o ON o.id = c.order_id
WHERE c.status = 'pre_issued' AND c.settle_due_at <= %(now)s
  AND (%(after_at)s::timestamptz IS NULL OR c.settle_due_at >= %(after_at)s)
  AND (%(after_at)s::timestamptz IS NULL OR (c.settle_due_at, c.id) > (%(after_at)s, %(after_id)s))
ORDER BY c.settle_due_at, c.id
LIMIT %(size)s
FOR UPDATE OF c SKIP LOCKED
"""

# The promoters' credits of a batch: balance_after chained per balance in the given order, a
# credit already in the ledger (its key) skipped, then the balances moved by what was written.
_CREDITS = """
WITH src AS (
  SELECT u.commission_id, u.promoter_id, u.currency, u.net, u.n
  FROM unnest(%(ids)s::bigint[], %(promoters)s::bigint[], %(currencies)s::text[],
              %(nets)s::bigint[]) WITH ORDINALITY AS u(commission_id, promoter_id, currency, net, n)
  WHERE NOT EXISTS (SELECT 1 FROM affiliate_promoterentry e
                    WHERE e.idempotency_key = %(prefix)s || u.commission_id)
), new AS (
  SELECT s.*, b.id AS balance_id,
         b.balance_minor + sum(s.net) OVER (PARTITION BY b.id ORDER BY s.n) AS after
  FROM src s JOIN affiliate_promoterbalance b
    ON b.promoter_id = s.promoter_id AND b.currency = s.currency
), ins AS (
  INSERT INTO affiliate_promoterentry (balance_id, kind, amount_minor, balance_after_minor,
                                       commission_id, idempotency_key, created_at)
  SELECT balance_id, %(kind)s, net, after, commission_id, %(prefix)s || commission_id, %(now)s
  FROM new ORDER BY n
)
UPDATE affiliate_promoterbalance b SET balance_minor = b.balance_minor + t.total
FROM (SELECT balance_id, sum(net) AS total FROM new GROUP BY balance_id) t
WHERE b.id = t.balance_id
"""


def settle_pg(*, now: datetime, batch: int = 5000) -> tuple[int, int, list[int]]:
    """Settle every commission due at ``now``. Returns (settled, waiting, newly waiting ids)."""
    settled = waiting = 0
    newly: list[int] = []
    after: tuple[datetime | None, int] = (None, 0)
    while True:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                _BATCH, {"now": now, "after_at": after[0], "after_id": after[1], "size": batch}
            )
            rows = cur.fetchall()
            if not rows:
                break
            after = (rows[-1][7], rows[-1][0])
            s, w, n = _settle_rows(cur, rows, now)
            settled, waiting = settled + s, waiting + w
            newly += n
        if len(rows) < batch:
            break
    return settled, waiting, newly


def _settle_rows(cur, rows: list[tuple], now: datetime) -> tuple[int, int, list[int]]:
    # Shop balances locked in pk order before any debit (DESIGN §3).
    shop_ids = sorted({r[1] for r in rows})
    list(
        ShopBalance.objects.select_for_update()
        .filter(shop_id__in=shop_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    shops = Shop.objects.in_bulk(shop_ids)
    groups: dict[tuple[int, str], list[tuple]] = defaultdict(list)
    for r in rows:
        if r[4] > 0:
            groups[(r[1], r[3])].append(r)
    refused: set[str] = set()
    for (shop_id, currency), group in groups.items():
        debits = [
            (f"{SETTLE_KEY}{r[0]}", r[4], Reason("affiliate.commission", {"order": r[6]}))
            for r in group
        ]
        if currency != shops[shop_id].currency:  # no balance of that currency: it waits
            refused.update(d[0] for d in debits)
            continue
        refused.update(
            balance_debit_batch(shop=shops[shop_id], currency=currency, debits=debits).refused
        )
    settle: list[int] = []
    credits: list[tuple] = []
    wait_new: list[int] = []
    wait = 0
    for pk, _shop, promoter_id, currency, net, unblocked, *_ in rows:
        if net > 0 and f"{SETTLE_KEY}{pk}" in refused:
            wait += 1
            if unblocked:
                wait_new.append(pk)
            continue
        if net > 0:
            credits.append((pk, promoter_id, currency, net))
        settle.append(pk)
    if credits:
        _credit_promoters(cur, credits, now)
    if settle:
        cur.execute(
            "UPDATE affiliate_commission SET status = 'settled', settled_at = %s,"
            " settled_minor = amount_minor - reversed_minor, settle_blocked_at = NULL,"
            " updated_at = %s WHERE id = ANY(%s)",
            [now, now, settle],
        )
    if wait_new:
        cur.execute(
            "UPDATE affiliate_commission SET settle_blocked_at = %s, updated_at = %s"
            " WHERE id = ANY(%s)",
            [now, now, wait_new],
        )
    return len(settle), wait, wait_new


def _credit_promoters(cur, credits: list[tuple], now: datetime) -> None:
    wanted = sorted({(c[1], c[2]) for c in credits})
    cur.execute(
        "INSERT INTO affiliate_promoterbalance (promoter_id, currency, balance_minor)"
        " SELECT p, c, 0 FROM unnest(%s::bigint[], %s::text[]) AS u(p, c)"
        " ON CONFLICT (promoter_id, currency) DO NOTHING",
        [[w[0] for w in wanted], [w[1] for w in wanted]],
    )
    cur.execute(
        "SELECT id FROM affiliate_promoterbalance WHERE promoter_id = ANY(%s) ORDER BY id"
        " FOR UPDATE",
        [sorted({w[0] for w in wanted})],
    )
    cur.execute(
        _CREDITS,
        {
            "ids": [c[0] for c in credits],
            "promoters": [c[1] for c in credits],
            "currencies": [c[2] for c in credits],
            "nets": [c[3] for c in credits],
            "prefix": CREDIT_KEY,
            "kind": PromoterEntry.Kind.COMMISSION,
            "now": now,
        },
    )


def waiting_by_shop(ids: list[int]) -> dict[int, list[Commission]]:
    out: dict[int, list[Commission]] = defaultdict(list)
    for c in Commission.objects.filter(pk__in=ids).select_related("shop").order_by("pk"):
        out[c.shop_id].append(c)
    return out
