from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from core.pagination import KeysetPaginator, capped_count
from shops.decorators import shop_required
from shops.models import Carrier
from shops.selectors import can_see_buyer_contacts

from .forms import OrderFilterForm
from .models import Order, Shipment
from .selectors import get_order_for_shop, order_count, orders_for_shop

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


@require_safe
@contacts_page
@shop_required
def order_list(request):
    search_contacts = can_see_buyer_contacts(request.membership)
    form = OrderFilterForm(request.GET or None, can_search_contacts=search_contacts)
    filters = form.filters()
    qs = orders_for_shop(shop=request.shop, search_contacts=search_contacts, **filters)
    # Unfiltered, or by status only: the shop's daily figures already count these orders.
    if not any(v for k, v in filters.items() if k not in {"sort", "status"}):
        total, capped = order_count(shop=request.shop, status=filters.get("status", "")), False
    else:
        total, capped = capped_count(qs, COUNT_CAP)
    page = KeysetPaginator(qs, per_page=settings.SC_PAGE_SIZE).get_page(request.GET)
    context = {
        "form": form,
        "page_obj": page,
        "total": total,
        "capped": capped,
        "sort": filters["sort"],
        "sort_links": _sort_links(filters["sort"]),
        "filtered": any(v for k, v in filters.items() if k != "sort"),
    }
    template = "orders/list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#orders-table"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    title: str
    detail: str
    icon: str
    tone: str


def _timeline(order: Order) -> list[TimelineEntry]:
    """The order's lifecycle from what is already loaded (no queries of its own)."""
    entries = [
        TimelineEntry(
            order.placed_at,
            _("Order placed"),
            _("%(n)s line(s), payable %(amount)s")
            % {"n": len(order.lines.all()), "amount": order.payable_before_coins.format()},
            "bi-bag",
            "primary",
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
            )
        )
    if order.paid_at and not order.payments.all():
        entries.append(
            TimelineEntry(
                order.paid_at, _("Paid"), order.amount_paid.format(), "bi-credit-card", "success"
            )
        )
    shipment = _shipment(order)
    if shipment is not None:
        entries.append(
            TimelineEntry(
                shipment.shipped_at,
                _("Shipped"),
                _("%(carrier)s, tracking number %(number)s")
                % {"carrier": _carrier_label(shipment.carrier), "number": shipment.tracking_number},
                "bi-truck",
                "info",
            )
        )
        for ev in shipment.events.all():
            detail = " · ".join(x for x in (ev.location, ev.description) if x)
            entries.append(
                TimelineEntry(
                    ev.occurred_at,
                    ev.get_status_display(),
                    detail,
                    "bi-geo-alt",
                    "warning" if ev.status in ("exception", "no_update") else "secondary",
                )
            )
    elif order.shipped_at:
        entries.append(TimelineEntry(order.shipped_at, _("Shipped"), "", "bi-truck", "info"))
    if order.delivered_at:
        entries.append(
            TimelineEntry(order.delivered_at, _("Delivered"), "", "bi-house-check", "success")
        )
    if order.completed_at:
        entries.append(
            TimelineEntry(order.completed_at, _("Completed"), "", "bi-check2-circle", "success")
        )
    if order.cancelled_at:
        entries.append(
            TimelineEntry(order.cancelled_at, _("Cancelled"), "", "bi-x-circle", "secondary")
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
            )
        )
    for d in order.disputes.all():
        entries.append(
            TimelineEntry(d.opened_at, _("Dispute opened"), d.reason, "bi-flag", "warning")
        )
        if d.closed_at:
            entries.append(
                TimelineEntry(
                    d.closed_at,
                    _("Dispute closed"),
                    d.get_outcome_display(),
                    "bi-flag-fill",
                    "secondary",
                )
            )
    # Stable sort: same-instant entries keep their lifecycle order.
    return sorted(entries, key=lambda e: e.at)


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
    }
    return render(request, "orders/detail.html", context)
