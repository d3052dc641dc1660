"""The dispatch engine's queue (SPEC M-5, M-6, M-10): part of ``mailing.services.dispatch``
(its public face; see its docstring). Materialising a campaign's recipients into message rows
(streamed, in chunks), recovering the rows of dead workers, the campaigns due, the end of a
campaign and the A/B decision.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.db.models import Exists, F, OuterRef

from core import clock

from .. import rules
from ..models import (
    Campaign,
    CampaignStatus,
    Message,
    MessageState,
)
from .dispatch_records import E_UNKNOWN, _quota_give_back

log = logging.getLogger(__name__)

MATERIALIZE_CHUNK = 1000


# --- 1. materialise -----------------------------------------------------------------------------


def bucket(campaign_id: int, email: str) -> int:
    """A stable 0-9999 bucket of a recipient (SPEC M-6 split), independent of stream order."""
    digest = hashlib.blake2b(f"{campaign_id}:{email}".encode(), digest_size=4).digest()
    return int.from_bytes(digest) % 10000


def variant_for(campaign: Campaign, email: str) -> str:
    """SPEC M-6: A or B for the test share (half each), '' (held for the winner) for the rest."""
    if not campaign.ab_enabled:
        return "A"
    b = bucket(campaign.pk, email)
    share = campaign.ab_test_percent * 100
    if b >= share:
        return ""
    return "A" if b < share // 2 else "B"


def local_due_at(campaign: Campaign, time_zone: str, *, now: datetime) -> datetime:
    """SPEC M-5: the chosen local date and time in the recipient's zone (UTC if unknown); now
    when no time was chosen or it has passed there."""
    if campaign.send_on is None or campaign.send_at_local is None:
        return now
    try:
        tz = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    at = datetime.combine(campaign.send_on, campaign.send_at_local, tzinfo=tz)
    return max(at, now)


def campaign_materialize(*, campaign_id: int, now: datetime | None = None) -> int:
    """Stream the campaign's recipients into message rows; returns the rows written by this
    run. Safe to run again (after a crash): rows already there are kept as they are."""
    now = now or clock.now()
    campaign = Campaign.objects.select_related("shop").get(pk=campaign_id)
    if campaign.status != CampaignStatus.SCHEDULED or campaign.materialized_at is not None:
        return 0
    written = 0
    from . import dispatch  # the audience is looked up there (tests replace it)

    for chunk in _chunks(dispatch.recipients_for(campaign), MATERIALIZE_CHUNK):
        rows = []
        for r in chunk:
            variant = variant_for(campaign, r.email)
            rows.append(
                Message(
                    campaign_id=campaign.pk,
                    shop_id=campaign.shop_id,
                    buyer_id=r.buyer_id,
                    email=r.email,
                    language=(r.language or campaign.default_language)[:8],
                    site=(r.site or "")[:8],
                    time_zone=(r.time_zone or "")[:64],
                    variant=variant,
                    state=MessageState.QUEUED if variant else MessageState.HELD,
                    due_at=local_due_at(campaign, r.time_zone, now=now) if variant else None,
                )
            )
        # One statement per chunk; a recipient already written by an earlier run is skipped.
        created = Message.objects.bulk_create(rows, ignore_conflicts=True)
        written += len(created)
    with transaction.atomic():
        total = Message.objects.filter(campaign_id=campaign.pk).count()
        first_due = (
            Message.objects.filter(campaign_id=campaign.pk, due_at__isnull=False)
            .order_by("due_at")
            .values_list("due_at", flat=True)
            .first()
        )
        updates: dict[str, Any] = {
            "materialized_at": now,
            "recipients_total": total,
            "status": CampaignStatus.SENDING,
        }
        if not total:
            # Nobody to send to (an empty audience): finished at once — no message will ever
            # be due, so no batch would come to finish it.
            updates |= {"status": CampaignStatus.SENT, "finished_at": now}
        elif campaign.ab_enabled:
            updates["ab_decide_at"] = (first_due or now) + timedelta(hours=campaign.ab_wait_hours)
        Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SCHEDULED).update(**updates)
    log.info("campaign %s: %s recipients queued", campaign.pk, total)
    return written


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- 4. recover, schedule, finish ------------------------------------------------------------


def claims_recover(*, now: datetime | None = None) -> tuple[int, int]:
    """Rows of dead workers (claimed longer ago than the stale age): ``claimed`` → queued again,
    ``sending`` → ``unknown`` (never resent). Returns (requeued, unknown)."""
    now = now or clock.now()
    stale = now - timedelta(seconds=rules.claim_stale_seconds())
    requeued = 0
    for row in Message.objects.filter(state=MessageState.CLAIMED, claimed_at__lt=stale).values(
        "pk", "shop_id", "claimed_at"
    )[:10000]:
        if Message.objects.filter(pk=row["pk"], state=MessageState.CLAIMED).update(
            state=MessageState.QUEUED, claim_token=None, claimed_at=None, due_at=now
        ):
            _quota_give_back(row["shop_id"], row["claimed_at"] or now)
            requeued += 1
    unknown = Message.objects.filter(state=MessageState.SENDING, claimed_at__lt=stale).update(
        state=MessageState.UNKNOWN,
        error_code=E_UNKNOWN,
        error_detail="The worker stopped while handing this message over; it may have been "
        "delivered, so it is not sent again.",
        attempts=F("attempts") + 1,
    )
    if requeued or unknown:
        log.warning("dispatch recovery: %s claims requeued, %s marked unknown", requeued, unknown)
    return requeued, unknown


def campaigns_due(*, now: datetime | None = None) -> list[int]:
    """Campaigns with messages due now (the beat sends them a batch task each)."""
    now = now or clock.now()
    return list(
        Campaign.objects.filter(
            status=CampaignStatus.SENDING,
            messages__state=MessageState.QUEUED,
            messages__due_at__lte=now,
        )
        .distinct()
        .values_list("pk", flat=True)[:500]
    )


OPEN_STATES = (
    MessageState.HELD,
    MessageState.QUEUED,
    MessageState.CLAIMED,
    MessageState.SENDING,
)


def _finish_if_done(campaign_id: int, *, now: datetime | None = None) -> bool:
    if Message.objects.filter(campaign_id=campaign_id, state__in=OPEN_STATES).exists():
        return False
    return bool(
        Campaign.objects.filter(
            pk=campaign_id, status=CampaignStatus.SENDING, materialized_at__isnull=False
        ).update(status=CampaignStatus.SENT, finished_at=now or clock.now())
    )


def campaigns_finish(*, now: datetime | None = None) -> int:
    """Every sending campaign with no message left to send becomes sent (the beat's sweep:
    a campaign whose last rows ended outside a batch — recovered as ``unknown``, skipped —
    would otherwise stay ``sending``). One statement (``message_campaign_state`` index)."""
    now = now or clock.now()
    open_messages = Message.objects.filter(campaign_id=OuterRef("pk"), state__in=OPEN_STATES)
    return (
        Campaign.objects.filter(status=CampaignStatus.SENDING, materialized_at__isnull=False)
        .filter(~Exists(open_messages))
        .update(status=CampaignStatus.SENT, finished_at=now)
    )


def ab_decide(*, campaign_id: int, now: datetime | None = None) -> str:
    """SPEC M-6: after the wait, the variant with the better open (or click) rate among its sent
    messages goes to the held rest (a tie goes to A). Returns the winner ('' if not yet due)."""
    now = now or clock.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if (
            not campaign.ab_enabled
            or campaign.ab_winner
            or campaign.ab_decide_at is None
            or campaign.ab_decide_at > now
        ):
            return campaign.ab_winner if campaign.ab_enabled else ""
        field_name = "opened_at" if campaign.ab_metric == "open" else "clicked_at"
        scores = {}
        for v in ("A", "B"):
            sent = Message.objects.filter(campaign=campaign, variant=v, sent_at__isnull=False)
            n = sent.count()
            hits = sent.filter(**{f"{field_name}__isnull": False}).count()
            scores[v] = (hits / n) if n else 0.0
        winner = "B" if scores["B"] > scores["A"] else "A"
        Campaign.objects.filter(pk=campaign.pk).update(ab_winner=winner)
        held = Message.objects.filter(campaign=campaign, state=MessageState.HELD)
        # SPEC M-5: the rest still goes at the chosen local time of each recipient's zone (the
        # decision counts from the earliest zone's time), or now if that time has passed. One
        # UPDATE per time zone (a campaign's recipients span a handful of site zones).
        for zone in held.values_list("time_zone", flat=True).distinct().order_by():
            held.filter(time_zone=zone).update(
                state=MessageState.QUEUED,
                variant=winner,
                due_at=local_due_at(campaign, zone, now=now),
            )
    log.info("campaign %s: A/B winner %s (%s)", campaign_id, winner, scores)
    return winner


def ab_due(*, now: datetime | None = None) -> list[int]:
    now = now or clock.now()
    return list(
        Campaign.objects.filter(
            status=CampaignStatus.SENDING, ab_enabled=True, ab_winner="", ab_decide_at__lte=now
        ).values_list("pk", flat=True)
    )
