"""Marketing activities (SPEC §5): activities and enrolments (E-1, E-2), the hourly metric
evaluations and their snapshots (E-3, E-3a, E-4), carrier incidents (E-3a), forced exits
(E-5), and the post-mortems and appeals of an exit (E-7)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from core.money import Money
from shops.models import Carrier, Shop, Sku


class ActivityKind(models.TextChoices):
    FLASH_DEAL = "flash_deal", _("Flash Deals")
    COUPON = "coupon", _("Coupons")
    STORE_COUPON = "store_coupon", _("Store Coupons")
    # SPEC C-10: a coin-themed event, open only to shops with an active coin account.
    COIN_EVENT = "coin_event", _("Coin event")


class Activity(TimeStampedModel):
    """An activity an admin created, with its window and rules (SPEC E-1)."""

    kind = models.CharField(_("kind"), max_length=16, choices=ActivityKind.choices)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    enrol_until = models.DateTimeField(_("enrolment closes at"))
    # Rules: the smallest discount off the SKU's price, basis points, and the most stock a
    # SKU may commit.
    min_discount_bp = models.PositiveIntegerField(_("minimum discount (basis points)"), default=0)
    max_stock_per_sku = models.PositiveIntegerField(_("maximum stock per SKU"), default=10_000)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="activity_window_ordered"
            ),
            models.CheckConstraint(
                condition=Q(enrol_until__lte=F("ends_at")), name="activity_enrol_before_end"
            ),
            models.CheckConstraint(
                condition=Q(min_discount_bp__lte=10000), name="activity_discount_at_most_100"
            ),
        ]
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="activity_window")]

    def __str__(self) -> str:
        return self.name

    @property
    def kind_label(self) -> str:
        return ActivityKind(self.kind).label


class EnrolmentStatus(models.TextChoices):
    ENROLLED = "enrolled", _("Enrolled")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXITED = "exited", _("Removed (forced exit)")


class Enrolment(TimeStampedModel):
    """A SKU of a shop in an activity, at an activity price with committed stock (SPEC E-1)."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="enrolments")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="enrolments")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="enrolments")
    activity_price_minor = models.BigIntegerField(_("activity price"))
    currency = models.CharField(max_length=3)
    stock = models.PositiveIntegerField(_("activity stock"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=EnrolmentStatus.choices,
        default=EnrolmentStatus.ENROLLED,
    )
    enrolled_at = models.DateTimeField(_("enrolled at"))
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    exit = models.ForeignKey(
        "ActivityExit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrolments",
    )

    class Meta:
        verbose_name = _("activity enrolment")
        verbose_name_plural = _("activity enrolments")
        ordering = ["-enrolled_at", "-id"]
        constraints = [
            # A SKU is in an activity once at a time.
            models.UniqueConstraint(
                fields=["activity", "sku"],
                condition=Q(status="enrolled"),
                name="enrolment_one_live_per_sku",
            ),
            models.CheckConstraint(
                condition=Q(activity_price_minor__gt=0), name="enrolment_price_positive"
            ),
            models.CheckConstraint(condition=Q(stock__gte=1), name="enrolment_stock_positive"),
            models.CheckConstraint(
                condition=Q(status="enrolled", left_at__isnull=True)
                | Q(~Q(status="enrolled"), left_at__isnull=False),
                name="enrolment_left_at_iff_left",
            ),
        ]
        indexes = [models.Index(fields=["shop", "status"], name="enrolment_shop_status")]

    def __str__(self) -> str:
        return f"{self.sku_id} in {self.activity_id}"

    @property
    def activity_price(self) -> Money:
        return Money(self.activity_price_minor, self.currency)

    @property
    def status_label(self) -> str:
        return EnrolmentStatus(self.status).label


class CarrierIncident(TimeStampedModel):
    """A carrier's outage an admin declared (SPEC E-3a): orders of that carrier to that region,
    placed within the window, leave the late-shipment and logistics anomaly rates."""

    carrier = models.CharField(_("carrier"), max_length=64, choices=Carrier.choices)
    region = models.CharField(
        _("ship-to country"), max_length=2, blank=True, help_text=_("Empty: every country.")
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=300)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("carrier incident")
        verbose_name_plural = _("carrier incidents")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="incident_window_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_carrier_display()} {self.region or '*'} {self.starts_at:%Y-%m-%d}"


class Evaluation(models.Model):
    """One hourly pass over every shop (SPEC E-3): the registry numbers and incidents it applied."""

    evaluated_at = models.DateTimeField(_("evaluated at"))
    day = models.DateField(_("natural day"))
    window_start = models.DateField(_("window from"))
    limits = models.JSONField(_("registry numbers applied"), default=dict)
    incidents = models.JSONField(_("carrier incidents applied"), default=list)
    shops = models.PositiveIntegerField(_("shops evaluated"), default=0)
    exits = models.PositiveIntegerField(_("shops exited"), default=0)

    class Meta:
        verbose_name = _("activity evaluation")
        verbose_name_plural = _("activity evaluations")
        ordering = ["-evaluated_at", "-id"]
        get_latest_by = "evaluated_at"

    def __str__(self) -> str:
        return f"{self.evaluated_at:%Y-%m-%d %H:%M}"


class MetricSnapshot(models.Model):
    """One shop's four metrics at one evaluation: values, numerators, denominators, thresholds
    and relaxations applied (``metrics``), and the daily-figure sums they came from
    (``figures``), so the decision can be replayed from raw orders (``services.replay``)."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="snapshots")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="metric_snapshots")
    day = models.DateField(_("natural day"))
    evaluated_at = models.DateTimeField(_("evaluated at"))
    category = models.CharField(_("main category"), max_length=32)
    relaxed = models.BooleanField(_("relaxed thresholds"), default=False)
    # {metric: {"numerator", "denominator", "value", "threshold", "standing", "exempt"}}
    metrics = models.JSONField(default=dict)
    figures = models.JSONField(default=dict)
    breaches = models.JSONField(default=list)  # metric names breached at this evaluation

    class Meta:
        verbose_name = _("activity metric snapshot")
        verbose_name_plural = _("activity metric snapshots")
        ordering = ["-evaluated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "shop"], name="snapshot_one_per_shop_per_evaluation"
            )
        ]
        # A day's final status per shop (SPEC E-5) and the monitor's latest: the shop's
        # snapshots newest first within a day.
        indexes = [
            models.Index(fields=["shop", "day", "-evaluated_at"], name="snapshot_shop_day"),
            models.Index(fields=["day", "shop", "-evaluated_at"], name="snapshot_day_shop"),
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} @ {self.evaluated_at:%Y-%m-%d %H:%M}"


class ActivityExit(TimeStampedModel):
    """A forced exit (SPEC E-5): the metrics breached on two consecutive natural days, their
    values, and the orders behind them. One per shop per natural day."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="activity_exits")
    day = models.DateField(_("natural day"))
    exited_at = models.DateTimeField(_("exited at"))
    snapshot = models.ForeignKey(MetricSnapshot, on_delete=models.PROTECT, related_name="+")
    previous = models.ForeignKey(MetricSnapshot, on_delete=models.PROTECT, related_name="+")
    metrics = models.JSONField(_("metrics breached"), default=list)
    evidence = models.JSONField(_("evidence"), default=dict)
    enrolments_removed = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("activity exit")
        verbose_name_plural = _("activity exits")
        ordering = ["-exited_at", "-id"]
        constraints = [
            # Running the evaluation twice, or twice at once, exits once.
            models.UniqueConstraint(fields=["shop", "day"], name="exit_once_per_shop_day")
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} exited {self.day}"


class ErpSyncStatus(models.TextChoices):
    """SPEC E-7 post-mortem: how tracking numbers reached the marketplace at the time."""

    SYNCED = "synced", _("Synced automatically (ERP or API), on time")
    DELAYED = "delayed", _("Synced automatically, with delays")
    MANUAL = "manual", _("Entered by hand")
    BROKEN = "broken", _("The sync was broken")


class StockStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("Every exited SKU is in stock")
    LOW = "low", _("Some SKUs are low on stock")
    OUT = "out", _("Some SKUs are out of stock")


class PostMortemStatus(models.TextChoices):
    DUE = "due", _("Due")  # reopened by the platform after a missed deadline, not filed yet
    SUBMITTED = "submitted", _("Under review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class PostMortem(TimeStampedModel):
    """SPEC E-7: the seller's post-mortem of a forced exit — the 12 fields (the evidence files
    are ``core.uploads`` private files owned by this row), filed within 48 h of the exit, and
    the platform's decision with its reason. E-8 needs it approved to re-enrol.

    No row means "not filed yet" (due 48 h after the exit). A rejection opens a new 48-hour
    window to file a revised one; a missed deadline can be reopened by an admin (status DUE).
    """

    exit = models.OneToOneField(ActivityExit, on_delete=models.CASCADE, related_name="postmortem")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="postmortems")
    status = models.CharField(
        _("status"), max_length=16, choices=PostMortemStatus.choices, default=PostMortemStatus.DUE
    )
    due_at = models.DateTimeField(_("file by"))
    # The 12 fields of SPEC E-7 (the 8th, evidence files, are private files of this row).
    metric = models.CharField(_("metric"), max_length=32, blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    affected_orders = models.TextField(_("affected orders"), blank=True)
    carrier = models.CharField(_("carrier"), max_length=64, blank=True)
    erp_sync_status = models.CharField(
        _("ERP / tracking sync status"), max_length=16, choices=ErpSyncStatus.choices, blank=True
    )
    timeline = models.TextField(_("timeline"), blank=True)
    corrective_actions = models.TextField(_("corrective actions"), blank=True)
    owner = models.CharField(_("owner"), max_length=120, blank=True)
    prevention = models.TextField(_("prevention"), blank=True)
    expected_fix_date = models.DateField(_("expected fix date"), null=True, blank=True)
    stock_status = models.CharField(
        _("stock status"), max_length=16, choices=StockStatus.choices, blank=True
    )
    stock_notes = models.TextField(_("stock of the exited SKUs"), blank=True)
    revision = models.PositiveIntegerField(_("revision"), default=0)
    submitted_at = models.DateTimeField(_("filed at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(_("reason of the decision"), blank=True)
    # Every decision so far, oldest first: {"revision", "status", "reason", "by", "at"}.
    history = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("post-mortem")
        verbose_name_plural = _("post-mortems")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="due") | Q(submitted_at__isnull=False, revision__gte=1),
                name="postmortem_filed_has_filing",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "rejected"])
                | (Q(decided_at__isnull=False) & ~Q(decision_reason="")),
                name="postmortem_decision_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"], name="postmortem_queue")]

    def __str__(self) -> str:
        return f"post-mortem of exit {self.exit_id}"

    @property
    def status_label(self) -> str:
        return str(PostMortemStatus(self.status).label)


class AppealStatus(models.TextChoices):
    OPEN = "open", _("Under review")
    UPHELD = "upheld", _("Upheld: the removal is lifted")
    DISMISSED = "dismissed", _("Dismissed")


class Appeal(TimeStampedModel):
    """SPEC E-7: the seller's appeal of a forced exit ("Marketing > Activity Performance
    Appeal"), opened within 72 h of it with logistics evidence (private files of this row).
    Upheld, the exit no longer counts against re-enrolment (E-8)."""

    exit = models.OneToOneField(ActivityExit, on_delete=models.CASCADE, related_name="appeal")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="activity_appeals")
    status = models.CharField(
        _("status"), max_length=16, choices=AppealStatus.choices, default=AppealStatus.OPEN
    )
    statement = models.TextField(_("why the removal was wrong"))
    logistics_lines = models.TextField(_("logistics lines"), blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(_("reason of the decision"), blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("activity performance appeal")
        verbose_name_plural = _("activity performance appeals")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | (Q(decided_at__isnull=False) & ~Q(decision_reason="")),
                name="appeal_decision_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["status", "opened_at"], name="appeal_queue")]

    def __str__(self) -> str:
        return f"appeal of exit {self.exit_id}"

    @property
    def status_label(self) -> str:
        return str(AppealStatus(self.status).label)


class EvaluationLock(models.Model):
    """The one row evaluations lock (``select_for_update``) so two never overlap."""

    name = models.CharField(max_length=32, unique=True)

    def __str__(self) -> str:
        return self.name


# --- SPEC E-6 layers 1 and 3: activity orders, their consistency check, the review report ------


class ActivityOrder(models.Model):
    """An order placed through an activity (SPEC E-1: the order carries the activity), recorded
    by the module's consumer of ``order.created``. The 15-minute consistency check (E-6 layer 1)
    claims the unchecked ones; the review report (layer 3) sums them per activity and shop."""

    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="activity_record"
    )
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    # The order's opaque activity id (orders sits below this module): an id no activity has
    # is itself an inconsistency the check reports.
    activity_id = models.BigIntegerField(_("activity"))
    placed_at = models.DateTimeField(_("placed at"))
    recorded_at = models.DateTimeField(_("recorded at"))
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)

    class Meta:
        indexes = [
            # The check's claim: the unchecked rows in id order.
            models.Index(
                fields=["id"], condition=Q(checked_at__isnull=True), name="actorder_unchecked"
            ),
            # The report's sums and the check's units sold so far, per activity.
            models.Index(fields=["activity_id", "shop", "placed_at"], name="actorder_activity"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} in {self.activity_id}"


class ConsistencyKind(models.TextChoices):
    PRICE = "price", _("Price differs from the activity price")
    OVERSOLD = "oversold", _("Sold beyond the activity stock")
    NOT_ENROLLED = "not_enrolled", _("SKU not enrolled in the activity when ordered")
    OUTSIDE_WINDOW = "outside_window", _("Ordered outside the activity's dates")
    UNKNOWN_ACTIVITY = "unknown_activity", _("The order names no known activity")


class ConsistencyIssue(models.Model):
    """What the 15-minute check found on one activity order (SPEC E-6 layer 1): a line whose
    price or units disagree with the SKU's enrolment (activity price, activity stock), a SKU
    that was not enrolled, an order outside the activity's window. Once per (order, SKU, kind)."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    activity_id = models.BigIntegerField(_("activity"))
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=ConsistencyKind.choices)
    expected = models.CharField(_("expected"), max_length=64, blank=True)
    found = models.CharField(_("found"), max_length=64, blank=True)
    found_at = models.DateTimeField(_("found at"))

    class Meta:
        ordering = ["-found_at", "-id"]
        verbose_name = _("consistency issue")
        verbose_name_plural = _("consistency issues")
        constraints = [
            # The check is idempotent: a second pass over the same order adds nothing.
            models.UniqueConstraint(
                fields=["order", "sku", "kind"],
                condition=Q(sku__isnull=False),
                name="consistency_once_per_line_kind",
            ),
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=Q(sku__isnull=True),
                name="consistency_once_per_order_kind",
            ),
        ]
        indexes = [models.Index(fields=["shop", "-found_at"], name="consistency_shop_found")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"

    @property
    def kind_label(self) -> str:
        return ConsistencyKind(self.kind).label


class ActivityReport(models.Model):
    """SPEC E-6 layer 3: one shop's review of one activity, generated once the activity has
    ended and updated hourly until 72 hours after its end, when it becomes final. Amounts in
    minor units of ``currency``; refunds count up to ``cutoff``."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="reports")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="activity_reports")
    currency = models.CharField(max_length=3)
    generated_at = models.DateTimeField(_("generated at"))
    cutoff = models.DateTimeField(_("figures up to"))
    final = models.BooleanField(_("final"), default=False)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    paid_orders = models.PositiveIntegerField(_("paid orders"), default=0)
    units = models.PositiveIntegerField(_("units"), default=0)
    sales_minor = models.BigIntegerField(_("sales"), default=0)
    returns_minor = models.BigIntegerField(_("returns"), default=0)
    returned_orders = models.PositiveIntegerField(_("orders with a refund"), default=0)
    discount_minor = models.BigIntegerField(_("price discount"), default=0)
    coupon_minor = models.BigIntegerField(_("coupon cost"), default=0)
    coins_minor = models.BigIntegerField(_("coin cost"), default=0)

    class Meta:
        ordering = ["-cutoff", "-id"]
        verbose_name = _("activity review report")
        verbose_name_plural = _("activity review reports")
        constraints = [
            models.UniqueConstraint(fields=["activity", "shop"], name="report_once_per_shop"),
            models.CheckConstraint(
                condition=Q(
                    sales_minor__gte=0,
                    returns_minor__gte=0,
                    discount_minor__gte=0,
                    coupon_minor__gte=0,
                    coins_minor__gte=0,
                ),
                name="report_amounts_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["shop", "-cutoff"], name="report_shop_cutoff")]

    def __str__(self) -> str:
        return f"{self.shop_id} / {self.activity_id}"

    def _m(self, minor: int) -> Money:
        return Money(minor, self.currency)

    @property
    def cost_minor(self) -> int:
        return self.discount_minor + self.coupon_minor + self.coins_minor

    @property
    def net_sales_minor(self) -> int:
        return self.sales_minor - self.returns_minor

    @property
    def sales(self) -> Money:
        return self._m(self.sales_minor)

    @property
    def returns(self) -> Money:
        return self._m(self.returns_minor)

    @property
    def net_sales(self) -> Money:
        return self._m(self.net_sales_minor)

    @property
    def cost(self) -> Money:
        return self._m(self.cost_minor)

    @property
    def discount(self) -> Money:
        return self._m(self.discount_minor)

    @property
    def coupon(self) -> Money:
        return self._m(self.coupon_minor)

    @property
    def coins(self) -> Money:
        return self._m(self.coins_minor)

    @property
    def roi(self):
        """Net sales per unit of cost (as SPEC C-11's ROI: GMV of the orders against their
        cost); None without a cost."""
        from . import rules

        return rules.roi(net_sales_minor=self.net_sales_minor, cost_minor=self.cost_minor)

    @property
    def return_rate(self):
        from . import rules

        return rules.rate_percent(self.returned_orders, self.paid_orders)
