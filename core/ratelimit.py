"""Rate limits through Django's cache: a thin layer over django-ratelimit.

django-ratelimit keeps one counter per (group, key, window) in the ``default`` cache with an
atomic ``incr`` — Redis when ``REDIS_URL`` is set, so every web process shares the counters;
the embedded default's local-memory cache counts per process (a limit then holds per worker).

A limit is a group name (what is limited), a key (whom: the client IP or any string such as an
account or a phone number) and a rate (``"5/15m"``: five per fifteen-minute window; the
windows are fixed, staggered per key). Two ways to use one:

- ``hit(...)`` counts one more use and tells whether the limit is now exceeded (e.g. "send a
  verification code": every send counts);
- ``exceeded(...)`` only looks, and ``hit(...)`` is called on failures only (e.g. a login:
  only wrong passwords count, and while the limit is exceeded even the right one is refused).

Example::

    from core import ratelimit

    if ratelimit.hit(request, group="mailing.verify", key=contact, rate="3/h") or \
       ratelimit.hit(request, group="mailing.verify", key=ratelimit.IP, rate="20/h"):
        raise DomainError(_("Too many codes requested; try again later."), code="rate_limited")
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

IP = object()  # the key "the client's IP address" (``client_ip`` below)


def client_ip(request: HttpRequest) -> str:
    """The client's address (django-ratelimit's ``RATELIMIT_IP_META_KEY`` points here).

    ``SC_CLIENT_IP_META_KEY`` names the header a reverse proxy sets (e.g. ``HTTP_X_REAL_IP``);
    without it, ``REMOTE_ADDR``. Whatever is not one valid address (a missing header, junk, a
    forwarded list) falls back to ``REMOTE_ADDR``, then to ``0.0.0.0``: a header never makes the
    request fail, and junk in it only puts its sender in the shared fallback bucket.
    """
    for meta in (settings.SC_CLIENT_IP_META_KEY, "REMOTE_ADDR"):
        value = request.META.get(meta, "") if meta else ""
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            continue
    return "0.0.0.0"  # noqa: S104 (a bucket name, not a bind address)


@dataclass(frozen=True)
class Usage:
    count: int  # uses counted in the current window
    limit: int
    seconds_left: int  # until the window resets

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


def _key(key):
    if key is IP:
        return "ip"
    value = str(key)
    # Hashed before it reaches the cache key, so a contact or a username is never stored.
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return lambda group, request: digest


def usage(request: HttpRequest, *, group: str, key, rate: str, increment: bool) -> Usage:
    u = get_usage(request, group=group, key=_key(key), rate=rate, increment=increment)
    if u is None:  # RATELIMIT_ENABLE = False
        return Usage(count=0, limit=1, seconds_left=0)
    return Usage(count=u["count"], limit=u["limit"], seconds_left=max(u["time_left"], 0))


def hit(request: HttpRequest, *, group: str, key, rate: str) -> bool:
    """Count one use; True when this use goes over the limit."""
    return usage(request, group=group, key=key, rate=rate, increment=True).exceeded


def exceeded(request: HttpRequest, *, group: str, key, rate: str) -> bool:
    """True when the uses counted so far have reached the limit (the next one is refused).

    For limits counted after the fact (failures): ``limit`` failures are allowed, then every
    attempt is refused until the window resets.
    """
    u = usage(request, group=group, key=key, rate=rate, increment=False)
    return u.count >= u.limit
