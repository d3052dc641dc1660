"""SPEC numbers of the coin module (C-1), admin-changeable: the registry is
``settings.CONSTANCE_CONFIG`` (django-constance, database backend; Django admin → Rule numbers)."""

from decimal import Decimal

from constance import config


def opening_region() -> str:
    """SPEC C-1(a): the registration region a shop needs (a ``shops.models.Region`` code)."""
    return str(config.COINS_OPENING_REGION)


def min_positive_rate() -> Decimal:
    """SPEC C-1(b): minimum 90-day positive feedback rate, percent."""
    return Decimal(str(config.COINS_MIN_POSITIVE_RATE))


def violation_window_days() -> int:
    """SPEC C-1(c): no serious violation in this many days."""
    return int(config.COINS_VIOLATION_WINDOW_DAYS)
