import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from core import clock, csvexport
from core.pagination import KeysetPaginator, capped_count
from shops.decorators import shop_required
from shops.models import Carrier
from shops.selectors import can_see_buyer_contacts

from . import panels
from .forms import OrderFilterForm, SearchForm
from .models import Order, OrderStatus, Shipment, TrackingStatus
from .selectors import (
    get_order_for_shop,
    order_tab_counts,
    orders_for_export,
    orders_for_shop,
    search_shop,
    ship_by,
)

# A filtered list's total is counted up to this many rows only ("more than 10,000"); the pages
# themselves go on past it (keyset pagination, core.pagination).
COUNT_CAP = 10_000


SORTABLE = {"placed": "placed", "amount": "amount", "number": "number"}


def _sort_links(current: str) -> dict[str, dict]:
    """For each sortable column: the sort to link to and the arrow to show."""
    links = {}
    for column in SORTABLE:
        if current == column:
            links[column] = {"next": f"-{column}", "dir": "asc"}
        elif current == f"-{column}":
            links[column] = {"next": column, "dir": "desc"}
        else:
            links[column] = {"next": f"-{column}" if column != "number" else column, "dir": ""}
    return links


# Pages that show buyers' contacts (even masked): read-only (GET/HEAD), never stored by a
# shared or browser cache (DESIGN §5).
contacts_page = cache_control(private=True, no_store=True)


def _tabs(*, counts: dict[str, int], current: str) -> list[dict]:
    """The status tabs: "All" first, then every status, each with its count."""
    choices = [("", _("All")), *OrderStatus.choices]
    return [
        {"value": value, "label": label, "count": counts.get(value, 0), "active": value == current}
        for value, label in choices
    ]


@require_safe
@contacts_page
@shop_required
def order_list(request):
    search_contacts = can_see_buyer_contacts(request.membership)
    form = OrderFilterForm(request.GET or None, can_search_contacts=search_contacts)
    filters = form.filters()
    qs = orders_for_shop(shop=request.shop, search_contacts=search_contacts, **filters)
    # The tabs count from the shop's daily figures (one aggregate over a few hundred rows).
    counts = order_tab_counts(shop=request.shop)
    # Unfiltered, or by status only: the shop's daily figures already count these orders.
    if not any(v for k, v in filters.items() if k not in {"sort", "status"}):
        total, capped = counts.get(filters.get("status", ""), 0), False
    else:
        total, capped = capped_count(qs, COUNT_CAP)
    page = KeysetPaginator(qs, per_page=settings.SC_PAGE_SIZE).get_page(request.GET)
    now = clock.now()
    rows = []
    for o in page:
        deadline = ship_by(order=o, now=now)
        # Whole hours, rounded towards the deadline's side: "due in 12 h" until 11 h are left.
        seconds = deadline.left.total_seconds() if deadline else 0
        hours = math.ceil(seconds / 3600) if seconds > 0 else int(-seconds // 3600)
        rows.append({"order": o, "ship_by": deadline, "hours": hours})
    context = {
        "form": form,
        "page_obj": page,
        "rows": rows,
        "total": total,
        "capped": capped,
        "tabs": _tabs(counts=counts, current=filters.get("status", "")),
        "status": filters.get("status", ""),
        "sort": filters["sort"],
        "sort_links": _sort_links(filters["sort"]),
        "filtered": any(v for k, v in filters.items() if k not in {"sort", "status"}),
        "show_ship_by": filters.get("status", "") in ("", OrderStatus.PAID),
    }
    template = "orders/list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#orders-table"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _export_header() -> list[str]:
    tz = clock.platform_tz()
    return [
        _("Order number"),
        _("Placed (%(tz)s)") % {"tz": tz.key},
        _("Status"),
        _("Disputed"),
        _("Buyer id"),
        _("Buyer contact"),
        _("Country"),
        _("Payment method"),
        _("Currency"),
        _("Amount paid"),
        _("Refunded"),
        _("Ship by (%(tz)s)") % {"tz": tz.key},
    ]


def _export_rows(orders: Iterable[Order], *, contacts: bool) -> Iterator[list[object]]:
    tz = clock.platform_tz()
    now = clock.now()
    for o in orders:
        deadline = ship_by(order=o, now=now)
        if contacts:
            contact = " ".join(x for x in (o.buyer.email, o.buyer.phone) if x)
        else:
            contact = o.buyer.masked_contact
        row = [
            o.number,
            o.placed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            o.status_label,
            _("yes") if o.disputed else "",
            o.buyer.external_id,
            contact,
            o.buyer.country,
            o.payment_method_label,
            o.currency,
            o.amount_paid.decimal,
            o.refunded.decimal,
            deadline.at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if deadline else "",
        ]
        yield row


@require_safe
@contacts_page
@shop_required
def order_export(request):
    """The orders the list shows (same filters), as CSV, streamed: rows leave as they are
    read through a server-side cursor, so memory stays flat whatever the shop's size."""
    contacts = can_see_buyer_contacts(request.membership)
    form = OrderFilterForm(request.GET or None, can_search_contacts=contacts)
    filters = form.filters()
    orders = orders_for_export(shop=request.shop, search_contacts=contacts, **filters)
    stamp = clock.now().astimezone(clock.platform_tz()).strftime("%Y%m%d-%H%M")
    return csvexport.response(
        _export_header(),
        _export_rows(orders, contacts=contacts),
        filename=f"orders-{request.shop.pk}-{stamp}.csv",
    )


@require_safe
@shop_required
def search(request):
    """The top-bar search: an order number, a buyer id or a SKU code of the current shop.

    One match jumps straight to it; several are listed; none says so. Another shop's
    objects are never found (every lookup is scoped to ``request.shop``).
    """
    contacts = can_see_buyer_contacts(request.membership)
    form = SearchForm(request.GET or None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    hits = search_shop(shop=request.shop, q=q, search_contacts=contacts) if q else []
    results = [(hit, _hit_url(hit)) for hit in hits]
    if len(results) == 1:
        return redirect(results[0][1])
    return render(
        request,
        "orders/search.html",
        {"form": form, "q": q, "results": results, "contacts": contacts},
    )


def _hit_url(hit) -> str:
    if hit.kind == "order":
        return reverse("orders:detail", args=[hit.pk])
    if hit.kind == "sku":
        return reverse("shops:product_detail", args=[hit.pk])
    return reverse("orders:list") + "?" + urlencode({"buyer": hit.label})


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    title: str
    detail: str
    icon: str
    tone: str
    # Where the fact sits in an order's lifecycle: facts recorded at the same instant (an
    # import stamps several with one time) are shown in lifecycle order, not insertion order.
    rank: int = 50


# Lifecycle rank of each kind of fact: the tie-break of the timeline's sort by time.
RANK = {
    "placed": 0,
    "payment": 10,
    "paid": 11,
    "cancelled": 15,
    TrackingStatus.INFO_RECEIVED: 20,
    "shipped": 21,
    TrackingStatus.PICKED_UP: 22,
    TrackingStatus.IN_TRANSIT: 23,
    TrackingStatus.CUSTOMS: 24,
    TrackingStatus.NO_UPDATE: 25,
    TrackingStatus.EXCEPTION: 26,
    TrackingStatus.OUT_FOR_DELIVERY: 27,
    "delivered": 30,
    "completed": 40,
    "dispute_opened": 50,
    "dispute_closed": 51,
    "refund": 60,
}


def _timeline(order: Order) -> list[TimelineEntry]:
    """The order's facts in the order they happened, each once (no queries of its own).

    Sorted by time, ties broken by lifecycle rank and then by the order facts were read
    in (a stable sort). The carrier's "delivered" scan and the order's own delivery are the
    same fact: it is shown once, from the scan (which says where).
    """
    entries = [
        TimelineEntry(
            order.placed_at,
            _("Order placed"),
            ngettext(
                "%(n)s line, payable %(amount)s",
                "%(n)s lines, payable %(amount)s",
                len(order.lines.all()),
            )
            % {"n": len(order.lines.all()), "amount": order.payable_before_coins.format()},
            "bi-bag",
            "primary",
            RANK["placed"],
        )
    ]
    for p in order.payments.all():
        ok = p.status == "succeeded"
        entries.append(
            TimelineEntry(
                p.paid_at,
                _("Payment succeeded") if ok else _("Payment failed"),
                f"{order._m(p.amount_minor).format()} · {p.get_method_display()}",
                "bi-credit-card",
                "success" if ok else "danger",
                RANK["payment"],
            )
        )
    if order.paid_at and not order.payments.all():
        entries.append(
            TimelineEntry(
                order.paid_at,
                _("Paid"),
                order.amount_paid.format(),
                "bi-credit-card",
                "success",
                RANK["paid"],
            )
        )
    shipment = _shipment(order)
    scans = list(shipment.events.all()) if shipment is not None else []
    if shipment is not None:
        entries.append(
            TimelineEntry(
                shipment.shipped_at,
                # The seller's ship confirmation (the tracking number handed in): the carrier's
                # own "label created" scan may well come after it, and is shown after it.
                _("Marked as shipped"),
                _("%(carrier)s, tracking number %(number)s")
                % {"carrier": _carrier_label(shipment.carrier), "number": shipment.tracking_number},
                "bi-truck",
                "info",
                RANK["shipped"],
            )
        )
        for ev in scans:
            detail = " · ".join(x for x in (ev.location, ev.description) if x)
            delivered = ev.status == TrackingStatus.DELIVERED
            entries.append(
                TimelineEntry(
                    ev.occurred_at,
                    ev.get_status_display(),
                    detail,
                    "bi-house-check" if delivered else "bi-geo-alt",
                    "success"
                    if delivered
                    else "warning"
                    if ev.status in ("exception", "no_update")
                    else "secondary",
                    RANK.get(ev.status, RANK["shipped"]),
                )
            )
    elif order.shipped_at:
        entries.append(
            TimelineEntry(
                order.shipped_at, _("Marked as shipped"), "", "bi-truck", "info", RANK["shipped"]
            )
        )
    delivered_scan = any(ev.status == TrackingStatus.DELIVERED for ev in scans)
    if order.delivered_at and not delivered_scan:
        entries.append(
            TimelineEntry(
                order.delivered_at,
                _("Delivered"),
                "",
                "bi-house-check",
                "success",
                RANK["delivered"],
            )
        )
    if order.completed_at:
        entries.append(
            TimelineEntry(
                order.completed_at,
                _("Completed"),
                "",
                "bi-check2-circle",
                "success",
                RANK["completed"],
            )
        )
    if order.cancelled_at:
        entries.append(
            TimelineEntry(
                order.cancelled_at,
                _("Cancelled"),
                "",
                "bi-x-circle",
                "secondary",
                RANK["cancelled"],
            )
        )
    for r in order.refunds.all():
        kind = _("Full refund") if r.full else _("Partial refund")
        entries.append(
            TimelineEntry(
                r.refunded_at,
                kind,
                " · ".join(x for x in (order._m(r.amount_minor).format(), r.reason) if x),
                "bi-arrow-counterclockwise",
                "danger",
                RANK["refund"],
            )
        )
    for d in order.disputes.all():
        entries.append(
            TimelineEntry(
                d.opened_at,
                _("Dispute opened"),
                d.reason,
                "bi-flag",
                "warning",
                RANK["dispute_opened"],
            )
        )
        if d.closed_at:
            entries.append(
                TimelineEntry(
                    d.closed_at,
                    _("Dispute closed"),
                    d.get_outcome_display(),
                    "bi-flag-fill",
                    "secondary",
                    RANK["dispute_closed"],
                )
            )
    return sorted(entries, key=lambda e: (e.at, e.rank))


def _shipment(order: Order) -> Shipment | None:
    try:
        return order.shipment
    except Shipment.DoesNotExist:
        return None


def _carrier_label(code: str) -> str:
    return Carrier(code).label if code in Carrier.values else code


@require_safe
@contacts_page
@shop_required
def order_detail(request, order_id: int):
    order = get_order_for_shop(shop=request.shop, order_id=order_id)
    shipment = _shipment(order)
    lines = list(order.lines.all())
    context = {
        "order": order,
        "lines": lines,
        "payments": list(order.payments.all()),
        "shipment": shipment,
        "carrier_label": _carrier_label(shipment.carrier) if shipment else "",
        "tracking_events": list(shipment.events.all()) if shipment else [],
        "refunds": list(order.refunds.all()),
        "disputes": list(order.disputes.all()),
        "timeline": _timeline(order),
        # What the buyer had to pay: items + shipping - coupon - coins (SPEC C-3).
        "payable": order.payable_before_coins - order.coin_deduction,
        "ship_by": ship_by(order=order, now=clock.now()),
        # Sections of the modules above orders (coins: SPEC C-8/C-9), registered by them.
        "panels": panels.render_context(request, order),
    }
    return render(request, "orders/detail.html", context)
