"""Promoter payouts (issue 9 item 6): a batch per currency of every promoter whose balance
reached the payout minimum, a CSV for the finance team, a status per line, and a paid batch that
never changes again (the database refuses it: migration 0003).

Money: a line pays the promoter's ledger balance at the batch's creation — what the ledger says
we owe, so an earlier clawback is netted. Marking the batch paid posts one ``payout`` entry per
paid line (idempotent key per line) and moves the line's settled commissions to *paid out*
(SPEC A-6). A failed line moves nothing: its commissions stay settled and its balance is owed
in the next batch. Promoters in trial are never paid (SPEC A-1).

Lock order: the batch row, then its lines, then the commissions (pk order), then the promoter
balance (``promoter_ledger_post``).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from core import clock
from core.errors import DomainError, InvalidTransition

from .. import rules
from ..models import (
    Commission,
    CommissionStatus,
    PayoutBatch,
    PayoutBatchStatus,
    PayoutItem,
    PayoutLine,
    PayoutLineStatus,
    PromoterBalance,
    PromoterEntry,
    PromoterStatus,
)
from ..notices import notice_send
from .commissions import promoter_ledger_post


def payout_batch_create(*, currency: str, by=None, now: datetime | None = None) -> PayoutBatch:
    """A new open batch of every approved promoter past its trial whose ``currency`` balance
    reached the minimum. Refused while another batch of the currency is open (pay or fail its
    lines first), or when nobody is due."""
    now = now or clock.now()
    minimum = rules.payout_minimum_minor()
    currency = (currency or "").upper()
    try:
        with transaction.atomic():
            open_batches = PayoutBatch.objects.filter(
                currency=currency, status=PayoutBatchStatus.OPEN
            )
            if open_batches.exists():
                raise DomainError(
                    f"A {currency} payout batch is still open: mark it paid first.",
                    code="payout_batch_open",
                )
            batch = PayoutBatch.objects.create(
                currency=currency, minimum_minor=minimum, created_at=now, created_by=by
            )
            balances = list(
                PromoterBalance.objects.select_for_update()
                .filter(
                    currency=currency,
                    balance_minor__gte=max(minimum, 1),
                    promoter__status=PromoterStatus.APPROVED,
                    promoter__trial=False,
                )
                .order_by("pk")
            )
            total = 0
            for balance in balances:
                if not rules.payout_due(balance_minor=balance.balance_minor, minimum_minor=minimum):
                    continue
                line = PayoutLine.objects.create(
                    batch=batch, promoter_id=balance.promoter_id, amount_minor=balance.balance_minor
                )
                commission_ids = Commission.objects.filter(
                    promoter_id=balance.promoter_id,
                    currency=currency,
                    status=CommissionStatus.SETTLED,
                ).values_list("pk", flat=True)
                PayoutItem.objects.bulk_create(
                    [PayoutItem(line=line, commission_id=c) for c in commission_ids]
                )
                total += balance.balance_minor
            if not total:
                raise DomainError(
                    f"No promoter is due a {currency} payout (balance at least the minimum, "
                    "approved and past its trial).",
                    code="payout_nobody_due",
                )
            batch.total_minor = total
            batch.save(update_fields=["total_minor"])
    except IntegrityError:  # a second admin created the open batch at the same moment
        raise DomainError(
            f"A {currency} payout batch is still open: mark it paid first.",
            code="payout_batch_open",
        ) from None
    return batch


def _open_batch(batch_id: int) -> PayoutBatch:
    batch = PayoutBatch.objects.select_for_update().get(pk=batch_id)
    if batch.status != PayoutBatchStatus.OPEN:
        raise InvalidTransition("This payout batch is paid; it can no longer change.")
    return batch


@transaction.atomic
def payout_line_fail(*, line_id: int, reason: str) -> PayoutLine:
    """The bank refused this transfer: nothing moves, the balance waits for the next batch."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise DomainError(
            "Say why the transfer failed (at most 300 characters).", code="reason_required"
        )
    line = PayoutLine.objects.select_related("batch").get(pk=line_id)
    _open_batch(line.batch_id)
    line = PayoutLine.objects.select_for_update().get(pk=line_id)
    if line.status != PayoutLineStatus.PENDING:
        raise InvalidTransition("Only a pending payout line can fail.")
    line.status = PayoutLineStatus.FAILED
    line.failure_reason = reason
    line.decided_at = clock.now()
    line.save(update_fields=["status", "failure_reason", "decided_at"])
    notice_send(
        promoter_id=line.promoter_id,
        kind="payout_failed",
        params={
            "amount_minor": line.amount_minor,
            "currency": line.amount.currency,
            "reason": reason,
        },
        created_at=line.decided_at,
    )
    return line


@transaction.atomic
def payout_batch_mark_paid(*, batch_id: int, by=None, now: datetime | None = None) -> PayoutBatch:
    """Finance transferred the batch: every pending line is paid (a payout entry in the
    promoter's ledger, its commissions paid out); the batch is then paid and immutable."""
    now = now or clock.now()
    batch = _open_batch(batch_id)
    lines = list(
        PayoutLine.objects.select_for_update()
        .filter(batch=batch, status=PayoutLineStatus.PENDING)
        .order_by("pk")
    )
    for line in lines:
        commission_ids = list(line.items.values_list("commission_id", flat=True))
        commissions = list(
            Commission.objects.select_for_update().filter(pk__in=commission_ids).order_by("pk")
        )
        promoter_ledger_post(
            promoter_id=line.promoter_id,
            currency=batch.currency,
            amount_minor=-line.amount_minor,
            kind=PromoterEntry.Kind.PAYOUT,
            key=f"affiliate:payout-line:{line.pk}",
        )
        for c in commissions:
            # A commission reversed since the batch was made keeps its state (its clawback is
            # already in the ledger).
            if c.status == CommissionStatus.SETTLED:
                c.status = CommissionStatus.PAID_OUT
                c.paid_out_at = now
                c.save(update_fields=["status", "paid_out_at", "updated_at"])
        line.status = PayoutLineStatus.PAID
        line.decided_at = now
        line.save(update_fields=["status", "decided_at"])
        notice_send(
            promoter_id=line.promoter_id,
            kind="payout_paid",
            params={
                "amount_minor": line.amount_minor,
                "currency": batch.currency,
                "batch": batch.pk,
            },
            created_at=now,
        )
    batch.status = PayoutBatchStatus.PAID
    batch.paid_at = now
    batch.paid_by = by
    batch.save(update_fields=["status", "paid_at", "paid_by"])
    return batch
