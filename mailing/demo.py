"""Mailing's demo data (found by ``seed_demo`` through ``demo/hooks.py``).

Set-up (SPEC M-1, M-2), this file's first part: the demo shops that pass the M-1 checks enable
marketing email (at most ``MAX_ACCOUNTS``, enabled ``ENABLED_DAYS_AGO`` days back so that the
M-8 quota tiers both show), with the default sender domain, a complete brand profile and two
templates copied from the built-ins; one of them has also entered an own subdomain whose DNS
records are not published yet (the sender domain page shows each record to add). No DNS look-up
is made by the demo.

The audience (M-3), segments (M-4), past campaigns with their tracking, health and billing
are seeded after this part by ``mailing.demo_history`` (see its docstring).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from random import Random

from django.core.files.uploadedfile import SimpleUploadedFile

from core.checks import all_passed

MAX_ACCOUNTS = 3
# How long ago each shop enabled marketing email, tried in this order: an account older than 30
# days and younger ones show both M-8 quota tiers. A shop is enabled at the first of these
# times at which it passed the M-1 checks (checked then, as enabling does).
ENABLED_DAYS_AGO = (35, 20, 5, 0)
ADDRESSES = (
    "No. 969 Wenyi West Road, Yuhang District, Hangzhou, Zhejiang 311121, China",
    "Room 1808, 18/F, Tower A, 100 Century Avenue, Pudong, Shanghai 200120, China",
    "Building 3, 88 Keji Road, Nanshan District, Shenzhen, Guangdong 518057, China",
)
PHONES = ("+86 571 8502 2088", "+86 21 6888 1234", "+86 755 8666 7788")
COLOURS = ("#e62e04", "#0b6bcb", "#1a7f37")
# A 1×1 PNG: the demo's logo (a real upload, checked by content like any other).
LOGO_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0500f0004850180848a8c210000000049454e44ae426082"
)


def seed(*, shops, rng: Random, now: datetime) -> None:
    from .selectors import eligibility_checks

    enabled: list = []
    for shop in shops:
        if len(enabled) >= MAX_ACCOUNTS:
            break
        for days in ENABLED_DAYS_AGO[len(enabled) :]:
            at = now - timedelta(days=days)
            if all_passed(eligibility_checks(shop=shop, at=at)):
                enabled.append((shop, at))
                break
    for i, (shop, at) in enumerate(enabled):
        _seed_setup(shop, rng=rng, at=at, index=i, last=i == len(enabled) - 1)
    # The audience, segments, past campaigns, health and billing (mailing.demo_history).
    from .demo_history import seed_history

    seed_history(enabled, rng=rng, now=now)


def _seed_setup(shop, *, rng: Random, at: datetime, index: int, last: bool) -> None:
    from .services import setup

    setup.mailing_enable(shop=shop, now=at)
    setup.brand_save(
        shop=shop,
        sender_name=shop.name[:80],
        primary_colour=COLOURS[index % len(COLOURS)],
        background_colour="#f5f5f5",
        physical_address=ADDRESSES[index % len(ADDRESSES)],
        service_phone=PHONES[index % len(PHONES)],
        logo=SimpleUploadedFile("logo.png", LOGO_PNG, content_type="image/png"),
    )
    keys = rng.sample(["welcome", "coins_expiring", "seasonal_promotion", "restock_alert"], 2)
    for key in keys:
        setup.template_copy(shop=shop, builtin_key=key)
    if last and index:
        # An own subdomain waiting for its records (shown as "not checked yet").
        setup.own_domain_set(shop=shop, domain=f"promo.shop{shop.pk}.example.com")


def tick(*, rng: Random, now: datetime) -> None:
    """``simulate``: opens, clicks and now and then an unsubscribe on recent campaigns."""
    from .demo_history import tick as history_tick

    history_tick(rng=rng, now=now)
