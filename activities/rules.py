"""SPEC numbers of the activities module (E-3, E-4, E-8), admin-changeable: the registry is
``settings.CONSTANCE_CONFIG`` (django-constance, database backend; Django admin → Rule numbers)."""

from decimal import Decimal

from constance import config


def cancel_rate_max() -> Decimal:
    """SPEC E-3: maximum 30-day rolling cancel rate, percent (before E-4 relaxation)."""
    return Decimal(str(config.ACTIVITIES_CANCEL_RATE_MAX))


def relaxed_categories() -> frozenset[str]:
    """SPEC E-4: the main categories whose thresholds are relaxed."""
    raw = str(config.ACTIVITIES_RELAXED_CATEGORIES)
    return frozenset(c.strip() for c in raw.split(",") if c.strip())


def relaxation_factor() -> Decimal:
    """SPEC E-4: the multiplier of the relaxed categories' thresholds."""
    return Decimal(str(config.ACTIVITIES_RELAXATION_FACTOR))


def reenrol_min_dsr() -> Decimal:
    """SPEC E-8: DSR score needed to re-enrol."""
    return Decimal(str(config.ACTIVITIES_REENROL_MIN_DSR))
