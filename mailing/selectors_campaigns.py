"""Reads of campaigns, their send log, health and statements (SPEC M-5 to M-12)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from shops.models import Shop

from .models import Campaign, HealthDay, Message, SendingPause, Statement

OPEN_STATES = ("held", "queued", "claimed", "sending")


def campaigns_for_shop(*, shop: Shop, status: str = "") -> QuerySet[Campaign]:
    qs = Campaign.objects.filter(shop=shop)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(
        sent_count=Count("messages", filter=Q(messages__state="sent")),
    ).order_by("-id")


def get_campaign_for_shop(*, shop: Shop, campaign_id: int) -> Campaign:
    """The shop's campaign, or 404 (another shop's id is not found)."""
    return get_object_or_404(
        Campaign.objects.select_related("shop", "segment"), shop=shop, pk=campaign_id
    )


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    unknown: int
    waiting: int
    cancelled: int
    opened: int
    clicked: int
    unsubscribed: int
    bounced: int
    complained: int
    orders: int

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.unknown + self.cancelled

    @property
    def percent(self) -> int:
        return int(self.done * 100 / self.total) if self.total else 0


def progress(*, campaign: Campaign) -> Progress:
    """One aggregate query over the campaign's messages (the progress bar and the report)."""
    agg = Message.objects.filter(campaign=campaign).aggregate(
        total=Count("id"),
        sent=Count("id", filter=Q(state="sent")),
        failed=Count("id", filter=Q(state__in=["failed", "skipped"])),
        unknown=Count("id", filter=Q(state="unknown")),
        waiting=Count("id", filter=Q(state__in=OPEN_STATES)),
        cancelled=Count("id", filter=Q(state="cancelled")),
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
        bounced=Count("id", filter=~Q(bounce="")),
        complained=Count("id", filter=Q(complained_at__isnull=False)),
        orders=Count("orders", distinct=True),
    )
    return Progress(**agg)


def send_log(*, campaign: Campaign, code: str = "") -> QuerySet[Message]:
    """SPEC M-10: the campaign's messages, newest first; ``code``: "failed" (every failure) or
    one error code."""
    qs = Message.objects.filter(campaign=campaign)
    if code == "failed":
        qs = qs.filter(error_code__isnull=False)
    elif code.isdigit():
        qs = qs.filter(error_code=int(code))
    return qs.order_by("-id")


def get_message_for_shop(*, shop: Shop, campaign: Campaign, message_pk: int) -> Message:
    return get_object_or_404(Message, shop=shop, campaign=campaign, pk=message_pk)


def open_pause(*, shop: Shop) -> SendingPause | None:
    return SendingPause.objects.filter(shop=shop, ended_at__isnull=True).first()


def health_days(*, shop: Shop, days: int = 14) -> list[HealthDay]:
    return list(HealthDay.objects.filter(shop=shop).order_by("-day")[:days])


def statements_for_shop(*, shop: Shop) -> QuerySet[Statement]:
    return Statement.objects.filter(shop=shop).order_by("-month", "-id")
