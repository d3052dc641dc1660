"""The request's country for SPEC B-4: a trusted edge header, else a local GeoIP2 database.

``SC_BUYER_COUNTRY_HEADER`` names the META key a CDN or proxy sets (``HTTP_CF_IPCOUNTRY``);
only configure it when that edge overwrites the header on every request, or a client could send
its own. ``SC_BUYER_GEOIP_DATABASE`` is a GeoLite2/GeoIP2 Country ``.mmdb`` file, used when the
header is not configured (needs the optional ``geoip2`` package). Neither → no country (no
signal: the check passes).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings

log = logging.getLogger(__name__)


def _clean(value: str | None) -> str | None:
    value = (value or "").strip().upper()
    if len(value) == 2 and value.isascii() and value.isalpha() and value not in ("XX", "T1"):
        return value
    return None


@lru_cache(maxsize=1)
def _reader(path: str):
    try:
        import geoip2.database  # type: ignore[import-not-found]
    except ImportError:
        log.warning("SC_BUYER_GEOIP_DATABASE is set but the geoip2 package is not installed")
        return None
    try:
        return geoip2.database.Reader(path)
    except (OSError, ValueError):
        log.warning("SC_BUYER_GEOIP_DATABASE %s cannot be opened", path)
        return None


def country_for(*, meta: dict, ip: str | None) -> str | None:
    """ISO 3166-1 alpha-2 country of the request, or None when unknown."""
    header = settings.SC_BUYER_COUNTRY_HEADER
    if header:
        return _clean(meta.get(header))
    path = settings.SC_BUYER_GEOIP_DATABASE
    if path and ip:
        reader = _reader(path)
        if reader is None:
            return None
        try:
            return _clean(reader.country(ip).country.iso_code)
        except Exception:
            return None
    return None
