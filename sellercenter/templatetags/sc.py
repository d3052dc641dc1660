"""Presentation helpers of the seller pages: money, counts, rates, dates, the platform time zone.

Numbers and dates follow the active language (``num``, ``pct``, ``points``, ``ldate``), with one
currency style everywhere (``money``: the symbol of ``core.money.SYMBOLS``, the same one the
dashboard charts put on their axes and tooltips).
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import dateformat, timezone
from django.utils.translation import get_language
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


# Per language: (group separator, decimal separator, group size), after CLDR. Django's own
# zh_Hans formats group by ten thousand with no separator ("12345"), which sellers read as an
# error next to the "12,345" of every marketplace console and of the charts (Intl, CLDR).
NUMBER_STYLES = {"en": (",", ".", 3), "zh-hans": (",", ".", 3)}

# Per language: the date styles of the seller pages (Django date-format characters).
DATE_STYLES = {
    "en": {"date": "M j, Y", "day": "M j", "datetime": "M j, Y H:i", "time": "H:i"},
    "zh-hans": {"date": "Y年n月j日", "day": "n月j日", "datetime": "Y年n月j日 H:i", "time": "H:i"},
}


def _lang() -> str:
    lang = (get_language() or "en").lower()
    return lang if lang in NUMBER_STYLES else lang.split("-")[0]


def format_number(value, digits: int = 0) -> str:
    """``value`` with the active language's separators, ``digits`` decimals (0: an integer)."""
    group, decimal, size = NUMBER_STYLES.get(_lang(), NUMBER_STYLES["en"])
    d = Decimal(str(value))
    sign = "-" if d < 0 else ""
    text = f"{abs(d):.{int(digits)}f}"
    whole, _dot, frac = text.partition(".")
    groups = []
    while len(whole) > size:
        groups.insert(0, whole[-size:])
        whole = whole[:-size]
    groups.insert(0, whole)
    out = group.join(groups)
    return f"{sign}{out}{decimal}{frac}" if frac else f"{sign}{out}"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (ArithmeticError, InvalidOperation, ValueError):
        return None


@register.filter
def num(value, digits=0):
    """A count or amount with thousands separators in the active language (``12,345``)."""
    d = _decimal(value)
    if d is None:
        return "—"
    return format_number(d, int(digits))


@register.filter
def pct(value, digits=1):
    """A percentage (Decimal of percent points) such as ``93.1%``; ``—`` when unknown."""
    d = _decimal(value)
    if d is None:
        return "—"
    return f"{format_number(d, int(digits))}%"


@register.filter
def ldate(value, style="date"):
    """A date or time in the active language: ``date`` (Dec 2, 2026 / 2026年12月2日), ``day``
    (Dec 2 / 12月2日), ``datetime`` or ``time``; aware datetimes in the current time zone."""
    if value in (None, ""):
        return "—"
    if not isinstance(value, date):
        return str(value)
    formats = DATE_STYLES.get(_lang(), DATE_STYLES["en"])
    fmt = formats.get(str(style), formats["date"])
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return dateformat.format(value, fmt)
    return dateformat.format(value, fmt)


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
