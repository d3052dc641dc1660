"""The seller's affiliate reports (SPEC A-9): the daily commission report with its charts (each
with the figures as a table), the pending-commission detail, and both as CSV (formula-safe,
streamed). Read-only: every role of the shop; only the current shop's commissions."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from core import clock, csvexport
from core.money import Money
from shops.decorators import shop_required

from . import reports
from .models import CommissionStatus


def _days(request) -> int:
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


@require_safe
@shop_required
def report(request):
    shop = request.shop
    days = _days(request)
    rows = reports.daily(shop=shop, days=days)
    currency = shop.currency

    def major(minor: int) -> float:
        return float(Money(minor, currency).decimal)

    chart = {
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
    labels = dict(CommissionStatus.choices)
    statuses = [
        {**s, "label": labels.get(s["status"], s["status"]), "net": Money(s["net_minor"], currency)}
        for s in reports.by_status(shop=shop, days=days)
    ]
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
            "statuses": statuses,
            "pid_page": pids,
            "chart": chart,
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


def _stamp() -> str:
    return clock.now().astimezone(clock.platform_tz()).strftime("%Y%m%d-%H%M")


@require_safe
@shop_required
def report_csv(request):
    """The daily report of the chosen period as CSV: one line per day, then per PID."""
    shop = request.shop
    days = _days(request)
    currency = shop.currency

    def amount(minor: int):
        return Money(minor, currency).decimal

    def rows():
        for d in reports.daily(shop=shop, days=days):
            yield [
                d.day.isoformat(), "", "", d.orders, currency, amount(d.pending_minor),
                amount(d.settled_minor), amount(d.reversed_minor), d.void,
            ]  # fmt: skip
        for p in reports.by_pid(shop=shop, days=days).iterator(chunk_size=2000):
            yield [
                _("all %(days)s days") % {"days": days}, p["pid__code"], p["promoter__name"],
                p["orders"], currency, amount(p["pending_minor"]), amount(p["settled_minor"]),
                amount(p["reversed_minor"]), p["void"],
            ]  # fmt: skip

    header = [
        _("Day (%(tz)s)") % {"tz": clock.platform_tz().key},
        _("PID"),
        _("Promoter"),
        _("Attributed orders"),
        _("Currency"),
        _("Pending"),
        _("Settled"),
        _("Reversed"),
        _("Void"),
    ]
    return csvexport.response(
        header, rows(), filename=f"affiliate-report-{shop.pk}-{days}d-{_stamp()}.csv"
    )


@require_safe
@shop_required
def pending_csv(request):
    """Every open commission of the shop as CSV, streamed through a server-side cursor."""
    shop = request.shop
    tz = clock.platform_tz()

    def when(at) -> str:
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else ""

    def rows():
        for c in reports.pending(shop=shop).iterator(chunk_size=2000):
            yield [
                c.order.number, c.promoter.name, c.pid.code, c.get_status_display(),
                hold_label(c.hold_reason) if c.status == CommissionStatus.ON_HOLD else "",
                when(c.locked_at), when(c.settle_due_at),
                c.currency, Money(c.net_minor, c.currency).decimal,
            ]  # fmt: skip

    header = [
        _("Order number"),
        _("Promoter"),
        _("PID"),
        _("Status"),
        _("On hold because"),
        _("Locked (%(tz)s)") % {"tz": tz.key},
        _("Settles from (%(tz)s)") % {"tz": tz.key},
        _("Currency"),
        _("Commission"),
    ]
    return csvexport.response(
        header, rows(), filename=f"affiliate-pending-{shop.pk}-{_stamp()}.csv"
    )
