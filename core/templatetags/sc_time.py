"""Times with their time zone beside them (DESIGN §5: "times labelled with their time zone").

``{% load sc_time %}``

- ``{{ order.placed_at|tztime }}`` → ``<time datetime="2026-12-02T11:33:00+08:00">2026-12-02 11:33
  <abbr title="Asia/Shanghai, UTC+08:00">CST</abbr></time>``; a format may be given
  (``{{ dt|tztime:"H:i" }}``, any ``date`` filter format or a format name such as
  ``"SHORT_DATETIME_FORMAT"``). ``—`` for an empty value.
- ``{% tz_abbr %}``: the zone's abbreviation alone, with the same title (for a column header).
- ``{% tz_label %}``: "Times in Asia/Shanghai (UTC+08:00)", for a footer or a caption.

Every seller page shows times in the platform time zone (SPEC §0, ``core.clock.platform_tz``),
whatever zone a template block has activated: a partial that htmx renders on its own shows the
same zone as the full page.
"""

from datetime import date, datetime, tzinfo

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from core import clock

register = template.Library()

DEFAULT_FORMAT = "Y-m-d H:i"


def _offset(dt: datetime) -> str:
    """``+08:00`` (ISO style, never the bare ``+0800``)."""
    raw = dt.strftime("%z") or "+0000"
    return f"{raw[:3]}:{raw[3:5]}"


def zone_abbreviation(dt: datetime) -> str:
    """The zone's abbreviation at ``dt`` (``CST``, ``CET``/``CEST``); ``UTC+08:00`` when the
    tz database has only a number for it (``+08``)."""
    name = dt.tzname() or ""
    return name if name.isalpha() else f"UTC{_offset(dt)}"


def zone_title(dt: datetime, tz: tzinfo) -> str:
    return f"{getattr(tz, 'key', str(tz))}, UTC{_offset(dt)}"


@register.filter(is_safe=True)
def tztime(value, fmt: str = DEFAULT_FORMAT):
    """A time in the platform zone with the zone's abbreviation, as a ``<time>`` element."""
    if value in (None, ""):
        return "—"
    if not isinstance(value, datetime):
        if isinstance(value, date):  # a date has no time zone to show
            return formats.date_format(value, "Y-m-d" if fmt == DEFAULT_FORMAT else fmt)
        return value
    tz = clock.platform_tz()
    local = timezone.localtime(value, tz) if timezone.is_aware(value) else value.replace(tzinfo=tz)
    return format_html(
        '<time datetime="{}">{} <abbr class="sc-tz" title="{}">{}</abbr></time>',
        local.isoformat(),
        formats.date_format(local, fmt),
        zone_title(local, tz),
        zone_abbreviation(local),
    )


@register.simple_tag
def tz_abbr():
    tz = clock.platform_tz()
    now = clock.now().astimezone(tz)
    return format_html(
        '<abbr class="sc-tz" title="{}">{}</abbr>', zone_title(now, tz), zone_abbreviation(now)
    )


@register.simple_tag
def tz_label():
    tz = clock.platform_tz()
    now = clock.now().astimezone(tz)
    return _("Times in %(tz)s (UTC%(offset)s)") % {
        "tz": getattr(tz, "key", str(tz)),
        "offset": _offset(now),
    }


@register.simple_tag
def tz_offset():
    """``UTC+08:00``: the platform zone's offset now."""
    return f"UTC{_offset(clock.now().astimezone(clock.platform_tz()))}"
