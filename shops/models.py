from django.conf import settings
from django.db import models
from django.db.models import Q
from django.templatetags.static import static
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from core.money import Money


class Category(models.TextChoices):
    HOME_GARDEN = "home_garden", _("Home & garden")
    AUTO_MOTO = "auto_moto", _("Auto & moto parts")
    DIGITAL_ACCESSORIES = "digital_accessories", _("3C / digital accessories")
    CONSUMER_ELECTRONICS = "consumer_electronics", _("Consumer electronics")
    WOMENS_FASHION = "womens_fashion", _("Women's fashion")
    MENS_FASHION = "mens_fashion", _("Men's fashion")
    BEAUTY = "beauty", _("Beauty & health")
    TOYS = "toys", _("Toys & hobbies")
    SPORTS = "sports", _("Sports & outdoors")
    JEWELRY = "jewelry", _("Jewelry & watches")


class Region(models.TextChoices):
    MAINLAND_CN = "CN", _("Mainland China")
    HONG_KONG = "HK", _("Hong Kong SAR")
    OVERSEAS = "XX", _("Overseas")


class StoreLevel(models.IntegerChoices):
    L1 = 1, "L1"
    L2 = 2, "L2"
    L3 = 3, "L3"
    L4 = 4, "L4"
    L5 = 5, "L5"


class Shop(TimeStampedModel):
    """A seller's store, with every attribute the marketing rules read (SPEC §1-§5)."""

    external_id = models.CharField(_("marketplace id"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    registration_region = models.CharField(
        _("registration region"), max_length=2, choices=Region.choices, default=Region.MAINLAND_CN
    )
    enterprise_certified = models.BooleanField(_("enterprise certified"), default=False)
    opened_at = models.DateTimeField(_("opened at"))
    store_level = models.PositiveSmallIntegerField(
        _("store level"), choices=StoreLevel.choices, default=StoreLevel.L1
    )
    store_rating = models.DecimalField(_("store rating"), max_digits=3, decimal_places=2, default=0)
    # DSR items (1.00-5.00) as the marketplace publishes them; 30-day averages from reviews
    # are selectors in orders.selectors.
    dsr_item_as_described = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    dsr_communication = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    dsr_shipping = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    main_category = models.CharField(_("main category"), max_length=32, choices=Category.choices)
    currency = models.CharField(_("currency"), max_length=3, default="USD")

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(store_rating__gte=0, store_rating__lte=5), name="shop_rating_0_5"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MARKETER = "marketer", _("Marketer")
    ANALYST = "analyst", _("Analyst (read-only)")


WRITE_ROLES = (Role.OWNER, Role.MARKETER)
# SPEC B-8: the roles that see buyers' contacts in full (and may therefore search by them).
CONTACT_ROLES = (Role.OWNER, Role.MARKETER)


class Membership(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    # When the member last chose this shop (the shop switcher, or the shop a sign-in landed
    # on): the next sign-in opens the shop used last (sellercenter.landing).
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("shop membership")
        verbose_name_plural = _("shop memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "shop"], name="membership_user_shop_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.shop} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES

    @property
    def can_see_buyer_contacts(self) -> bool:
        """SPEC B-8: buyers' e-mail and phone in full. A role that may not see them may not
        search by them either (a prefix search would recover them letter by letter)."""
        return self.role in CONTACT_ROLES


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Product(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    external_id = models.CharField(_("marketplace id"), max_length=64)
    title = models.CharField(_("title"), max_length=300)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    review_status = models.CharField(
        _("review status"),
        max_length=16,
        choices=ReviewStatus.choices,
        default=ReviewStatus.PENDING,
    )
    # The marketplace's picture (product.upserted image_url): an http(s) URL, or a local
    # /static/ path (the demo). Shown only if the CSP allows its host (SC_PRODUCT_IMAGE_HOSTS).
    image_url = models.CharField(_("image URL"), max_length=500, blank=True, default="")

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "external_id"], name="product_shop_external_unique"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def thumbnail_url(self) -> str:
        """``image_url`` if the page's CSP lets the browser load it, else "" (placeholder)."""
        url = self.image_url
        if url.startswith("/static/"):
            try:  # the collected (hashed) name where there is one
                return static(url.removeprefix("/static/"))
            except ValueError:  # not a file of ours: the placeholder
                return ""
        if not url:
            return ""
        scheme, _sep, rest = url.partition("://")
        origin = f"{scheme}://{rest.split('/', 1)[0]}".lower()
        for source in settings.SC_PRODUCT_IMAGE_HOSTS:
            source = source.lower()
            if origin == source or (
                "://*." in source
                and origin.startswith(source.split("*", 1)[0])
                and origin.endswith(source.split("*", 1)[1])
            ):
                return url
        return ""


class Sku(TimeStampedModel):
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="skus"
    )  # tenancy shortcut
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    code = models.CharField(_("SKU code"), max_length=64)
    name = models.CharField(_("variant"), max_length=200, blank=True)
    currency = models.CharField(max_length=3)
    price_minor = models.BigIntegerField(_("price (minor units)"))
    stock = models.IntegerField(_("stock"), default=0)
    # SPEC E-2: activity price must not exceed the 30-day lowest transacted price.
    lowest_price_30d_minor = models.BigIntegerField(
        _("30-day lowest transacted price"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "code"], name="sku_shop_code_unique"),
            models.CheckConstraint(condition=Q(price_minor__gte=0), name="sku_price_non_negative"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="sku_stock_non_negative"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def price(self) -> Money:
        return Money(self.price_minor, self.currency)

    @property
    def lowest_price_30d(self) -> Money | None:
        if self.lowest_price_30d_minor is None:
            return None
        return Money(self.lowest_price_30d_minor, self.currency)


class Carrier(models.TextChoices):
    AE_STANDARD = "aliexpress_standard", _("AliExpress Standard Shipping (official)")
    AE_SAVER = "aliexpress_saver", _("AliExpress Saver Shipping (official)")
    CAINIAO = "cainiao_super_economy", _("Cainiao Super Economy")
    YANWEN = "yanwen", _("Yanwen")
    FOURPX = "4px", _("4PX")
    DHL = "dhl", _("DHL")
    OTHER = "other", _("Other third-party line")


OFFICIAL_CARRIERS = frozenset({Carrier.AE_STANDARD, Carrier.AE_SAVER})


class LogisticsSetting(TimeStampedModel):
    """A carrier in a shop's logistics settings (SPEC E-2: at least one certified, enabled)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="logistics_settings")
    carrier = models.CharField(_("carrier"), max_length=32, choices=Carrier.choices)
    enabled = models.BooleanField(_("enabled"), default=True)
    certified = models.BooleanField(_("certified"), default=False)

    class Meta:
        verbose_name = _("logistics setting")
        verbose_name_plural = _("logistics settings")
        ordering = ["carrier"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "carrier"], name="logistics_shop_carrier_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.shop}: {self.get_carrier_display()}"


class Violation(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="violations")
    external_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=64)
    serious = models.BooleanField(_("serious"), default=False)
    occurred_at = models.DateTimeField(_("occurred at"))
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("violation")
        verbose_name_plural = _("violations")
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(
                fields=["shop", "serious", "occurred_at"], name="violation_shop_serious_at"
            )
        ]

    def __str__(self) -> str:
        return f"{self.shop}: {self.kind}"


# --- shop balance ledger (SPEC §0 "Shop balance"; DESIGN §2, §3) ----------------------------------


class ShopBalance(models.Model):
    """The cached balance of one shop in one currency: the sum of its ledger entries.

    Written only by ``shops.services.balance_credit`` / ``balance_debit``, in the same
    transaction as the entry, under ``select_for_update`` of this row.
    """

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="balances")
    currency = models.CharField(_("currency"), max_length=3)
    balance_minor = models.BigIntegerField(_("balance (minor units)"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("shop balance")
        verbose_name_plural = _("shop balances")
        constraints = [
            models.UniqueConstraint(fields=["shop", "currency"], name="shop_balance_unique"),
            # SPEC §0: never taken into the negative (the services refuse first).
            models.CheckConstraint(
                condition=Q(balance_minor__gte=0), name="shop_balance_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shop}: {self.balance}"

    @property
    def balance(self) -> Money:
        return Money(self.balance_minor, self.currency)


class EntryKind(models.TextChoices):
    CREDIT = "credit", _("Credit")
    DEBIT = "debit", _("Debit")


BALANCE_REASON_MAX = 200
BALANCE_KEY_MAX = 200


class BalanceEntry(models.Model):
    """One movement of a shop's balance. Append-only: the database refuses UPDATE and DELETE
    (a trigger, migration 0002); a correction is a new entry."""

    balance = models.ForeignKey(ShopBalance, on_delete=models.PROTECT, related_name="entries")
    shop = models.ForeignKey(
        Shop, on_delete=models.PROTECT, related_name="balance_entries"
    )  # tenancy shortcut
    kind = models.CharField(_("kind"), max_length=8, choices=EntryKind.choices)
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    balance_after_minor = models.BigIntegerField(_("balance after (minor units)"))
    reason = models.CharField(_("reason"), max_length=BALANCE_REASON_MAX)
    # The reason as a message and its facts, worded in the reader's language when shown
    # (shops/notices.py); ``reason`` is its English wording. Empty: a reason written as text.
    reason_key = models.CharField(_("reason key"), max_length=64, blank=True, default="")
    reason_params = models.JSONField(_("reason facts"), default=dict, blank=True)
    # DESIGN §3: every externally triggered write has a key; a replay returns the first entry.
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=BALANCE_KEY_MAX, unique=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("balance entry")
        verbose_name_plural = _("balance entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="balance_entry_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(balance_after_minor__gte=0), name="balance_entry_after_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=EntryKind.values), name="balance_entry_kind_valid"
            ),
        ]
        indexes = [
            # The seller's balance page: newest first per shop.
            models.Index(fields=["shop", "-created_at", "-id"], name="balance_entry_shop_at"),
        ]

    def __str__(self) -> str:
        return f"{self.shop}: {self.kind} {self.amount}"

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def signed_amount(self) -> Money:
        return self.amount if self.kind == EntryKind.CREDIT else -self.amount

    @property
    def balance_after(self) -> Money:
        return Money(self.balance_after_minor, self.currency)

    @property
    def shown_reason(self) -> str:
        """The reason in the active language (``shops.notices.shown_reason``)."""
        from .notices import shown_reason

        return shown_reason(self)


# --- staff notifications (DESIGN §2) -------------------------------------------------------------


class NotificationKind(models.TextChoices):
    # Senders to come: forced exit (SPEC E-5), grade changes, auto-pause; and the balance.
    ACTIVITY_EXIT = "activity_exit", _("Activity exits")
    ACTIVITY_CHECK = "activity_check", _("Activity order checks")
    GRADE_CHANGE = "grade_change", _("Grade changes")
    AUTO_PAUSE = "auto_pause", _("Automatic pauses")
    BALANCE = "balance", _("Balance")
    GENERAL = "general", _("Other announcements")


NOTIFICATION_TITLE_MAX = 200
NOTIFICATION_LINK_MAX = 500


class Notification(models.Model):
    """An in-app message to one staff member about one shop (``shops.services.notify``)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=NOTIFICATION_TITLE_MAX)
    body = models.TextField(_("message"), blank=True)
    # A path inside the seller center ("/activities/…"), checked by notify(): never a URL elsewhere.
    link = models.CharField(_("link"), max_length=NOTIFICATION_LINK_MAX, blank=True)
    # The message and its facts, worded in the reader's language when shown (shops/notices.py);
    # ``title`` and ``body`` keep its English wording. Empty: a notification written as text.
    message = models.CharField(_("message key"), max_length=64, blank=True)
    params = models.JSONField(_("facts"), default=dict, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values), name="notification_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(link="") | (Q(link__startswith="/") & ~Q(link__startswith="//")),
                name="notification_link_is_local_path",
            ),
        ]
        indexes = [
            # The list page, newest first per recipient.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox"),
            # The bell's unread count: a small partial index (unread rows only).
            models.Index(
                fields=["recipient", "shop"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.title}"

    @cached_property
    def shown(self) -> tuple[str, str]:
        """(title, body) in the active language (``shops.notices.shown``)."""
        from .notices import shown

        return shown(self)

    @property
    def shown_title(self) -> str:
        return self.shown[0]

    @property
    def shown_body(self) -> str:
        return self.shown[1]


class NotificationPreference(models.Model):
    """One staff member's choice for one kind; no row means both channels on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    in_app = models.BooleanField(_("in the seller center"), default=True)
    email = models.BooleanField(_("by email"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values), name="notification_pref_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind}"
