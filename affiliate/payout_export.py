"""The payout batch CSV for the finance team (issue 9 item 6): one row per line, streamed from a
server-side cursor, every cell safe against formula injection (a promoter's name is its own
text: "=HYPERLINK(…)" must stay text in a spreadsheet)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import Count
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _

from core import clock
from core.money import Money
from orders.views import csv_safe

from .models import PayoutBatch, PayoutLine


class _Echo:
    def write(self, value: str) -> str:
        return value


def payout_rows(batch: PayoutBatch) -> Iterator[str]:
    tz = clock.platform_tz()
    writer = csv.writer(_Echo())
    yield "\ufeff"  # Excel reads the file as UTF-8 (Chinese names)
    yield writer.writerow(
        [
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
    )
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
        yield writer.writerow([csv_safe(v) for v in row])


def payout_csv_response(batch: PayoutBatch) -> StreamingHttpResponse:
    response = StreamingHttpResponse(payout_rows(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="payout-batch-{batch.pk}-{batch.currency}.csv"'
    )
    response["Cache-Control"] = "private, no-store"
    return response
