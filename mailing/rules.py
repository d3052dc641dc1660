"""SPEC numbers of the marketing-email module (M-1), admin-changeable: the registry is
``settings.CONSTANCE_CONFIG`` (django-constance, database backend; Django admin → Rule numbers)."""

from decimal import Decimal

from constance import config

from core.money import Money


def min_shop_age_days() -> int:
    """SPEC M-1: the shop has been open at least this many days."""
    return int(config.MAILING_MIN_SHOP_AGE_DAYS)


def min_gmv_30d() -> Money:
    """SPEC M-1: minimum 30-day GMV, as Money (integer minor units, never floats)."""
    return Money(int(config.MAILING_MIN_GMV_30D_MINOR), str(config.MAILING_MIN_GMV_30D_CURRENCY))


def min_store_rating() -> Decimal:
    """SPEC M-1: minimum store rating (0-5)."""
    return Decimal(str(config.MAILING_MIN_STORE_RATING))


def violation_window_days() -> int:
    """SPEC M-1 (Decision: M-1 names no window; the C-1 window is used)."""
    return int(config.MAILING_VIOLATION_WINDOW_DAYS)
