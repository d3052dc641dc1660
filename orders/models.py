from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from buyers.models import Buyer
from core.models import TimeStampedModel
from core.money import Money
from shops.models import Carrier, Shop, Sku


class Cart(TimeStampedModel):
    """A buyer's cart in one shop (SPEC M-4 abandoned-cart segment reads it)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="carts")
    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="carts")
    last_activity_at = models.DateTimeField(_("last activity"))

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        constraints = [
            models.UniqueConstraint(fields=["shop", "buyer"], name="cart_shop_buyer_unique")
        ]
        indexes = [models.Index(fields=["shop", "last_activity_at"], name="cart_shop_activity")]


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE)
    quantity = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="cartline_cart_sku_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cartline_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku_id}"


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Pending payment")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")


class ShipVerdict(models.TextChoices):
    """SPEC E-3 late shipment: an order's standing against its 72-hour shipping deadline."""

    UNDECIDED = "", _("Not decided yet")
    ON_TIME = "on_time", _("Valid tracking within 72 h")
    LATE = "late", _("No valid tracking within 72 h")
    # Cancelled before its deadline: neither on time nor late (left out of the rate).
    VOID = "void", _("Cancelled before the deadline")


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Card")
    PAYPAL = "paypal", _("PayPal")
    ALIPAY = "alipay", _("Alipay")
    APPLE_PAY = "apple_pay", _("Apple Pay")
    GOOGLE_PAY = "google_pay", _("Google Pay")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")


class Order(TimeStampedModel):
    """An order and every amount the marketing rules read (SPEC §0 order lifecycle)."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="orders")
    number = models.CharField(_("order number"), max_length=64)
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT
    )
    disputed = models.BooleanField(_("disputed"), default=False)
    currency = models.CharField(max_length=3)
    # Amounts in minor units of ``currency``.
    subtotal_minor = models.BigIntegerField(_("items subtotal"))
    shipping_fee_minor = models.BigIntegerField(_("shipping fee"), default=0)
    coupon_discount_minor = models.BigIntegerField(_("coupon discount"), default=0)
    coin_deduction_coins = models.IntegerField(_("coins deducted"), default=0)
    coin_deduction_minor = models.BigIntegerField(_("coin deduction value"), default=0)
    platform_subsidy_minor = models.BigIntegerField(_("platform subsidy"), default=0)
    cashback_red_packet_minor = models.BigIntegerField(_("buyer cashback red packet"), default=0)
    amount_paid_minor = models.BigIntegerField(_("amount paid"), default=0)
    refunded_minor = models.BigIntegerField(_("refunded"), default=0)
    payment_method = models.CharField(
        _("payment method"), max_length=16, choices=PaymentMethod.choices, blank=True
    )
    logistics_service = models.CharField(_("logistics service"), max_length=64, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    # Marketing context recorded as opaque ids: orders sit below the marketing modules.
    activity_id = models.BigIntegerField(_("activity"), null=True, blank=True)
    affiliate_click_id = models.CharField(_("affiliate click id"), max_length=64, blank=True)
    country = models.CharField(_("ship-to country"), max_length=2, blank=True)
    placed_at = models.DateTimeField(_("placed at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    # SPEC E-3: decided by the first carrier scan within 72 h of creation (on time), or by the
    # fulfilment sweep once the deadline has passed without one (late; a tracking number the
    # carrier never scanned — a fake one — is late too). ``orders.guards.ship_verdict``.
    ship_verdict = models.CharField(
        _("shipping deadline"),
        max_length=8,
        choices=ShipVerdict.choices,
        default=ShipVerdict.UNDECIDED,
        blank=True,
    )

    class Meta:
        verbose_name = _("order")
        # The bare msgid "orders" is a count column ("订单数"); the model's plural is a noun.
        verbose_name_plural = pgettext_lazy("model name", "orders")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "number"], name="order_shop_number_unique"),
            models.CheckConstraint(
                condition=Q(
                    subtotal_minor__gte=0,
                    shipping_fee_minor__gte=0,
                    coupon_discount_minor__gte=0,
                    coin_deduction_coins__gte=0,
                    coin_deduction_minor__gte=0,
                    platform_subsidy_minor__gte=0,
                    cashback_red_packet_minor__gte=0,
                    amount_paid_minor__gte=0,
                    refunded_minor__gte=0,
                ),
                name="order_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(refunded_minor__lte=models.F("amount_paid_minor")),
                name="order_refund_within_paid",
            ),
        ]
        indexes = [
            # Orders list: a shop's orders newest first, optionally by status.
            models.Index(fields=["shop", "-placed_at", "-id"], name="order_shop_placed"),
            models.Index(fields=["shop", "status", "-placed_at"], name="order_shop_status_placed"),
            models.Index(fields=["shop", "buyer"], name="order_shop_buyer"),
            # The products pages' 30-day units and GMV (shops.selectors.product_sales_30d): a
            # shop's orders paid in the window, then their lines by the order foreign key.
            models.Index(fields=["shop", "paid_at"], name="order_shop_paid"),
            # The hourly fulfilment sweep (``services.fulfilment_sweep``): paid orders whose
            # shipping deadline is not decided yet, and the parcels still in transit (their ids
            # only: read index-only, then each shipment by its order).
            models.Index(
                fields=["placed_at"],
                condition=Q(ship_verdict="", paid_at__isnull=False),
                name="order_ship_undecided",
            ),
            models.Index(fields=["id"], condition=Q(status="shipped"), name="order_in_transit"),
        ]

    def __str__(self) -> str:
        return self.number

    # The labels straight from the enums: ``get_FOO_display`` rebuilds the choices dict on
    # every call, which a 25-row list pays for 50 times per page.
    @property
    def status_label(self) -> str:
        return OrderStatus(self.status).label

    @property
    def payment_method_label(self) -> str:
        return PaymentMethod(self.payment_method).label if self.payment_method else ""

    def _m(self, minor: int) -> Money:
        return Money(minor, self.currency)

    @property
    def payable_before_coins(self) -> Money:
        """SPEC C-3 Decision: items + shipping - coupon, before the coin deduction."""
        return self._m(self.subtotal_minor + self.shipping_fee_minor - self.coupon_discount_minor)

    @property
    def amount_paid(self) -> Money:
        return self._m(self.amount_paid_minor)

    @property
    def refunded(self) -> Money:
        return self._m(self.refunded_minor)

    @property
    def subtotal(self) -> Money:
        return self._m(self.subtotal_minor)

    @property
    def shipping_fee(self) -> Money:
        return self._m(self.shipping_fee_minor)

    @property
    def coupon_discount(self) -> Money:
        return self._m(self.coupon_discount_minor)

    @property
    def coin_deduction(self) -> Money:
        return self._m(self.coin_deduction_minor)

    @property
    def gmv(self) -> Money:
        """SPEC C-9: coin deduction is not GMV — GMV is what the buyer paid, less refunds."""
        return self._m(self.amount_paid_minor - self.refunded_minor)

    @property
    def invoice_amount(self) -> Money:
        """SPEC C-9: the invoice is for the full amount, coins included."""
        return self._m(self.amount_paid_minor + self.coin_deduction_minor)

    @property
    def official_logistics(self) -> bool:
        return self.logistics_service in {Carrier.AE_STANDARD, Carrier.AE_SAVER}


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField()
    unit_price_minor = models.BigIntegerField()

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="orderline_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price_minor__gte=0), name="orderline_price_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku_id}"

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_price_minor


class PaymentStatus(models.TextChoices):
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Payment(TimeStampedModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    external_id = models.CharField(max_length=64, unique=True)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.SUCCEEDED
    )
    paid_at = models.DateTimeField()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_minor__gte=0), name="payment_amount_non_negative"
            )
        ]


class Shipment(TimeStampedModel):
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="shipment")
    carrier = models.CharField(max_length=64)
    tracking_number = models.CharField(max_length=64)
    official = models.BooleanField(default=False)
    shipped_at = models.DateTimeField()
    # SPEC E-3 logistics anomaly: no update for >= 72 h, or no progress for >= 5 days.
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_progress_at = models.DateTimeField(null=True, blank=True)
    # SPEC E-3: when the parcel first went 72 h without an update or 5 days without progress
    # (set by the scan that ended such a gap, or by the fulfilment sweep while it lasts).
    anomaly_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")


class TrackingStatus(models.TextChoices):
    INFO_RECEIVED = "info_received", _("Label created")
    PICKED_UP = "picked_up", _("Picked up")
    IN_TRANSIT = "in_transit", _("In transit")
    CUSTOMS = "customs", _("In customs")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")
    NO_UPDATE = "no_update", _("Carrier scan without progress")


# Statuses that move a parcel forward (a repeated scan or an exception is not progress).
PROGRESS_STATUSES = frozenset(
    {
        TrackingStatus.PICKED_UP,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.CUSTOMS,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERED,
    }
)


class TrackingEvent(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=24, choices=TrackingStatus.choices)
    occurred_at = models.DateTimeField()
    location = models.CharField(max_length=120, blank=True)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"


class Refund(TimeStampedModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    external_id = models.CharField(max_length=64, unique=True)
    amount_minor = models.BigIntegerField()
    full = models.BooleanField(default=False)
    reason = models.CharField(max_length=200, blank=True)
    refunded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="refund_amount_positive")
        ]


class DisputeOutcome(models.TextChoices):
    BUYER_WON = "buyer_won", _("Buyer won (refunded)")
    SELLER_WON = "seller_won", _("Seller won")
    SETTLED = "settled", _("Settled")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Dispute(TimeStampedModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="disputes")
    external_id = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=200, blank=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=DisputeOutcome.choices, blank=True)

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")


class Review(TimeStampedModel):
    """A product review with the buyer's DSR scores (1-5)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="reviews")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="reviews")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="reviews")
    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    text = models.TextField(blank=True)
    language = models.CharField(max_length=8, blank=True)
    dsr_item_as_described = models.PositiveSmallIntegerField()
    dsr_communication = models.PositiveSmallIntegerField()
    dsr_shipping = models.PositiveSmallIntegerField()
    posted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("product review")
        verbose_name_plural = _("product reviews")
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="review_order_sku_unique"),
            models.CheckConstraint(
                condition=Q(
                    rating__range=(1, 5),
                    dsr_item_as_described__range=(1, 5),
                    dsr_communication__range=(1, 5),
                    dsr_shipping__range=(1, 5),
                ),
                name="review_scores_1_5",
            ),
        ]
        indexes = [models.Index(fields=["shop", "posted_at"], name="review_shop_posted")]


class FeedbackKind(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class Feedback(TimeStampedModel):
    """Buyer feedback on an order; SPEC C-1 reads the 90-day positive rate."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="feedback")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="feedback")
    kind = models.CharField(max_length=16, choices=FeedbackKind.choices)
    posted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("order feedback")
        verbose_name_plural = _("order feedback")
        indexes = [models.Index(fields=["shop", "posted_at"], name="feedback_shop_posted")]


class ShopDailyStats(models.Model):
    """Pre-aggregated daily figures per shop and natural day (platform time zone).

    Kept in step by the order services in the same transaction as the fact, and rebuilt
    from the orders by ``daily_stats_rebuild``; the dashboard reads 30 rows, not 30 days of orders.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="daily_stats")
    day = models.DateField()
    orders_created = models.IntegerField(default=0)
    orders_paid = models.IntegerField(default=0)
    orders_cancelled = models.IntegerField(default=0)
    orders_shipped = models.IntegerField(default=0)
    gmv_minor = models.BigIntegerField(default=0)  # paid amounts, by payment day
    refunded_minor = models.BigIntegerField(default=0)  # refunds, by refund day
    # Orders placed this day, by their *current* status: every transition moves one order
    # from its old status column to the new one (``status_field``).
    status_pending_payment = models.IntegerField(default=0)
    status_paid = models.IntegerField(default=0)
    status_shipped = models.IntegerField(default=0)
    status_delivered = models.IntegerField(default=0)
    status_completed = models.IntegerField(default=0)
    status_cancelled = models.IntegerField(default=0)
    status_refunded = models.IntegerField(default=0)
    # Buyer feedback posted this day (SPEC C-1 positive rate).
    feedback_total = models.IntegerField(default=0)
    feedback_positive = models.IntegerField(default=0)
    # Reviews posted this day and the sums of their DSR scores (SPEC E-8 averages).
    reviews = models.IntegerField(default=0)
    dsr_item_as_described_sum = models.IntegerField(default=0)
    dsr_communication_sum = models.IntegerField(default=0)
    dsr_shipping_sum = models.IntegerField(default=0)
    # SPEC E-3 late shipment, orders placed this day by their shipping verdict (decided ones
    # only: the rate is late / (on time + late)).
    ship_on_time = models.IntegerField(default=0)
    ship_late = models.IntegerField(default=0)
    # SPEC E-3/E-4 logistics anomaly, orders placed this day whose parcel went quiet; official
    # logistics apart, they count 0.7 (the denominator is ``orders_shipped``).
    anomalies = models.IntegerField(default=0)
    anomalies_official = models.IntegerField(default=0)
    # SPEC E-3 negative review rate: reviews posted this day on activity orders, and those
    # rated <= 2 whose text matches the "not as described" keyword list.
    activity_reviews = models.IntegerField(default=0)
    activity_reviews_negative = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("shop daily figures")
        verbose_name_plural = _("shop daily figures")
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "day"], name="dailystats_shop_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.day}"


def status_field(status: str) -> str:
    """The ShopDailyStats column that counts orders currently in ``status``."""
    return f"status_{status}"


# --- ingested events (SPEC §0 integration contract; senders: integrations.Integration) ------


class IngestedEventStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected")


class IngestedEvent(models.Model):
    """The idempotency record of one marketplace event (SPEC §0: a replay returns the first result).

    ``event_id`` is unique *per integration*: two marketplaces may number their events alike.
    Only final outcomes are stored — applied events and non-retryable rejections; a retryable
    rejection (say ``order.paid`` before its ``order.created``) is not, so the sender's retry runs.
    """

    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.PROTECT, related_name="events"
    )
    event_id = models.CharField(_("event id"), max_length=128)
    type = models.CharField(_("type"), max_length=32)
    status = models.CharField(_("status"), max_length=16, choices=IngestedEventStatus.choices)
    code = models.CharField(_("code"), max_length=64, blank=True)
    message = models.TextField(_("message"), blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    occurred_at = models.DateTimeField(
        _("occurred at"), null=True, blank=True
    )  # None: out of range
    received_at = models.DateTimeField(_("received at"))
    # SHA-256 of the event's type, time and data (``ingest.base.fingerprint``): an id re-sent
    # with another payload is refused as ``event_id_reused``. Empty for events stored before.
    payload_hash = models.CharField(_("payload hash"), max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("ingested event")
        verbose_name_plural = _("ingested events")
        constraints = [
            # The idempotency key: the race between two copies of one event is decided here.
            models.UniqueConstraint(
                fields=["integration", "event_id"], name="ingested_event_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["integration", "-received_at"], name="ingested_integration_recv")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type}: {self.status})"


# --- the order event log (DESIGN §1b: a transactional outbox) -------------------------------


class OrderEvent(models.Model):
    """One fact about an order, written in the same transaction as the fact itself, on every
    write path (services, the ingestion fast path, bulk seeding). Modules learn about orders
    only from these rows (``orders.eventlog``); the payload of each type is in ``orders.events``.
    """

    type = models.CharField(_("type"), max_length=32)
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    # Null only for facts that belong to no order (a cart update).
    order = models.ForeignKey(
        "Order", on_delete=models.CASCADE, null=True, blank=True, related_name="log"
    )
    occurred_at = models.DateTimeField(_("occurred at"))  # when the fact happened
    created_at = models.DateTimeField(_("recorded at"))  # when it was written here
    payload = models.JSONField(_("payload"), default=dict)

    class Meta:
        ordering = ["id"]
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        # The FK index on order serves the per-order ordering check of a consumer (eventlog).

    def __str__(self) -> str:
        return f"#{self.pk} {self.type}"


class ConsumedEvent(models.Model):
    """A consumer has handled an event: written in the handler's own transaction, so a handler's
    effects and this row commit together or not at all (exactly once per consumer)."""

    consumer = models.CharField(_("consumer"), max_length=64)
    event = models.ForeignKey(OrderEvent, on_delete=models.CASCADE, related_name="+")
    handled_at = models.DateTimeField(_("handled at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consumer", "event"], name="consumed_event_unique")
        ]
        verbose_name = _("handled event")
        verbose_name_plural = _("handled events")

    def __str__(self) -> str:
        return f"{self.consumer} #{self.event_id}"


class ConsumerCursor(models.Model):
    """How far a consumer is known to be complete: every event with ``id <= position`` that will
    ever exist is handled. Advanced only past events older than the settle time, so a
    transaction still open with a lower id cannot be skipped (ids commit out of order)."""

    consumer = models.CharField(_("consumer"), max_length=64, unique=True)
    position = models.BigIntegerField(_("position"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(position__gte=0), name="consumer_cursor_position_gte_0"
            )
        ]
        verbose_name = _("consumer cursor")
        verbose_name_plural = _("consumer cursors")

    def __str__(self) -> str:
        return f"{self.consumer} @ {self.position}"


class ConsumerFailure(models.Model):
    """A handler raised on an event: kept for operators, retried with backoff by the catch-up."""

    consumer = models.CharField(_("consumer"), max_length=64)
    event = models.ForeignKey(OrderEvent, on_delete=models.CASCADE, related_name="+")
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    failed_at = models.DateTimeField(_("failed at"))
    retry_at = models.DateTimeField(_("next retry"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consumer", "event"], name="consumer_failure_unique")
        ]
        verbose_name = _("consumer failure")
        verbose_name_plural = _("consumer failures")

    def __str__(self) -> str:
        return f"{self.consumer} #{self.event_id} x{self.attempts}"
