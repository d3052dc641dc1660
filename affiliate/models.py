"""The affiliate programme (SPEC §2): promoters and their PIDs and links, clicks, the sellers'
programmes and rates, postbacks, commissions and the promoters' ledger."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from core.money import Money
from orders.models import Order
from shops.models import Category, Product, Shop


class PromoterStatus(models.TextChoices):
    ONBOARDING = "onboarding", _("Documents to upload")
    PENDING = "pending", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Promoter(TimeStampedModel):
    """A promoter (affiliate). SPEC A-1: in *trial* until its first attributed order is paid
    (one PID, no payout); A-8: ``cent_minimum`` keeps commissions from $0.01."""

    name = models.CharField(_("name"), max_length=120)
    email = models.EmailField(_("email"))
    status = models.CharField(
        _("status"), max_length=16, choices=PromoterStatus.choices, default=PromoterStatus.PENDING
    )
    trial = models.BooleanField(_("in trial"), default=True)
    trial_ended_at = models.DateTimeField(_("trial ended at"), null=True, blank=True)
    cent_minimum = models.BooleanField(_("keep commissions from $0.01"), default=False)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    # The promoter portal's own sign-in (affiliate.portal.session): a Django password hash,
    # never a seller staff account. Empty for promoters created by an admin without a login.
    password = models.CharField(_("password"), max_length=128, blank=True)
    last_login_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)
    # SPEC A-1 review queue: when the documents were submitted (the SLA clock starts), who
    # decided and why a rejection was made.
    submitted_at = models.DateTimeField(_("submitted for review"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    rejection_reason = models.CharField(_("reason for rejection"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("promoter")
        verbose_name_plural = _("promoters")
        constraints = [models.UniqueConstraint(fields=["email"], name="promoter_email_unique")]
        indexes = [
            # The admins' review queue: waiting promoters, oldest submission first.
            models.Index(
                fields=["submitted_at"], condition=Q(status="pending"), name="promoter_review_queue"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    WEBSITE = "website", _("Website")
    SOCIAL = "social", _("Social media")
    VIDEO = "video", _("Video")
    APP = "app", _("App")
    EMAIL = "email", _("Email")
    OTHER = "other", _("Other")


class PidStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    FROZEN = "frozen", _("Frozen")


class Pid(TimeStampedModel):
    """A promoter's tracking id for one channel (SPEC A-3). ``last_valid_click_at`` drives the
    freeze job; ``warned_at`` records the day-23 warning of the current idle period."""

    promoter = models.ForeignKey(Promoter, on_delete=models.PROTECT, related_name="pids")
    code = models.CharField(_("PID"), max_length=32, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    name = models.CharField(_("name"), max_length=120, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=PidStatus.choices, default=PidStatus.ACTIVE
    )
    last_valid_click_at = models.DateTimeField(_("last valid click"), null=True, blank=True)
    active_since = models.DateTimeField(_("active since"))
    warned_at = models.DateTimeField(_("idle warning sent"), null=True, blank=True)
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)

    class Meta:
        verbose_name = _("PID")
        verbose_name_plural = _("PIDs")
        indexes = [models.Index(fields=["status", "active_since"], name="pid_status_since")]

    def __str__(self) -> str:
        return self.code


class Link(TimeStampedModel):
    """A tracking link (SPEC A-3/A-4): ``code`` is the ``/t/<code>`` path, ``destination`` the
    stored, allow-listed target with its UTM parameters — the only place a click goes."""

    pid = models.ForeignKey(Pid, on_delete=models.PROTECT, related_name="links")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="affiliate_links")
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="affiliate_links"
    )
    code = models.CharField(_("code"), max_length=16, unique=True)
    destination = models.URLField(_("destination"), max_length=1000)
    sub_id = models.CharField(_("sub-id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("tracking link")
        verbose_name_plural = _("tracking links")

    def __str__(self) -> str:
        return self.code


class Click(models.Model):
    """One answered click (SPEC A-4). ``click_id`` is made on the request path and is the key of
    the idempotent insert of the click buffer (a click flushed twice is one row). ``earns``:
    the PID was active at the click (A-3: a frozen PID's clicks are kept but earn nothing)."""

    click_id = models.CharField(_("click id"), max_length=32, unique=True)
    link = models.ForeignKey(Link, on_delete=models.PROTECT, related_name="clicks")
    pid = models.ForeignKey(Pid, on_delete=models.PROTECT, related_name="clicks")
    clicked_at = models.DateTimeField(_("clicked at"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    referrer = models.CharField(_("referrer"), max_length=1024, blank=True)
    earns = models.BooleanField(_("earns"), default=True)

    class Meta:
        verbose_name = _("affiliate click")
        verbose_name_plural = _("affiliate clicks")
        indexes = [models.Index(fields=["pid", "clicked_at"], name="click_pid_at")]

    def __str__(self) -> str:
        return self.click_id


class Programme(TimeStampedModel):
    """A shop's affiliate programme (SPEC A-2): enabled from store level L3, with an optional
    minimum order amount (minor units of the shop currency; 0 = none)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="affiliate_programme")
    enabled = models.BooleanField(_("enabled"), default=False)
    enabled_at = models.DateTimeField(_("enabled at"), null=True, blank=True)
    min_order_minor = models.BigIntegerField(_("minimum order amount"), default=0)

    class Meta:
        verbose_name = _("affiliate programme")
        verbose_name_plural = _("affiliate programmes")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_order_minor__gte=0), name="programme_min_order_non_negative"
            )
        ]


class RateScope(models.TextChoices):
    SHOP = "shop", _("Whole shop")
    CATEGORY = "category", _("Category")
    PRODUCT = "product", _("Product")


class CommissionRate(TimeStampedModel):
    """A commission rate (SPEC A-2), basis points; the most specific one wins: product, then
    category, then shop. One rate per scope and target."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="affiliate_rates")
    scope = models.CharField(_("applies to"), max_length=8, choices=RateScope.choices)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices, blank=True)
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="affiliate_rates"
    )
    rate_bp = models.PositiveIntegerField(_("rate (basis points)"))

    class Meta:
        verbose_name = _("commission rate")
        verbose_name_plural = _("commission rates")
        constraints = [
            # The registry narrows this (0.5%-20%, rules.check_rate_bp); the database holds
            # the outer bound whatever an admin sets.
            models.CheckConstraint(
                condition=Q(rate_bp__gte=1, rate_bp__lte=10_000), name="rate_bp_in_range"
            ),
            models.CheckConstraint(
                condition=(
                    Q(scope="shop", category="", product__isnull=True)
                    | (Q(scope="category", product__isnull=True) & ~Q(category=""))
                    | Q(scope="product", category="", product__isnull=False)
                ),
                name="rate_scope_target",
            ),
            models.UniqueConstraint(
                fields=["shop"], condition=Q(scope="shop"), name="rate_one_per_shop"
            ),
            models.UniqueConstraint(
                fields=["shop", "category"],
                condition=Q(scope="category"),
                name="rate_one_per_category",
            ),
            models.UniqueConstraint(
                fields=["shop", "product"],
                condition=Q(scope="product"),
                name="rate_one_per_product",
            ),
        ]


class Postback(models.Model):
    """A server-to-server conversion (SPEC A-5), unique per integration and ``postback_id``:
    the same postback sent again is the same row. Amounts are never taken from it."""

    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.PROTECT, related_name="+"
    )
    postback_id = models.CharField(max_length=64)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    click_id = models.CharField(max_length=32)
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = _("conversion postback")
        verbose_name_plural = _("conversion postbacks")
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "postback_id"], name="postback_unique_per_integration"
            )
        ]
        indexes = [
            models.Index(fields=["order"], name="postback_order"),
            # The click flusher: orders a postback named by a click still buffered then
            # (services.commissions.orders_attribute_for_clicks).
            models.Index(fields=["click_id"], name="postback_click"),
        ]

    def __str__(self) -> str:
        return self.postback_id


class CommissionStatus(models.TextChoices):
    LOCKED = "locked", _("Locked")
    PRE_ISSUED = "pre_issued", _("Pre-issued")
    SETTLED = "settled", _("Settled")
    PAID_OUT = "paid_out", _("Paid out")
    VOID = "void", _("Void")
    REVERSED = "reversed", _("Reversed")
    ON_HOLD = "on_hold", _("On hold")


class Commission(TimeStampedModel):
    """One order's commission (SPEC A-6). ``lines`` are [product id, line total, rate bp]
    fixed at lock; ``amount_minor`` is the commission on the current base; ``reversed_minor``
    what refunds took back (never more than ``amount_minor``). ``held_from`` is the status a
    dispute interrupted."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="+")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="affiliate_commissions")
    promoter = models.ForeignKey(Promoter, on_delete=models.PROTECT, related_name="commissions")
    pid = models.ForeignKey(Pid, on_delete=models.PROTECT, related_name="commissions")
    click = models.ForeignKey(Click, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=12, choices=CommissionStatus.choices, default="locked"
    )
    held_from = models.CharField(max_length=12, choices=CommissionStatus.choices, blank=True)
    hold_reason = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3)
    lines = models.JSONField(default=list)
    base_minor = models.BigIntegerField(default=0)
    amount_minor = models.BigIntegerField(default=0)
    reversed_minor = models.BigIntegerField(default=0)
    below_minimum = models.BooleanField(default=False)
    locked_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    pre_issued_at = models.DateTimeField(null=True, blank=True)
    # SPEC A-6: payment → pre-issue latency (target p99 < 1 h), for the admins' figure.
    pre_issue_latency_ms = models.BigIntegerField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    settle_due_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    settled_minor = models.BigIntegerField(default=0)
    settle_blocked_at = models.DateTimeField(null=True, blank=True)
    paid_out_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("affiliate commission")
        verbose_name_plural = _("affiliate commissions")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    base_minor__gte=0,
                    amount_minor__gte=0,
                    reversed_minor__gte=0,
                    settled_minor__gte=0,
                ),
                name="commission_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(reversed_minor__lte=F("amount_minor")),
                name="commission_reversal_within_amount",
            ),
        ]
        indexes = [
            # The frequent pre-issue job: paid, locked commissions.
            models.Index(
                fields=["paid_at"], condition=Q(status="locked"), name="commission_to_pre_issue"
            ),
            # The settlement job: pre-issued commissions past their return window.
            models.Index(
                fields=["settle_due_at"],
                condition=Q(status="pre_issued"),
                name="commission_to_settle",
            ),
            models.Index(fields=["shop", "-locked_at"], name="commission_shop_locked"),
            # The promoter portal: its commissions newest first, its reports by lock day.
            models.Index(fields=["promoter", "-locked_at"], name="commission_promoter_locked"),
        ]

    def __str__(self) -> str:
        return f"commission {self.pk} ({self.status})"

    @property
    def net_minor(self) -> int:
        return self.amount_minor - self.reversed_minor

    @property
    def net(self) -> Money:
        return Money(self.net_minor, self.currency)


class PromoterBalance(models.Model):
    """A promoter's cached balance in one currency: the sum of its entries. It may go negative:
    a reversal after payout claws the commission back (SPEC A-6)."""

    promoter = models.ForeignKey(Promoter, on_delete=models.PROTECT, related_name="balances")
    currency = models.CharField(max_length=3)
    balance_minor = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["promoter", "currency"], name="promoter_balance_unique")
        ]

    def __str__(self) -> str:
        return f"{self.promoter_id} {self.currency} {self.balance_minor}"


class PromoterEntry(models.Model):
    """Append-only ledger of a promoter's money: settled commissions (+), payouts (−),
    clawbacks (−). ``idempotency_key`` makes each movement happen once."""

    class Kind(models.TextChoices):
        COMMISSION = "commission", _("Commission settled")
        PAYOUT = "payout", _("Payout")
        CLAWBACK = "clawback", _("Clawback")

    balance = models.ForeignKey(PromoterBalance, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount_minor = models.BigIntegerField()  # signed
    balance_after_minor = models.BigIntegerField()
    commission = models.ForeignKey(
        Commission, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    idempotency_key = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("promoter ledger entry")
        verbose_name_plural = _("promoter ledger entries")
        constraints = [
            models.CheckConstraint(condition=~Q(amount_minor=0), name="promoter_entry_not_zero")
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class PromoterNotice(models.Model):
    """A message to a promoter in its portal (SPEC A-3: the idle-PID warning; freezes)."""

    promoter = models.ForeignKey(Promoter, on_delete=models.CASCADE, related_name="notices")
    pid = models.ForeignKey(Pid, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=16)
    # The facts the notice is worded from in the reader's language (affiliate/notices.py);
    # ``text`` is its English wording.
    params = models.JSONField(default=dict, blank=True)
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.text[:50]

    @property
    def message(self) -> str:
        """The notice in the active language (the portal page's)."""
        from .notices import notice_text

        return notice_text(self)


class DocumentKind(models.TextChoices):
    """SPEC A-1: the documents a promoter uploads for review."""

    LICENCE = "licence", _("Business licence (mainland, valid)")
    ID_FRONT = "id_front", _("Legal representative ID, front")
    ID_BACK = "id_back", _("Legal representative ID, back")
    BANK = "bank", _("Corporate bank account or enterprise Alipay proof")
    TAX = "tax", _("Tax certificates (last 3 months) or tax registration")


class PromoterDocument(models.Model):
    """One A-1 document of a promoter: a private upload (``core.uploads``), the latest per kind.
    Replacing a document points the row at the new file; the old file stays stored."""

    promoter = models.ForeignKey(Promoter, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("document"), max_length=16, choices=DocumentKind.choices)
    file = models.ForeignKey("core.PrivateFile", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["promoter", "kind"], name="promoter_document_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.promoter_id} {self.kind}"


class PayoutBatchStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")


class PayoutBatch(models.Model):
    """Promoter payouts in one currency (issue 9 item 6). Open while finance transfers the money;
    *paid* once every line is paid or failed: from then on the database refuses any change to
    the batch or its lines (a trigger, migration 0003). One open batch per currency at a time,
    so a settled commission can be in one open line only."""

    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=PayoutBatchStatus.choices,
        default=PayoutBatchStatus.OPEN,
    )
    minimum_minor = models.BigIntegerField(_("payout minimum"))
    total_minor = models.BigIntegerField(_("total"), default=0)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        constraints = [
            models.UniqueConstraint(
                fields=["currency"], condition=Q(status="open"), name="payout_one_open_batch"
            ),
            models.CheckConstraint(
                condition=Q(total_minor__gte=0, minimum_minor__gte=0),
                name="payout_batch_amounts_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"payout batch {self.pk} ({self.currency}, {self.status})"

    @property
    def total(self) -> Money:
        return Money(self.total_minor, self.currency)


class PayoutLineStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")


class PayoutLine(models.Model):
    """What one promoter is paid in a batch: its ledger balance when the batch was made. Paid:
    a payout entry in the promoter ledger and its commissions paid out. Failed: nothing moves;
    the commissions wait for the next batch. A line once paid or failed never changes."""

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="lines")
    promoter = models.ForeignKey(Promoter, on_delete=models.PROTECT, related_name="payout_lines")
    amount_minor = models.BigIntegerField(_("amount"))
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=PayoutLineStatus.choices,
        default=PayoutLineStatus.PENDING,
    )
    failure_reason = models.CharField(_("reason"), max_length=300, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        constraints = [
            models.UniqueConstraint(fields=["batch", "promoter"], name="payout_line_per_promoter"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payout_line_positive"),
            models.CheckConstraint(
                condition=Q(status="failed") | Q(failure_reason=""),
                name="payout_line_reason_only_failed",
            ),
        ]
        indexes = [models.Index(fields=["promoter", "-batch"], name="payout_line_promoter")]

    def __str__(self) -> str:
        return f"payout line {self.pk} ({self.status})"

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.batch.currency)


class PayoutItem(models.Model):
    """A settled commission a payout line pays (append-only)."""

    line = models.ForeignKey(PayoutLine, on_delete=models.PROTECT, related_name="items")
    commission = models.ForeignKey(Commission, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "commission"], name="payout_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.line_id}:{self.commission_id}"


class HoldRule(models.TextChoices):
    """Why a commission is held for fraud review (Issue 9 item 9)."""

    SELF_REFERRAL = "self_referral", _("Self-referral")
    TOO_FAST = "too_fast", _("Ordered too soon after the click")
    REFUND_SPIKE = "refund_spike", _("Refund rate spike on the PID")


class HoldDecision(models.TextChoices):
    OPEN = "", _("Waiting for review")
    RELEASED = "released", _("Released")
    CONFIRMED = "confirmed", _("Confirmed: voided")


class CommissionHold(models.Model):
    """A fraud hold of one commission by one rule: the commission is ``on_hold`` (reason
    ``fraud``) until an admin releases it (back to where it was) or confirms it (void).
    ``details`` are the facts the reason is shown from (seconds, rates, what matched). One hold
    per commission and rule: a released hold is not raised again by the same rule."""

    commission = models.ForeignKey(Commission, on_delete=models.PROTECT, related_name="holds")
    rule = models.CharField(_("rule"), max_length=16, choices=HoldRule.choices)
    details = models.JSONField(_("details"), default=dict)
    created_at = models.DateTimeField(_("held at"))
    decision = models.CharField(
        _("decision"), max_length=12, choices=HoldDecision.choices, blank=True, default=""
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("commission hold")
        verbose_name_plural = _("commission holds")
        constraints = [
            models.UniqueConstraint(fields=["commission", "rule"], name="hold_one_per_rule"),
            models.CheckConstraint(
                condition=Q(decision="", decided_at__isnull=True)
                | (Q(decision__in=["released", "confirmed"]) & Q(decided_at__isnull=False)),
                name="hold_decision_dated",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], condition=Q(decision=""), name="hold_open")]

    def __str__(self) -> str:
        return f"{self.rule} hold of commission {self.commission_id}"
