"""SPEC numbers of the affiliate module (A-2), admin-changeable: the registry is
``settings.CONSTANCE_CONFIG`` (django-constance, database backend; Django admin → Rule numbers)."""

from constance import config


def min_store_level() -> int:
    """SPEC A-2: the store level a shop needs to enable its affiliate programme."""
    return int(config.AFFILIATE_MIN_STORE_LEVEL)
