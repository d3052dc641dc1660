"""Mailing's demo history (the second part of ``mailing.demo.seed``), written through the
module's own services only: audience consent (M-3), segments (M-4), past campaigns sent through
the dispatch engine (M-5, M-8 to M-10), their tracking (M-11), health days (M-12) and last
month's statement (M-9).

For each shop the set-up part enabled:

- **audience**: up to ``AUDIENCE`` of its buyers (with an email address) give consent "then":
  outside the double opt-in countries a recorded opt-in, inside them a double opt-in request
  that most confirm (a few stay awaiting confirmation); one buyer unsubscribed earlier, one
  address added to the suppression list by hand;
- **segments**: repeat buyers, Europe, last order 30+ days ago, big spenders;
- **campaigns** (shops sending from the verified platform default domain, M-2 a): two or three
  sent in the past through ``dispatch.batch_send`` with a discarding mail connection
  (record-only: each message is rendered, DKIM-signed and recorded, delivered nowhere), then
  opens, clicks, an unsubscribe, a hard bounce (the address quarantined 30 days) and a
  complaint through the tracking services, and the buyers' real demo orders placed within 7
  days of their click attributed to the campaign; one campaign scheduled for tomorrow and one
  draft. A shop whose own subdomain still waits for its DNS records gets a draft only.
- **health and billing**: each sending day evaluated (``health.shop_evaluate``), and the
  statement of every past month with sends closed (``billing.statement_close``). The second
  shop (``PAUSED_INDEX``) also sent a clearance on three days in a row, each above the
  unsubscribe limit: its third evaluation pauses its sending (M-12), so the health page shows
  a shop paused with the campaign, segment and domain that drove it.

History is written "then" (each service is given the moment as its ``now``), so reports and
health show the weeks behind.
The ``Campaign.created_at`` timestamp (``auto_now_add``) is set to the campaign's time
afterwards: the only write not through a service, for the list's order. Messages are few
(``AUDIENCE`` buyers at most per shop), so ``seed_demo`` stays fast: each one is signed.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from random import Random

from django.core.mail.backends.dummy import EmailBackend as DiscardingBackend

AUDIENCE = 40  # buyers per shop given consent (each message is DKIM-signed: keep it small)
MIN_RECIPIENTS = 5  # a campaign's segment reaching fewer is replaced by "all consenting"
DOI_PENDING = 2  # double opt-in requests left unconfirmed per shop
SEGMENTS = (
    ("Repeat buyers", {"repeat": True}),
    ("Europe", {"countries": ["FR", "DE", "ES", "IT", "NL", "PL", "PT"]}),
    ("No order for 30 days", {"last_order_min_days": 30}),
    ("Best customers", {"rfm_groups": ["champion", "active"]}),
)
STORE_URL = "https://www.aliexpress.com/store/{shop}"
# The enabled shop (by order) whose sending the health evaluation pauses (M-12), and the days
# (ago) of its three daily sends that breach the limits.
PAUSED_INDEX = 1
PAUSE_DAYS_AGO = (4, 3, 2)


def seed_history(enabled, *, rng: Random, now: datetime) -> None:
    """``enabled``: the (shop, enabled at) pairs the set-up part enabled, in order."""
    for index, (shop, enabled_at) in enumerate(enabled):
        _audience(shop, rng=rng, since=enabled_at)
        segments = _segments(shop)
        _campaigns(shop, rng=rng, now=now, since=enabled_at, segments=segments, index=index)


def _ip(rng: Random) -> str:
    return f"203.0.113.{rng.randint(1, 254)}"


def _audience(shop, *, rng: Random, since: datetime) -> None:
    from orders.selectors import buyer_summaries

    from . import rules
    from .models import ConsentSource, ConsentStatus, SuppressionReason
    from .services import audience

    rows = list(
        buyer_summaries(shop=shop, lean=True)
        .filter(buyer__email__isnull=False)
        .exclude(buyer__email="")
        .values_list("buyer_id", "buyer__email", "buyer__country")
        .order_by("buyer_id")
    )
    if not rows:
        return
    chosen = sorted(rng.sample(rows, min(AUDIENCE, len(rows))))
    doi_countries = rules.double_opt_in_countries()
    start = since - timedelta(days=30)  # consent recorded before and around the enabling
    pending_left = DOI_PENDING
    for n, (buyer_id, email, country) in enumerate(chosen):
        at = start + timedelta(minutes=rng.randint(0, 30 * 24 * 60))
        if (country or "").upper() in doi_countries:
            request = audience.double_opt_in_request(
                shop=shop, email=email, buyer_id=buyer_id, ip=_ip(rng), at=at
            )
            if pending_left and n % 3 == 0:
                pending_left -= 1  # awaiting confirmation: not mailed (M-3)
            else:
                audience.double_opt_in_confirm(
                    token=request.token, ip=_ip(rng), at=at + timedelta(hours=2)
                )
        else:
            audience.consent_record(
                shop=shop,
                email=email,
                status=ConsentStatus.GRANTED,
                source=ConsentSource.BUYER_PREFERENCE,
                buyer_id=buyer_id,
                ip=_ip(rng),
                evidence="Ticked 'Email me offers from this shop' at checkout.",
                at=at,
            )
    # One buyer unsubscribed before the first campaign, one address suppressed by hand.
    _bid, email, _c = chosen[-1]
    audience.suppress(
        shop=shop,
        email=email,
        reason=SuppressionReason.UNSUBSCRIBE,
        source="preference centre",
        at=since + timedelta(hours=1),
    )
    audience.suppress(
        shop=shop,
        email=f"returns+{shop.pk}@example.com",
        reason=SuppressionReason.MANUAL,
        source="asked by phone not to be mailed",
        at=since + timedelta(hours=2),
    )


def _segments(shop) -> dict:
    from .segments import SegmentDefinition, all_consenting
    from .services.segments import segment_save

    out = {"all": all_consenting(shop=shop)}
    for name, definition in SEGMENTS:
        out[name] = segment_save(
            shop=shop, name=name, definition=SegmentDefinition.from_json(definition)
        )
    return out


def _campaigns(shop, *, rng: Random, now: datetime, since: datetime, segments, index) -> None:
    from .models import Campaign, DomainKind, MailingAccount, MailTemplate
    from .segments import count
    from .services import billing, campaigns, health

    templates = list(MailTemplate.objects.filter(shop=shop).order_by("pk"))
    if not templates:
        return
    account = MailingAccount.objects.get(shop=shop)
    span = now - since
    plans = []
    if account.sender_kind == DomainKind.DEFAULT and span >= timedelta(days=2):
        plans = [
            ("Welcome to our newsletter", segments["all"], 0.2),
            ("Thank you, loyal customers", segments["Repeat buyers"], 0.55),
            ("We miss you: 15% off", segments["No order for 30 days"], 0.85),
        ][: 3 if index == 0 else 2]
    days = set()
    for n, (name, segment, share) in enumerate(plans):
        at = since + span * share
        if count(segment, shop=shop, at=at) < MIN_RECIPIENTS:
            segment = segments["all"]  # too few buyers match yet: everyone who agreed
        campaign = _send(shop, name, templates[n % len(templates)], segment, at=at, rng=rng)
        Campaign.objects.filter(pk=campaign.pk).update(created_at=at - timedelta(hours=1))
        _track(campaign, rng=rng, at=at, now=now, n=n)
        days |= _sending_days(campaign)
    if plans and index == PAUSED_INDEX:
        # M-12: three daily sends in a row, each day above the unsubscribe limit (one of ~40
        # recipients leaves: 2.5% > 0.3%); the health evaluation below pauses the shop.
        for k, days_ago in enumerate(PAUSE_DAYS_AGO):
            at = (now - timedelta(days=days_ago)).replace(hour=9, minute=0, second=0)
            name = f"Clearance, day {k + 1}"
            campaign = _send(shop, name, templates[0], segments["all"], at=at, rng=rng)
            Campaign.objects.filter(pk=campaign.pk).update(created_at=at - timedelta(hours=1))
            _track(campaign, rng=rng, at=at, now=now, n=0)
            days |= _sending_days(campaign)
    for day in sorted(days):
        health.shop_evaluate(shop=shop, day=day, now=now)
    if plans:
        from core import clock

        this_month = clock.natural_day(now).replace(day=1)
        months = sorted({d.replace(day=1) for d in days if d.replace(day=1) < this_month})
        for month in months:
            billing.statement_close(shop=shop, month=month)
        # Next: one campaign confirmed for tomorrow at 10:00 local time (M-5).
        scheduled = campaigns.campaign_create_from_template(
            shop=shop, name="Weekend flash sale", template=templates[0], segment=segments["Europe"]
        )
        tomorrow = clock.natural_day(now) + timedelta(days=1)
        campaigns.campaign_schedule(campaign=scheduled, send_on=tomorrow, send_at_local=time(10))
        campaigns.campaign_confirm(campaign=scheduled, at=now)
        from .services import dispatch

        dispatch.campaign_materialize(campaign_id=scheduled.pk, now=now)
    campaigns.campaign_create_from_template(
        shop=shop, name="New arrivals (draft)", template=templates[-1], segment=segments["all"]
    )


def _send(shop, name, template, segment, *, at: datetime, rng: Random):
    from .services import campaigns, dispatch

    campaign = campaigns.campaign_create_from_template(
        shop=shop, name=name, template=template, segment=segment
    )
    campaigns.campaign_confirm(campaign=campaign, at=at)
    dispatch.campaign_materialize(campaign_id=campaign.pk, now=at)
    moment = at
    while True:
        result = dispatch.batch_send(campaign_id=campaign.pk, conn=DiscardingBackend(), now=moment)
        if not (result.claimed or result.skipped):
            break
        moment += timedelta(minutes=1)
    campaign.refresh_from_db()
    return campaign


def _track(campaign, *, rng: Random, at: datetime, now: datetime, n: int) -> None:
    """Opens, clicks, one unsubscribe, a hard bounce (the 2nd campaign) and a complaint (the
    3rd), each at its own time, through the tracking services; then the orders within 7 days."""
    from orders.models import Order

    from .models import Message
    from .services import dispatch, tracking

    sent = list(Message.objects.filter(campaign=campaign, state="sent").order_by("id"))
    if not sent:
        return
    store = STORE_URL.format(shop=campaign.shop_id)
    horizon = min(now, at + timedelta(days=3))
    # Buyers who ordered in the week after the campaign: most of them clicked first.
    week: dict[int, datetime] = {}
    for buyer_id, placed_at in (
        Order.objects.filter(
            shop_id=campaign.shop_id,
            buyer_id__in=[m.buyer_id for m in sent if m.buyer_id],
            placed_at__gt=at + timedelta(hours=1),
            placed_at__lte=min(now, at + timedelta(days=7)),
        )
        .order_by("placed_at")
        .values_list("buyer_id", "placed_at")
    ):
        week.setdefault(buyer_id, placed_at)  # the first order after the campaign
    attributed: list[tuple[int, datetime]] = []  # (buyer id, order time)
    for message in sent:
        ordered = week.get(message.buyer_id) if message.buyer_id else None
        opens = ordered is not None or rng.random() < 0.45
        if not opens:
            continue
        seen = at + (horizon - at) * rng.random() * 0.5
        if ordered is not None:
            seen = min(seen, ordered - timedelta(minutes=30))
        tracking.open_record(dispatch.tracking_token(message, dispatch.OPEN_SALT), now=seen)
        if ordered is not None or rng.random() < 0.3:
            click_at = seen + timedelta(minutes=rng.randint(1, 20))
            url = dispatch.click_url(message, store)
            tracking.click_record(url.rsplit("/", 1)[-1], now=click_at)
            if ordered is not None and message.buyer_id is not None:
                attributed.append((message.buyer_id, ordered))
    for buyer_id, ordered in attributed:
        order_id = (
            Order.objects.filter(shop_id=campaign.shop_id, buyer_id=buyer_id, placed_at=ordered)
            .values_list("pk", flat=True)
            .first()
        )
        if order_id:
            tracking.order_attribute(
                order_id=order_id,
                shop_id=campaign.shop_id,
                buyer_id=buyer_id,
                ordered_at=ordered,
            )
    last, rest = sent[-1], sent[:-1]
    tracking.unsubscribe(last, source="one-click", now=at + timedelta(hours=5))
    if n >= 1 and rest:
        tracking.report_apply(
            tracking.Report(rest[0].message_id.hex, "hard", "5.1.1 user unknown"),
            source="dsn",
            event_id=f"demo-{campaign.pk}-bounce",
            now=at + timedelta(minutes=20),
        )
    if n >= 2 and len(rest) > 1:
        tracking.report_apply(
            tracking.Report(rest[1].message_id.hex, "complaint", "feedback-type abuse"),
            source="dsn",
            event_id=f"demo-{campaign.pk}-complaint",
            now=at + timedelta(hours=8),
        )


def _sending_days(campaign) -> set:
    from core import clock

    from .models import Message

    return {
        clock.natural_day(at)
        for at in Message.objects.filter(campaign=campaign, sent_at__isnull=False)
        .values_list("sent_at", flat=True)
        .distinct()
    }


def tick(*, rng: Random, now: datetime) -> None:
    """``simulate``: now and then a buyer opens one of the last week's messages, sometimes
    clicks it, and rarely unsubscribes (through the tracking services)."""
    from .models import Message
    from .services import dispatch, tracking

    roll = rng.random()
    if roll >= 0.2:
        return
    recent = list(
        Message.objects.filter(
            state="sent", sent_at__gte=now - timedelta(days=7), unsubscribed_at__isnull=True
        )
        .select_related("shop")
        .order_by("-id")[:50]
    )
    if not recent:
        return
    message = rng.choice(recent)
    tracking.open_record(dispatch.tracking_token(message, dispatch.OPEN_SALT), now=now)
    if roll < 0.06:
        url = dispatch.click_url(message, STORE_URL.format(shop=message.shop_id))
        tracking.click_record(url.rsplit("/", 1)[-1], now=now)
    elif roll < 0.062:
        tracking.unsubscribe(message, source="one-click", now=now)
