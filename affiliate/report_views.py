"""The seller's affiliate reports (SPEC A-9): the daily commission report with its charts (each
with the figures as a table), the pending-commission detail, and both as CSV (formula-safe,
streamed). Read-only: every role of the shop; only the current shop's commissions.

The page and CSV pieces (``chart``, ``status_rows``, ``figures``, ``pending_csv_response`` …)
serve the promoter portal's reports too (``affiliate.portal.report_views``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from core import clock, csvexport
from core.money import Money
from shops.decorators import shop_required

from . import reports
from .models import Commission, CommissionStatus


def period_days(request) -> int:
    """The report's period from ``?days=``: one of ``reports.WINDOWS``, else 30."""
    try:
        days = int(request.GET.get("days", 30))
    except (TypeError, ValueError):
        return 30
    return days if days in reports.WINDOWS else 30


def hold_label(reason: str) -> str:
    """Why an open commission is on hold, as the seller sees it (the fraud details are for the
    platform and the promoter)."""
    if reason == "dispute":
        return _("Dispute open")
    if reason == "fraud":
        return _("Under review by the platform")
    return ""


def chart(rows: list[reports.Day], currency: str) -> dict:
    """The daily report's chart data (money per day by state, orders per day), labels
    translated, for ``json_script`` and ``js/affiliate_report.js``."""

    def major(minor: int) -> float:
        return float(Money(minor, currency).decimal)

    return {
        "labels": [date_format(d.day, "m-d") for d in rows],
        "money": {
            "pending": [major(d.pending_minor) for d in rows],
            "settled": [major(d.settled_minor) for d in rows],
            "reversed": [major(d.reversed_minor) for d in rows],
            "labels": {
                "pending": _("Pending"),
                "settled": _("Settled"),
                "reversed": _("Reversed"),
            },
        },
        "orders": {"values": [d.orders for d in rows], "label": _("Attributed orders")},
    }


def status_rows(rows: list[dict], currency: str) -> list[dict]:
    """``reports.by_status`` rows with their label and net amount, for the page."""
    labels = dict(CommissionStatus.choices)
    return [
        {**s, "label": labels.get(s["status"], s["status"]), "net": Money(s["net_minor"], currency)}
        for s in rows
    ]


def figure_header() -> list[str]:
    """The report CSV's figure columns (``figures`` fills them)."""
    return [
        _("Attributed orders"),
        _("Currency"),
        _("Pending"),
        _("Settled"),
        _("Reversed"),
        _("Void"),
    ]


def figures(
    currency: str,
    *,
    orders: int,
    pending_minor: int,
    settled_minor: int,
    reversed_minor: int,
    void: int,
    **_other,
) -> list:
    """One report row's figures (a ``reports.Day`` as a dict, or a grouped row) as CSV cells:
    counts as numbers, amounts in major units of ``currency``."""

    def amount(minor: int):
        return Money(minor, currency).decimal

    return [
        orders, currency, amount(pending_minor), amount(settled_minor), amount(reversed_minor),
        void,
    ]  # fmt: skip


def day_header() -> str:
    return _("Day (%(tz)s)") % {"tz": clock.platform_tz().key}


def whole_period(days: int) -> str:
    """The day cell of a row that sums the whole period (per PID, shop or status)."""
    return _("all %(days)s days") % {"days": days}


def pending_csv_response(
    qs: QuerySet[Commission], *, party_label: str, party: Callable[[Commission], str], filename: str
):
    """Open commissions as CSV, streamed through a server-side cursor; ``party`` is who is on
    the other side of each commission (the promoter for a seller, the shop for a promoter)."""
    tz = clock.platform_tz()

    def when(at) -> str:
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else ""

    def rows():
        for c in qs.iterator(chunk_size=2000):
            yield [
                c.order.number, party(c), c.pid.code, c.get_status_display(),
                hold_label(c.hold_reason) if c.status == CommissionStatus.ON_HOLD else "",
                when(c.locked_at), when(c.settle_due_at),
                c.currency, Money(c.net_minor, c.currency).decimal,
            ]  # fmt: skip

    header = [
        _("Order number"),
        party_label,
        _("PID"),
        _("Status"),
        _("On hold because"),
        _("Locked (%(tz)s)") % {"tz": tz.key},
        _("Settles from (%(tz)s)") % {"tz": tz.key},
        _("Currency"),
        _("Commission"),
    ]
    return csvexport.response(header, rows(), filename=filename)


def stamp() -> str:
    return clock.now().astimezone(clock.platform_tz()).strftime("%Y%m%d-%H%M")


@require_safe
@shop_required
def report(request):
    shop = request.shop
    days = period_days(request)
    rows = reports.daily(shop=shop, days=days)
    currency = shop.currency
    pids = Paginator(reports.by_pid(shop=shop, days=days), settings.SC_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    template = "affiliate/report.html"
    if request.htmx and not request.htmx.history_restore_request and "page" in request.GET:
        template += "#pid-table"
    response = render(
        request,
        template,
        {
            "days": days,
            "windows": reports.WINDOWS,
            "rows": rows,
            "total": reports.totals(rows),
            "currency": currency,
            "statuses": status_rows(reports.by_status(shop=shop, days=days), currency),
            "pid_page": pids,
            "chart": chart(rows, currency),
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@shop_required
def pending(request):
    page = Paginator(reports.pending(shop=request.shop), settings.SC_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for c in page.object_list:
        c.hold_label = hold_label(c.hold_reason) if c.status == CommissionStatus.ON_HOLD else ""
    template = "affiliate/pending.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#pending-list"
    response = render(request, template, {"page_obj": page})
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@shop_required
def report_csv(request):
    """The daily report of the chosen period as CSV: one line per day, then per PID."""
    shop = request.shop
    days = period_days(request)
    currency = shop.currency

    def rows():
        for d in reports.daily(shop=shop, days=days):
            yield [d.day.isoformat(), "", "", *figures(currency, **asdict(d))]
        for p in reports.by_pid(shop=shop, days=days).iterator(chunk_size=2000):
            yield [whole_period(days), p["pid__code"], p["promoter__name"], *figures(currency, **p)]

    header = [day_header(), _("PID"), _("Promoter"), *figure_header()]
    return csvexport.response(
        header, rows(), filename=f"affiliate-report-{shop.pk}-{days}d-{stamp()}.csv"
    )


@require_safe
@shop_required
def pending_csv(request):
    """Every open commission of the shop as CSV, streamed through a server-side cursor."""
    shop = request.shop
    return pending_csv_response(
        reports.pending(shop=shop),
        party_label=_("Promoter"),
        party=lambda c: c.promoter.name,
        filename=f"affiliate-pending-{shop.pk}-{stamp()}.csv",
    )
