"""Buyer accounts' demo data (found by ``seed_demo`` through ``demo/hooks.py``), written through
the buyers' own services (``buyer_register``, ``code_request``, ``buyer_verify_contact``,
``buyers_flag_low_activity``, ``buyers_risk_flag``):

- a handful of buyers registered by email or phone, their contact verified with the code;
- one in risk review: declared Brazil, registered from a Russian IP (SPEC B-4);
- one device used by four registrations within days: all four flagged (SPEC B-5);
- a few registered a week ago who never paid: flagged low activity (SPEC B-6);
- one recent customer of each demo shop in risk review, so the shop's home tile shows one.

So the admin risk-review queue and the registration-abuse monitor have data after ``make run``.
Every demo account signs in with ``DEMO_PASSWORD`` (README "Buyer accounts").

Deterministic for a ``--seed`` (the snapshot tests compare buyers table by table), through the
services' own parameters, never by patching them:

- each registration happens "then": the services take ``now`` (the registration's time);
- the account ids come from ``rng`` (``external_id``), the codes are the services' own;
- no code is delivered (``deliver=False``): the contacts are fake (``example.*`` domains), the
  demo verifies with the code the request returns. A code request refused by the rate limits
  leaves the account unverified.

``tick`` registers a buyer now and then (``simulate``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from random import Random

DEMO_PASSWORD = "harbour-lantern-42"  # noqa: S105 - the demo buyers' password, documented

VERIFIED = [  # contact, declared country, site
    ("lina.moreau@example.com", "FR", "fr"),
    ("jonas.becker@example.com", "DE", "de"),
    ("maria.rossi@example.com", "IT", "it"),
    ("+33612345678", "FR", "fr"),
    ("+4915123456789", "DE", "de"),
    ("+12025550143", "US", "us"),
]
MISMATCH = ("carlos.mendes@example.com", "BR", "br", "RU")  # + IP country
SHARED_DEVICE = [f"promo.hunter{i}@example.org" for i in range(1, 5)]
LOW_ACTIVITY = [
    ("olga.ivanova@example.com", "RU", "ru"),
    ("tom.walker@example.com", "US", "us"),
    ("+48512345678", "PL", "pl"),
]


def _register(
    rng: Random,
    raw: str,
    *,
    country: str,
    site: str,
    at: datetime,
    ip: str,
    ip_country: str | None = None,
    device_id: str = "",
    verify: bool = True,
):
    from .models import CodePurpose
    from .services import accounts
    from .services.identity import ContactTaken

    contact = accounts.parse_contact(raw)
    external_id = f"sc-{rng.getrandbits(96):024x}"  # drawn even when refused: ids stay stable
    try:
        result = accounts.buyer_register(
            contact=contact,
            password=DEMO_PASSWORD,
            country=country,
            site=site,
            device_id=device_id,
            ip=ip,
            ip_country=ip_country or country,
            external_id=external_id,
            now=at,
        )
    except ContactTaken:
        return None  # a marketplace buyer already has this contact
    if not verify:
        return result.buyer
    then = at + timedelta(minutes=2)
    try:
        sent = accounts.code_request(
            contact=contact, purpose=CodePurpose.REGISTER, ip=ip, now=then, deliver=False
        )
        accounts.buyer_verify_contact(contact=contact, code=sent.code, ip=ip, now=then)
    except (accounts.RateLimited, accounts.rules.ResendTooSoon):
        pass  # re-seeded many times within the hour: the account stays unverified
    return result.buyer


def seed(*, shops, rng: Random, now: datetime) -> None:
    from .services import accounts

    for i, (raw, country, site) in enumerate(VERIFIED):
        at = now - timedelta(hours=rng.randint(2, 60))
        _register(rng, raw, country=country, site=site, at=at, ip=f"203.0.113.{10 + i}")
    raw, country, site, ip_country = MISMATCH
    _register(
        rng,
        raw,
        country=country,
        site=site,
        at=now - timedelta(hours=rng.randint(3, 20)),
        ip="198.51.100.77",
        ip_country=ip_country,
        verify=False,
    )
    device = f"demo-device-{rng.getrandbits(48):012x}"
    start = now - timedelta(days=2, hours=rng.randint(0, 12))
    for i, raw in enumerate(SHARED_DEVICE):
        _register(
            rng,
            raw,
            country="US",
            site="us",
            at=start + timedelta(minutes=37 * i + rng.randint(0, 20)),
            ip=f"192.0.2.{40 + i}",
            device_id=device,
            verify=False,
        )
    for i, (raw, country, site) in enumerate(LOW_ACTIVITY):
        at = now - timedelta(days=rng.randint(5, 12), hours=rng.randint(0, 23))
        _register(rng, raw, country=country, site=site, at=at, ip=f"203.0.113.{60 + i}")
    accounts.buyers_flag_low_activity(now=now)
    _flag_customers(shops, now=now)


def _flag_customers(shops, *, now: datetime) -> None:
    """One recent customer per demo shop into risk review (the shop's home tile shows it)."""
    from django.db import transaction

    from .models import Buyer, RiskStatus
    from .services.identity import buyers_risk_flag

    for shop in shops:
        # Through the orders' relation to Buyer (buyers never imports orders, DESIGN §1).
        buyer_id = (
            Buyer.objects.filter(orders__shop=shop, orders__placed_at__gte=now - timedelta(days=30))
            .order_by("external_id")
            .values_list("pk", flat=True)
            .first()
        )
        if buyer_id is None:
            continue
        with transaction.atomic():
            buyers_risk_flag(
                buyer_ids=[buyer_id],
                status=RiskStatus.RISK_REVIEW,
                reason="B-4: IP country differs from the declared country (demo).",
            )


def tick(*, rng: Random, now: datetime) -> None:
    """About once a second (``simulate``): now and then a new buyer registers by email."""
    if rng.random() > 0.02:
        return
    _register(
        rng,
        f"shopper.{rng.getrandbits(32):08x}@example.net",
        country="US",
        site="us",
        at=now,
        ip=f"198.51.100.{rng.randint(1, 254)}",
        verify=False,
    )
