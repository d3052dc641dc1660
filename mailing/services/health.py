"""Sending health (SPEC M-12): each natural day's delivery, unsubscribe and complaint rates of the
messages sent that day, against the registry thresholds; 3 consecutive breach days pause the
shop's sending automatically, naming the campaign, segment and recipient domain that drove it."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy

from core import clock
from shops.models import Shop

from .. import rules
from ..models import HealthDay, Message, SendingPause

log = logging.getLogger(__name__)

SUGGESTIONS = {
    "delivery": gettext_lazy(
        "Remove old and unverified addresses: send only to buyers who ordered or opted in "
        "recently, and check imported lists before sending."
    ),
    "unsubscribe": gettext_lazy(
        "Send less often and to smaller, better-matched segments; make the first line say "
        "what the buyer gets."
    ),
    "complaint": gettext_lazy(
        "Mail only buyers who agreed to it, keep the unsubscribe link visible, and say who you "
        "are in the sender name."
    ),
}


def _day_messages(shop_id: int, day: date):
    start, end = clock.day_range(day)
    return (
        Message.objects.filter(shop_id=shop_id)
        .annotate(attempted_at=Coalesce("sent_at", "bounced_at"))
        .filter(attempted_at__gte=start, attempted_at__lt=end)
        .filter(Q(sent_at__isnull=False) | ~Q(bounce=""))
    )


def day_evaluate(
    *, shop: Shop, day: date, now: datetime | None = None, store_empty: bool = True
) -> HealthDay:
    """The day's figures (one aggregate query) and its breaches, stored (re-evaluating a day
    replaces its figures: late bounces and complaints count on the day the message left).
    ``store_empty=False``: a day with nothing sent and no row yet is returned unsaved."""
    now = now or clock.now()
    agg = _day_messages(shop.pk, day).aggregate(
        sent=Count("id"),
        bounced=Count("id", filter=~Q(bounce="")),
        unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
        complained=Count("id", filter=Q(complained_at__isnull=False)),
    )
    breaches = rules.day_breaches(**agg)
    if not store_empty and not agg["sent"]:
        existing = HealthDay.objects.filter(shop=shop, day=day).first()
        if existing is None:
            return HealthDay(shop=shop, day=day, **agg, breaches=breaches, evaluated_at=now)
    row, _created = HealthDay.objects.update_or_create(
        shop=shop, day=day, defaults={**agg, "breaches": breaches, "evaluated_at": now}
    )
    return row


def drivers(*, shop: Shop, days: list[date]) -> dict:
    """What drove the breaches: the campaign (and its segment) and the recipient domain with
    the most bounces, unsubscribes and complaints over ``days``."""
    if not days:
        return {}
    start, _ = clock.day_range(min(days))
    _, end = clock.day_range(max(days))
    bad = (
        Message.objects.filter(shop=shop)
        .annotate(attempted_at=Coalesce("sent_at", "bounced_at"))
        .filter(attempted_at__gte=start, attempted_at__lt=end)
        .filter(~Q(bounce="") | Q(unsubscribed_at__isnull=False) | Q(complained_at__isnull=False))
    )
    top = (
        bad.values("campaign_id", "campaign__name", "campaign__segment__name")
        .annotate(n=Count("id"))
        .order_by("-n", "campaign_id")
        .first()
    )
    domains: dict[str, int] = {}
    for email in bad.values_list("email", flat=True)[:20000]:
        d = email.rpartition("@")[2]
        domains[d] = domains.get(d, 0) + 1
    domain = max(sorted(domains), key=lambda d: domains[d]) if domains else ""
    return {
        "campaign_id": top["campaign_id"] if top else None,
        "campaign": top["campaign__name"] if top else "",
        "segment": (top["campaign__segment__name"] or "") if top else "",
        "domain": domain,
        "problems": top["n"] if top else 0,
    }


def shop_evaluate(*, shop: Shop, day: date, now: datetime | None = None) -> SendingPause | None:
    """Evaluate ``day`` and the days before it in the pause window, and pause the shop's
    sending when they are N breach days in a row (SPEC M-12: 3). Every day of the window is
    evaluated again: a complaint or unsubscribe that arrives late counts on the day its
    message left, so an earlier day can have become a breach day since it was first evaluated.
    Returns the pause it opened, if any."""
    now = now or clock.now()
    n = rules.pause_after_days()
    window = [day - timedelta(days=i) for i in range(n)]
    # The earlier days are stored only if something was sent then (no empty rows on the board
    # for the days before a shop's first sending).
    rows = {d: day_evaluate(shop=shop, day=d, now=now, store_empty=d == day) for d in window}
    if not all(rows.get(d) is not None and rows[d].breaches for d in window):
        return None
    if SendingPause.objects.filter(shop=shop, ended_at__isnull=True).exists():
        return None
    kinds = sorted({b for d in window for b in rows[d].breaches})
    info = drivers(shop=shop, days=window) | {
        "days": [d.isoformat() for d in sorted(window)],
        "breaches": kinds,
    }
    try:
        with transaction.atomic():
            pause = SendingPause.objects.create(
                shop=shop, reason="health", drivers=info, started_at=now
            )
    except IntegrityError:  # paused meanwhile by a concurrent evaluation
        return None
    from shops.services import notify

    notify(
        shop=shop,
        kind="auto_pause",
        message="mailing.paused",
        params={
            "days": n,
            "breaches": kinds,
            "campaign": info.get("campaign") or "",
            "domain": info.get("domain") or "",
        },
        link=reverse("mailing:health"),
    )
    log.warning("mailing: shop %s paused (%s)", shop.pk, kinds)
    return pause


def health_evaluate(*, now: datetime | None = None) -> int:
    """The daily job: yesterday (the natural day that just ended) and the days before it in the
    pause window, for every shop that sent in the last N days. Returns the pauses opened."""
    now = now or clock.now()
    day = clock.natural_day(now) - timedelta(days=1)
    since, _ = clock.day_range(day - timedelta(days=rules.pause_after_days()))
    shop_ids = (
        Message.objects.filter(sent_at__gte=since).values_list("shop_id", flat=True).distinct()
    )
    opened = 0
    for shop in Shop.objects.filter(pk__in=list(shop_ids)).order_by("pk"):
        if shop_evaluate(shop=shop, day=day, now=now):
            opened += 1
    return opened


def pause_end(*, shop: Shop, user=None) -> int:
    """The seller resumes sending after acting on the suggestions."""
    return SendingPause.objects.filter(shop=shop, ended_at__isnull=True).update(
        ended_at=clock.now(), ended_by=user
    )
