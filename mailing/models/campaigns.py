"""Mailing models: campaigns, their messages (the send log), quotas, billing and health.

A campaign's recipients become one ``Message`` row each (streamed in batches, SPEC M-5); the
dispatch engine (``mailing.services.dispatch``) claims rows, sends them and records the result
(SPEC M-8, M-10). Tracking (M-11) writes onto the same rows; health (M-12) and billing (M-9)
read them per natural day and per calendar month.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = [
    "AbMetric",
    "BillingWindow",
    "BounceKind",
    "Campaign",
    "CampaignContent",
    "CampaignStatus",
    "HealthDay",
    "InboundEvent",
    "Message",
    "MessageState",
    "OrderAttribution",
    "QuotaDay",
    "SendingPause",
    "Statement",
]


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")  # confirmed; recipients being prepared
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class AbMetric(models.TextChoices):
    OPEN = "open", _("Open rate")
    CLICK = "click", _("Click rate")


class Campaign(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(_("name"), max_length=120)
    template_key = models.CharField(_("template"), max_length=40, blank=True)
    # The audience's segment (mailing.segments); None: every consenting contact of the shop.
    segment = models.ForeignKey(
        "mailing.Segment",
        verbose_name=_("segment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    default_language = models.CharField(_("default language"), max_length=8, default="en")
    # SPEC M-5: sent on this date at this local time in each recipient's site time zone;
    # both empty: as soon as confirmed.
    send_on = models.DateField(_("send on"), null=True, blank=True)
    send_at_local = models.TimeField(_("local send time"), null=True, blank=True)
    # SPEC M-6: A/B test of the subject or content on a split, winner after N hours.
    ab_enabled = models.BooleanField(_("A/B test"), default=False)
    ab_test_percent = models.PositiveSmallIntegerField(_("test share (%)"), default=20)
    ab_metric = models.CharField(
        _("winner by"), max_length=8, choices=AbMetric.choices, default=AbMetric.OPEN
    )
    ab_wait_hours = models.PositiveSmallIntegerField(_("decide after (hours)"), default=4)
    ab_decide_at = models.DateTimeField(null=True, blank=True)
    ab_winner = models.CharField(max_length=1, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    materialized_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    recipients_total = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["shop", "-created_at"], name="campaign_shop_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ab_test_percent__gte=2, ab_test_percent__lte=50),
                name="campaign_ab_share_range",
            ),
            models.CheckConstraint(
                condition=Q(send_on__isnull=True, send_at_local__isnull=True)
                | Q(send_on__isnull=False, send_at_local__isnull=False),
                name="campaign_schedule_both_or_none",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignContent(models.Model):
    """One language of one variant (A, or B under an A/B test) of a campaign's message."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="contents")
    variant = models.CharField(max_length=1, default="A")
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=200)
    preheader = models.CharField(_("preview text"), max_length=200, blank=True)
    body = models.TextField(_("content"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "variant", "language"], name="campaigncontent_unique"
            ),
            models.CheckConstraint(
                condition=Q(variant__in=["A", "B"]), name="campaigncontent_variant_ab"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.variant} {self.language}"


class MessageState(models.TextChoices):
    HELD = "held", _("Waiting for the A/B winner")
    QUEUED = "queued", _("Queued")
    CLAIMED = "claimed", _("Claimed by a worker")
    SENDING = "sending", _("Being handed to the mail server")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # The worker stopped while handing this message over: it may or may not have left.
    # Never resent (a message is never sent twice); see README "Dispatch".
    UNKNOWN = "unknown", _("Outcome unknown")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


class BounceKind(models.TextChoices):
    HARD = "hard", _("Hard bounce")
    SOFT = "soft", _("Soft bounce")


class Message(models.Model):
    """One recipient of one campaign: the unit of dispatch and the row of the send log."""

    id = models.BigAutoField(primary_key=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages")
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    buyer_id = models.BigIntegerField(null=True, blank=True)
    email = models.CharField(max_length=254)
    language = models.CharField(max_length=8)
    site = models.CharField(max_length=8, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    variant = models.CharField(max_length=1, blank=True)
    state = models.CharField(max_length=10, choices=MessageState.choices)
    due_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Stable from creation: the Message-ID header, and the key bounces and webhooks name.
    message_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    error_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error_detail = models.CharField(max_length=500, blank=True)
    billable = models.BooleanField(default=False)
    bounce = models.CharField(max_length=4, choices=BounceKind.choices, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # The claim: due rows of one campaign in id order (SKIP LOCKED).
            models.Index(
                fields=["campaign", "due_at", "id"],
                condition=Q(state="queued"),
                name="message_due",
            ),
            models.Index(fields=["campaign", "state"], name="message_campaign_state"),
            models.Index(fields=["shop", "sent_at"], name="message_shop_sent"),
            # SPEC M-11: a buyer's clicks before an order.
            models.Index(
                fields=["shop", "buyer_id", "clicked_at"],
                condition=Q(clicked_at__isnull=False),
                name="message_clicks",
            ),
            models.Index(
                fields=["state", "claimed_at"],
                condition=Q(state__in=["claimed", "sending"]),
                name="message_claims",
            ),
            # SPEC M-9: the month's billed soft bounces (given up unsent, billed by
            # ``bounced_at``; billing.billable_q) — few rows, kept out of the hot path's way.
            models.Index(
                fields=["shop", "bounced_at"],
                condition=Q(billable=True, sent_at__isnull=True),
                name="message_billed_unsent",
            ),
        ]
        constraints = [
            # A recipient gets one message per campaign, whatever re-runs the streaming.
            models.UniqueConstraint(fields=["campaign", "email"], name="message_once_per_campaign"),
            models.CheckConstraint(
                condition=~Q(state__in=["claimed", "sending"]) | Q(claimed_at__isnull=False),
                name="message_claim_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(state="sent") | Q(sent_at__isnull=False),
                name="message_sent_has_time",
            ),
            models.CheckConstraint(
                condition=Q(variant__in=["", "A", "B"]), name="message_variant_ab"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.state})"


class QuotaDay(models.Model):
    """SPEC M-8: messages handed over per shop and natural day (the quota's counter)."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "day"], name="quotaday_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.day}: {self.used}"


class BillingWindow(models.Model):
    """SPEC M-9: several messages to one buyer within 24 h count as one. The window opened by
    the last billable message to this address."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=254)
    started_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "email"], name="billingwindow_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.email}"


class Statement(models.Model):
    """SPEC M-9: one shop's month: billable messages, the free allowance, the charge."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of the calendar month
    billable = models.PositiveIntegerField()
    free = models.PositiveIntegerField()
    charged = models.PositiveIntegerField()
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    balance_entry = models.ForeignKey(
        "shops.BalanceEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "month"], name="statement_unique"),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="statement_amount_gte0"),
            models.CheckConstraint(
                condition=Q(charged__lte=models.F("billable")), name="statement_charged_le_billable"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.month:%Y-%m}"

    @property
    def amount(self):
        from core.money import Money

        return Money(self.amount_minor, self.currency)


class HealthDay(models.Model):
    """SPEC M-12: one shop's natural day of sending, with its rates' breaches."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)
    unsubscribed = models.PositiveIntegerField(default=0)
    complained = models.PositiveIntegerField(default=0)
    breaches = models.JSONField(default=list)  # ["delivery", "unsubscribe", "complaint"]
    evaluated_at = models.DateTimeField()

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["shop", "day"], name="healthday_unique")]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.day}"


class SendingPause(models.Model):
    """SPEC M-12: sending stopped for the shop (automatically after 3 breach days)."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, default="health")
    drivers = models.JSONField(default=dict)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop"], condition=Q(ended_at__isnull=True), name="sendingpause_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} paused {self.started_at:%Y-%m-%d}"


class OrderAttribution(models.Model):
    """SPEC M-11: an order placed within 7 days of a click on a campaign's message."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="orders")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="orders")
    order_id = models.BigIntegerField(unique=True)
    ordered_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"order {self.order_id}"


class InboundEvent(models.Model):
    """A bounce/complaint report already taken in (ESP webhook event id or DSN Message-ID):
    a replay changes nothing."""

    source = models.CharField(max_length=16)
    event_id = models.CharField(max_length=200)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="inboundevent_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.event_id}"
