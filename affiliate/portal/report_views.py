"""The promoter portal's reports (SPEC A-9): the daily commission report — by day of lock, by PID,
by shop and by status, with its chart and the figures as tables — and, as CSV, that report and the
pending commissions. The seller's report reads (``affiliate.reports``) and page pieces
(``affiliate.report_views``), asked for the signed-in promoter's commissions instead of a shop's.

Only the promoter's own commissions; the report is in one currency at a time (a promoter earns
from shops in several), the one chosen or else the first of the period. Days are natural days in
the platform time zone. Read-only.
"""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from core import csvexport

from .. import reports
from ..models import CommissionStatus, Promoter
from ..report_views import (
    chart,
    day_header,
    figure_header,
    figures,
    pending_csv_response,
    period_days,
    stamp,
    status_rows,
    whole_period,
)
from .session import approved_required

BREAKDOWNS = ("pid", "shop")
DEFAULT_CURRENCY = "USD"  # before any commission, as the payouts page


def _currency(request, *, promoter: Promoter, days: int) -> tuple[str, list[str]]:
    """The report's currency (``?currency=`` if the promoter has commissions in it in the
    period, else the first such) and the choices."""
    options = reports.currencies(promoter=promoter, days=days)
    chosen = request.GET.get("currency", "")
    if chosen in options:
        return chosen, options
    return (options[0] if options else DEFAULT_CURRENCY), options


@require_safe
@approved_required
def report(request):
    promoter = request.promoter
    days = period_days(request)
    currency, currencies = _currency(request, promoter=promoter, days=days)
    scope = {"promoter": promoter, "currency": currency, "days": days}
    rows = reports.daily(**scope)
    by = request.GET.get("by") if request.GET.get("by") in BREAKDOWNS else "pid"
    breakdown = reports.by_shop(**scope) if by == "shop" else reports.by_pid(**scope)
    page = Paginator(breakdown, settings.SC_PAGE_SIZE).get_page(request.GET.get("page"))
    template = "affiliate/portal/report.html"
    if request.htmx and not request.htmx.history_restore_request and "page" in request.GET:
        template += "#breakdown-table"
    response = render(
        request,
        template,
        {
            "days": days,
            "windows": reports.WINDOWS,
            "currency": currency,
            "currencies": currencies,
            "rows": rows,
            "total": reports.totals(rows),
            "statuses": status_rows(reports.by_status(**scope), currency),
            "by": by,
            "page_obj": page,
            "chart": chart(rows, currency),
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@approved_required
def report_csv(request):
    """The report of the chosen period and currency as CSV: one line per day, then per PID,
    per shop and per status over the whole period."""
    promoter = request.promoter
    days = period_days(request)
    currency, _choices = _currency(request, promoter=promoter, days=days)
    scope = {"promoter": promoter, "currency": currency, "days": days}
    labels = dict(CommissionStatus.choices)

    def rows():
        for d in reports.daily(**scope):
            yield [d.day.isoformat(), "", "", "", *figures(currency, **asdict(d))]
        period = whole_period(days)
        for p in reports.by_pid(**scope).iterator(chunk_size=2000):
            yield [period, p["pid__code"], "", "", *figures(currency, **p)]
        for s in reports.by_shop(**scope).iterator(chunk_size=2000):
            yield [period, "", s["shop__name"], "", *figures(currency, **s)]
        for st in reports.by_status(**scope):
            label = labels.get(st["status"], st["status"])
            yield [period, "", "", label, *figures(currency, **st)]

    header = [day_header(), _("PID"), _("Shop"), _("Status"), *figure_header()]
    filename = f"promoter-report-{promoter.pk}-{currency}-{days}d-{stamp()}.csv"
    return csvexport.response(header, rows(), filename=filename)


@require_safe
@approved_required
def pending_csv(request):
    """Every open commission of the promoter (locked, pre-issued, on hold), all currencies."""
    promoter = request.promoter
    return pending_csv_response(
        reports.pending(promoter=promoter),
        party_label=_("Shop"),
        party=lambda c: c.shop.name,
        filename=f"promoter-pending-{promoter.pk}-{stamp()}.csv",
    )
