"""The payout batch CSV for the finance team (issue 9 item 6): one row per line, streamed from a
server-side cursor, every cell safe against formula injection (a promoter's name is its own
text: "=HYPERLINK(…)" must stay text in a spreadsheet)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _

from core import clock, csvexport
from core.money import Money

from .models import PayoutBatch, PayoutLine


def payout_header() -> list[str]:
    tz = clock.platform_tz()
    return [
        _("Batch"),
        _("Line"),
        _("Promoter id"),
        _("Promoter"),
        _("Email"),
        _("Currency"),
        _("Amount"),
        _("Commissions"),
        _("Status"),
        _("Reason"),
        _("Batch created (%(tz)s)") % {"tz": tz.key},
    ]


def payout_rows(batch: PayoutBatch) -> Iterator[list[object]]:
    tz = clock.platform_tz()
    lines = (
        PayoutLine.objects.filter(batch=batch)
        .select_related("promoter")
        .annotate(n=Count("items"))
        .order_by("pk")
    )
    created = batch.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    for line in lines.iterator(chunk_size=500):
        row = [
            batch.pk,
            line.pk,
            line.promoter_id,
            line.promoter.name,
            line.promoter.email,
            batch.currency,
            Money(line.amount_minor, batch.currency).decimal,
            line.n,
            line.get_status_display(),
            line.failure_reason,
            created,
        ]
        yield row


def payout_csv_response(batch: PayoutBatch) -> StreamingHttpResponse:
    return csvexport.response(
        payout_header(),
        payout_rows(batch),
        filename=f"payout-batch-{batch.pk}-{batch.currency}.csv",
    )
