"""Presentation helpers of the seller pages: money, rates, the platform time zone."""

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

from core import clock
from core.money import Money
from shops.selectors import can_see_buyer_contacts

register = template.Library()


@register.filter
def money(value, currency=None):
    """``{{ order.gmv|money }}`` or ``{{ minor_units|money:"USD" }}``; empty for None."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Money):
        return value.format()
    if currency:
        try:
            return Money(int(value), str(currency)).format()
        except (TypeError, ValueError):
            return "—"
    return str(value)


@register.filter
def pct(value, digits=1):
    """A percentage (Decimal of percent points) such as ``93.1%``; ``—`` when unknown."""
    if value is None or value == "":
        return "—"
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        return "—"
    return f"{d:.{int(digits)}f}%"


@register.filter
def score(value):
    """A 0-5 score with two decimals, ``—`` when there is none."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)):.2f}"


@register.simple_tag
def platform_tz():
    """The platform time zone (SPEC §0), for ``{% timezone %}`` blocks."""
    return clock.platform_tz()


@register.simple_tag
def platform_tz_label():
    tz = clock.platform_tz()
    offset = clock.now().astimezone(tz).strftime("%z")
    return _("Times in %(tz)s (UTC%(offset)s)") % {
        "tz": tz.key,
        "offset": f"{offset[:3]}:{offset[3:]}",
    }


STATUS_STYLES = {
    "pending_payment": "warning",
    "paid": "primary",
    "shipped": "info",
    "delivered": "teal",
    "completed": "success",
    "cancelled": "secondary",
    "refunded": "danger",
    "pending": "warning",
    "approved": "success",
    "rejected": "danger",
}


@register.filter
def status_style(value):
    """The colour family of a status badge (``sc-badge-<style>`` in app.css)."""
    return STATUS_STYLES.get(str(value), "secondary")


@register.filter
def can_see_contacts(membership):
    """SPEC B-8: contacts in full only where the membership says so (``Membership`` decides)."""
    return can_see_buyer_contacts(membership)


@register.simple_tag
def elided_pages(page_obj, on_each_side=2, on_ends=1):
    """Page numbers around the current one, with ellipses (``Paginator.ELLIPSIS``)."""
    return list(
        page_obj.paginator.get_elided_page_range(
            page_obj.number, on_each_side=on_each_side, on_ends=on_ends
        )
    )
