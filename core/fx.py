"""SPEC §0 "FX rates are a dated table": conversions between currencies at a natural day's rate.

A rate applies from its day until the currency's next row (``core.models.FxRate``, kept by
platform admins). Nothing here guesses: a currency with no row on or before the day raises
``FxRateMissing`` (code ``fx_rate_missing``), and the caller says so to its reader.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from .errors import DomainError
from .money import EXPONENTS, Money, exponent

BASE = "USD"
ROUNDINGS = {"half_up": ROUND_HALF_UP, "up": ROUND_CEILING, "down": ROUND_FLOOR}


class FxRateMissing(DomainError):
    code = "fx_rate_missing"


def units_per_usd(currency: str, *, on: date) -> Decimal:
    """The rate of ``currency`` that applies on ``on`` (one query; none for USD)."""
    from .models import FxRate

    if currency == BASE:
        return Decimal(1)
    if currency not in EXPONENTS:
        raise FxRateMissing(_("%(currency)s is not a supported currency.") % {"currency": currency})
    rate = (
        FxRate.objects.filter(currency=currency, day__lte=on)
        .order_by("-day")
        .values_list("units_per_usd", flat=True)
        .first()
    )
    if rate is None:
        raise FxRateMissing(
            _("No %(currency)s exchange rate applies on %(day)s.")
            % {"currency": currency, "day": on.isoformat()}
        )
    return rate


def rate(source: str, target: str, *, on: date) -> Decimal:
    """Units of ``target`` for one unit of ``source`` on ``on``."""
    if source == target:
        return Decimal(1)
    return units_per_usd(target, on=on) / units_per_usd(source, on=on)


def convert(money: Money, target: str, *, on: date, rounding: str = "half_up") -> Money:
    """``money`` in ``target`` at the rate of ``on``, rounded once to ``target``'s minor unit
    (``half_up``, ``up`` for what is charged, ``down`` for what is granted)."""
    if money.currency == target:
        return money
    factor = rate(money.currency, target, on=on)
    major = Decimal(money.amount).scaleb(-exponent(money.currency)) * factor
    minor = major.scaleb(exponent(target)).to_integral_value(rounding=ROUNDINGS[rounding])
    return Money(int(minor), target)
