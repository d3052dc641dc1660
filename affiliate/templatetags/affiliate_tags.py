from decimal import Decimal

from django import template

from sellercenter.templatetags.sc import pct

register = template.Library()


@register.filter
def rate_bp(value):
    """A rate in basis points as a percentage: 1000 → ``10%``, 1250 → ``12.5%``, 55 → ``0.55%``."""
    if value is None:
        return "—"
    bp = int(value)
    digits = 0 if bp % 100 == 0 else (1 if bp % 10 == 0 else 2)
    return pct(Decimal(bp) / 100, digits)
