"""SPEC numbers of the marketing-email module (M-1), admin-changeable: the registry is
``settings.CONSTANCE_CONFIG`` (django-constance, database backend; Django admin → Rule numbers)."""

from dataclasses import dataclass
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


# --- the audience (SPEC M-3, M-4, M-13; B-8) ---------------------------------------------------


def double_opt_in_countries() -> frozenset[str]:
    """SPEC M-3: countries whose recipients need double opt-in (Decision: EU + EEA)."""
    return _countries(config.MAILING_DOUBLE_OPT_IN_COUNTRIES)


def hard_bounce_quarantine_days() -> int:
    """SPEC M-3/M-10: days a hard-bounced address stays suppressed."""
    return int(config.MAILING_HARD_BOUNCE_QUARANTINE_DAYS)


def confirmation_link_days() -> int:
    """SPEC M-3: days a double opt-in confirmation link stays valid."""
    return int(config.MAILING_CONFIRMATION_LINK_DAYS)


def import_max_rows() -> int:
    """SPEC M-13: the most rows one CSV import may hold."""
    return int(config.MAILING_IMPORT_MAX_ROWS)


_AUDIENCE_KEYS = (
    "MAILING_DOUBLE_OPT_IN_COUNTRIES",
    "MAILING_RFM_RECENT_DAYS",
    "MAILING_RFM_LAPSED_DAYS",
    "MAILING_RFM_FREQUENT_ORDERS",
)


@dataclass(frozen=True)
class AudienceNumbers:
    """The numbers one audience query applies (SPEC M-3 countries, B-8 RFM thresholds)."""

    double_opt_in_countries: frozenset[str]
    rfm_recent_days: int
    rfm_lapsed_days: int
    rfm_frequent_orders: int


def _countries(raw: object) -> frozenset[str]:
    return frozenset(c.strip().upper() for c in str(raw).replace("\n", ",").split(",") if c.strip())


def audience_numbers() -> AudienceNumbers:
    """Every number of an audience query, read in one query (the registry's database backend
    reads one row per number otherwise)."""
    backend = config._backend
    stored = dict(backend.mget(list(_AUDIENCE_KEYS))) if hasattr(backend, "mget") else {}
    v = {k: stored[k] if stored.get(k) is not None else getattr(config, k) for k in _AUDIENCE_KEYS}
    return AudienceNumbers(
        double_opt_in_countries=_countries(v["MAILING_DOUBLE_OPT_IN_COUNTRIES"]),
        rfm_recent_days=int(v["MAILING_RFM_RECENT_DAYS"]),
        rfm_lapsed_days=int(v["MAILING_RFM_LAPSED_DAYS"]),
        rfm_frequent_orders=int(v["MAILING_RFM_FREQUENT_ORDERS"]),
    )
