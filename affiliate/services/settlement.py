"""Set-based settlement on PostgreSQL (SPEC A-6/A-7): the hourly job in batches, not per row.

One transaction per batch of due commissions (``settle_due_at`` order, then pk; a keyset cursor
so commissions left waiting are not read again in the same run):

1. the batch's commissions are locked ``FOR UPDATE SKIP LOCKED`` (a commission a refund handler
   holds is left to the next run), with their order numbers;
2. the shop balances of the batch are locked in pk order (DESIGN §3: commission, then shop
   balance, then promoter balance), and the ``affiliate:settle:<id>`` keys already in the shop
   ledger are read (a commission whose debit exists is not debited again);
3. in due order per shop, each commission the running balance covers is debited, the others wait
   (the same rule as the row-by-row path: a later, smaller commission may still fit);
4. the debits go in with one ``INSERT`` (their ``balance_after`` computed in that order), the
   shop balances with one ``UPDATE``; the promoters' balances are made if missing, locked in pk
   order, their credits inserted in one statement and the balances updated in one;
5. one ``UPDATE`` settles the batch's settled commissions, one marks the newly waiting ones.

Idempotent as the row path: the ledger keys are unique, a settled commission is no longer
``pre_issued``. SQLite (the embedded ``make run``) keeps the row path.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import F

from shops.models import BalanceEntry, EntryKind, ShopBalance

from ..models import Commission, CommissionStatus, PromoterBalance, PromoterEntry

S = CommissionStatus


def _batch(now: datetime, after: tuple[datetime, int] | None, size: int) -> list[tuple]:
    qs = Commission.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        status=S.PRE_ISSUED, settle_due_at__lte=now
    )
    if after is not None:
        from django.db.models import Q

        qs = qs.filter(Q(settle_due_at__gt=after[0]) | Q(settle_due_at=after[0], pk__gt=after[1]))
    return list(
        qs.order_by("settle_due_at", "pk").values_list(
            "pk",
            "shop_id",
            "promoter_id",
            "currency",
            "amount_minor",
            "reversed_minor",
            "settle_blocked_at",
            "order__number",
            "settle_due_at",
        )[:size]
    )


def settle_pg(*, now: datetime, batch: int = 5000) -> tuple[int, int, list[int]]:
    """Settle every commission due at ``now``. Returns (settled, waiting, newly waiting ids)."""
    settled = waiting = 0
    newly: list[int] = []
    after: tuple[datetime, int] | None = None
    while True:
        with transaction.atomic():
            rows = _batch(now, after, batch)
            if not rows:
                break
            after = (rows[-1][8], rows[-1][0])
            s, w, n = _settle_rows(rows, now)
            settled, waiting = settled + s, waiting + w
            newly += n
        if len(rows) < batch:
            break
    return settled, waiting, newly


def _settle_rows(rows: list[tuple], now: datetime) -> tuple[int, int, list[int]]:
    keys = [f"affiliate:settle:{r[0]}" for r in rows]
    debited = set(
        BalanceEntry.objects.filter(idempotency_key__in=keys).values_list(
            "idempotency_key", flat=True
        )
    )
    shop_ids = sorted({r[1] for r in rows})
    balances = {
        (b.shop_id, b.currency): b
        for b in ShopBalance.objects.select_for_update().filter(shop_id__in=shop_ids).order_by("pk")
    }
    entries: list[BalanceEntry] = []
    settle: list[int] = []
    credits: list[tuple[int, int, str, int]] = []  # (commission, promoter, currency, net)
    wait_new: list[int] = []
    wait = 0
    for pk, shop_id, promoter_id, currency, amount, reversed_, blocked_at, number, _ in rows:
        net = amount - reversed_
        key = f"affiliate:settle:{pk}"
        if net > 0 and key not in debited:
            balance = balances.get((shop_id, currency))
            if balance is None or balance.balance_minor < net:
                wait += 1
                if blocked_at is None:
                    wait_new.append(pk)
                continue
            balance.balance_minor -= net
            balance.updated_at = now
            entries.append(
                BalanceEntry(
                    balance=balance,
                    shop_id=shop_id,
                    kind=EntryKind.DEBIT,
                    amount_minor=net,
                    currency=currency,
                    balance_after_minor=balance.balance_minor,
                    reason=f"Affiliate commission, order {number}",
                    idempotency_key=key,
                )
            )
        if net > 0:
            credits.append((pk, promoter_id, currency, net))
        settle.append(pk)
    if entries:
        BalanceEntry.objects.bulk_create(entries)
        changed = {e.balance_id: e.balance for e in entries}
        ShopBalance.objects.bulk_update(list(changed.values()), ["balance_minor", "updated_at"])
    if credits:
        _credit_promoters(credits, now)
    if settle:
        Commission.objects.filter(pk__in=settle).update(
            status=S.SETTLED,
            settled_at=now,
            settled_minor=F("amount_minor") - F("reversed_minor"),
            settle_blocked_at=None,
            updated_at=now,
        )
    if wait_new:
        Commission.objects.filter(pk__in=wait_new).update(settle_blocked_at=now, updated_at=now)
    return len(settle), wait, wait_new


def _credit_promoters(credits: list[tuple[int, int, str, int]], now: datetime) -> None:
    keys = [f"affiliate:commission:{c[0]}" for c in credits]
    done = set(
        PromoterEntry.objects.filter(idempotency_key__in=keys).values_list(
            "idempotency_key", flat=True
        )
    )
    wanted = sorted({(p, cur) for _, p, cur, _ in credits})
    PromoterBalance.objects.bulk_create(
        [PromoterBalance(promoter_id=p, currency=cur) for p, cur in wanted], ignore_conflicts=True
    )
    promoter_ids = sorted({p for p, _ in wanted})
    balances = {
        (b.promoter_id, b.currency): b
        for b in PromoterBalance.objects.select_for_update()
        .filter(promoter_id__in=promoter_ids)
        .order_by("pk")
    }
    entries = []
    touched: dict[int, PromoterBalance] = {}
    for pk, promoter_id, currency, net in credits:
        key = f"affiliate:commission:{pk}"
        if key in done:
            continue
        balance = balances[(promoter_id, currency)]
        balance.balance_minor += net
        touched[balance.pk] = balance
        entries.append(
            PromoterEntry(
                balance=balance,
                kind=PromoterEntry.Kind.COMMISSION,
                amount_minor=net,
                balance_after_minor=balance.balance_minor,
                commission_id=pk,
                idempotency_key=key,
                created_at=now,
            )
        )
    if entries:
        PromoterEntry.objects.bulk_create(entries)
        PromoterBalance.objects.bulk_update(list(touched.values()), ["balance_minor"])


def waiting_by_shop(ids: list[int]) -> dict[int, list[Commission]]:
    out: dict[int, list[Commission]] = defaultdict(list)
    for c in Commission.objects.filter(pk__in=ids).select_related("shop").order_by("pk"):
        out[c.shop_id].append(c)
    return out
