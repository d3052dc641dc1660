"""Small formatting filters of the coin pages."""

from decimal import Decimal

from django import template

from sellercenter.templatetags.sc import pct

register = template.Library()


@register.filter
def bp_pct(value):
    """Basis points as a percentage in the active language: 250 → ``2.5%``."""
    try:
        d = Decimal(int(value)) / 100
    except (TypeError, ValueError):
        return "—"
    return pct(d, 2 if d % 1 else 0)
