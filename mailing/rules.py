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


def dns_recheck_hours() -> int:
    """SPEC M-2: a verified own sender domain is checked again every this many hours."""
    return int(config.MAILING_DNS_RECHECK_HOURS)


def dns_propagation_hours() -> int:
    """SPEC M-10: DNS can take this long; failing domains are re-checked often until then."""
    return int(config.MAILING_DNS_PROPAGATION_HOURS)


def domain_recheck_due(
    *, status: str, last_checked_hours: float | None, failing_hours: float | None
) -> bool:
    """SPEC M-2, M-10: is an own domain due for another DNS check?

    Never checked: yes. Verified: once ``dns_recheck_hours`` have passed. Missing or wrong
    records: at every run while within ``dns_propagation_hours`` of the first failure, then
    like a verified domain (once a recheck period)."""
    if last_checked_hours is None:
        return True
    if (
        status != "verified"
        and failing_hours is not None
        and failing_hours < dns_propagation_hours()
    ):
        return True
    return last_checked_hours >= dns_recheck_hours()
