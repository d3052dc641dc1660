"""Affiliate's demo data (found by ``seed_demo`` through ``demo/hooks.py``), through the module's
own services: promoters (approved, one still in trial, one waiting for review, SPEC A-1), the
seller programmes of the L3+ demo shops with shop, category and product rates (A-2), PIDs per
channel and tracking links (one PID frozen, A-3), clicks before recent demo orders and the S2S
postbacks of a demo affiliate network attributing them (A-4, A-5), and their commissions carried
through the lifecycle the orders already went through (A-6). ``tick`` adds clicks.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from core.money import Money
from orders.models import Order, OrderStatus
from shops.models import Product
from shops.notices import Reason
from shops.services import balance_credit

from . import rules, services
from .models import (
    DocumentKind,
    Link,
    Pid,
    PidStatus,
    Promoter,
    PromoterBalance,
    PromoterEntry,
    PromoterNotice,
)
from .services import clicks

PROMOTERS = [
    ("Sunny Deals Blog", "social"),
    ("TechReview Hub", "video"),
    ("Coupon Garden", "website"),
    ("Mama's Picks", "social"),
]
_UAS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36",
]
_REFS = ["https://www.youtube.com/", "https://www.instagram.com/", "https://t.co/", ""]


def _click_item(link: Link, at: datetime, rng: random.Random) -> dict:
    return {
        "id": clicks.new_click_id(),
        "link": link.pk,
        "pid": link.pid_id,
        "at": at.timestamp(),
        "ip": f"203.0.113.{rng.randint(1, 254)}",
        "ua": rng.choice(_UAS),
        "ref": rng.choice(_REFS),
        "earns": True,
    }


DEMO_DOMAIN = "@promoters.example.com"
PORTAL_LOGIN = f"promoter1{DEMO_DOMAIN}"
PORTAL_PASSWORD = "demo"  # noqa: S105 (the documented demo login, as the seller demo/demo)
_DEMO_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NETWORK = "Demo affiliate network"


def _forget_previous_demo() -> None:
    """``seed_demo --flush`` truncates the marketplace and, with it, whatever references shops
    and orders (links, clicks, commissions); the demo promoters themselves reference no shop and
    stay behind. Remove them so a reseed builds the same world again."""
    promoters = Promoter.objects.filter(email__endswith=DEMO_DOMAIN)
    PromoterEntry.objects.filter(balance__promoter__in=promoters).delete()
    PromoterBalance.objects.filter(promoter__in=promoters).delete()
    PromoterNotice.objects.filter(promoter__in=promoters).delete()
    Pid.objects.filter(promoter__in=promoters).delete()
    # A promoter an operator already paid in a payout batch stays (payout records are
    # immutable), under another address, so the demo's own addresses are free again.
    paid = promoters.filter(payout_lines__isnull=False).distinct()
    for promoter in paid:
        Promoter.objects.filter(pk=promoter.pk).update(
            email=f"archived-{promoter.pk}@archived.example.com"
        )
    Promoter.objects.filter(email__endswith=DEMO_DOMAIN, payout_lines__isnull=True).delete()


def seed(*, shops, rng: random.Random, now: datetime) -> None:
    from integrations.models import Integration
    from integrations.services import integration_create

    eligible = [s for s in shops if s.store_level >= rules.min_store_level()]
    if not eligible:
        return
    _forget_previous_demo()
    network = Integration.objects.filter(name=NETWORK).first()  # integrations survive a flush
    if network is None:
        network, _secret = integration_create(name=NETWORK)
    promoters = []
    for i, (name, channel) in enumerate(PROMOTERS):
        p = services.promoter_create(name=name, email=f"promoter{i + 1}{DEMO_DOMAIN}")
        p = services.promoter_approve(promoter=p)
        promoters.append((p, services.pid_create(promoter=p, channel=channel)))
    # The promoter portal's demo login (like the seller ``demo / demo``): a known password set
    # directly, since "demo" is refused by the password validators of the sign-up.
    Promoter.objects.filter(pk=promoters[0][0].pk).update(password=make_password(PORTAL_PASSWORD))
    # One promoter still waiting in the admins' review queue (A-1), with its documents (private
    # uploads), submitted a working day and a half ago: the queue shows its age.
    waiting = services.promoter_sign_up(
        name="Fresh Finds Studio",
        email=f"review{DEMO_DOMAIN}",
        password="Fresh-Finds-2026",  # noqa: S106 (demo account, never signed in)
    )
    for kind in DocumentKind.values:
        services.document_upload(
            promoter=waiting,
            kind=kind,
            uploaded=SimpleUploadedFile(f"{kind}.pdf", _DEMO_PDF, "application/pdf"),
        )
    services.promoter_submit(promoter=waiting)
    # History, as the frozen PID below: it was submitted a day and a half ago.
    Promoter.objects.filter(pk=waiting.pk).update(submitted_at=now - timedelta(hours=36))
    for shop_index, shop in enumerate(eligible):
        services.programme_enable(
            shop=shop, rate_bp=rng.choice([500, 800, 1000]), min_order_minor=rng.choice([0, 10_00])
        )
        products = list(Product.objects.filter(shop=shop).order_by("pk")[:3])
        if products:
            services.rate_set(
                shop=shop, scope="category", category=products[0].category, rate_bp=1200
            )
            services.rate_set(shop=shop, scope="product", product=products[-1], rate_bp=1500)
        links = [
            services.link_create(
                pid=pid,
                shop=shop,
                destination=f"https://www.aliexpress.com/store/{shop.external_id}",
                utm_campaign="demo",
                sub_id=f"s{shop_index}",
            )
            for _p, pid in promoters
        ]
        recent = list(
            Order.objects.filter(shop=shop, placed_at__gte=now - timedelta(days=40))
            .exclude(status=OrderStatus.PENDING_PAYMENT)
            .order_by("pk")[:60]
        )
        attributed = rng.sample(recent, k=min(len(recent), 12 + rng.randint(0, 8)))
        items, pairs = [], []
        for order in attributed:
            link = rng.choice(links)
            item = _click_item(
                link, order.placed_at - timedelta(minutes=rng.randint(3, 2 * 1440)), rng
            )
            items.append(item)
            pairs.append((order, item["id"]))
        # Clicks that did not lead to an order, through the day.
        for _ in range(rng.randint(40, 80)):
            items.append(
                _click_item(
                    rng.choice(links), now - timedelta(minutes=rng.randint(1, 5 * 1440)), rng
                )
            )
        with transaction.atomic():
            clicks.clicks_insert(items=items)
        for n, (order, click_id) in enumerate(pairs):
            services.postback_receive(
                integration=network,
                postback_id=f"demo-{shop.pk}-{n}",
                shop_external_id=shop.external_id,
                order_number=order.number,
                click_id=click_id,
            )  # a completed order's return window runs from its completion
    services.commissions_pre_issue(now=now)
    # Most demo shops have paid their commissions from a marketplace payout; the last one has
    # not, so its commissions wait for a top-up (the dashboard tile says so).
    for shop in eligible[:-1]:
        balance_credit(
            shop=shop,
            amount=Money(5_000_00, shop.currency),
            reason=Reason("shops.marketplace_payout"),
            idempotency_key=f"demo-affiliate-payout-{shop.pk}",
        )
    services.commissions_settle(now=now)
    # one PID idle for a month, frozen by the daily job.
    _p, idle = promoters[-1]
    Pid.objects.filter(pk=idle.pk).update(
        active_since=now - timedelta(days=45), last_valid_click_at=now - timedelta(days=31)
    )
    services.pids_freeze(now=now)


def tick(*, rng: random.Random, now: datetime) -> None:
    """About once a second: now and then a click on an active PID's link (A-4)."""
    if rng.random() > 0.3:
        return
    link = Link.objects.filter(pid__status=PidStatus.ACTIVE).order_by("?").only("code").first()
    if link is None:
        return
    target = clicks.link_target(link.code)
    if target is not None:
        clicks.click_record(
            target=target,
            ip=f"198.51.100.{rng.randint(1, 254)}",
            user_agent=rng.choice(_UAS),
            referrer=rng.choice(_REFS),
        )
