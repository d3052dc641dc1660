"""The coin ledger (SPEC C-1 … C-8): accounts, funds, buyer wallets made of lots, issuance rules
and their grants, redemptions, clawbacks, and an append-only double-entry ledger.

The ledger (DESIGN §3). Every movement of coins is one ``CoinMovement`` with two ``CoinEntry``
rows whose deltas sum to zero, on these accounts of a shop:

============== ================================================ ==============================
account        what it holds                                    cached balance
============== ================================================ ==============================
shop_balance   the money side of top-ups (goes negative)        −``CoinFund.topped_up``
fund_available the fund's coins free to be issued               ``CoinFund.available``
wallet         a buyer's unspent coins (= the fund reservation) ``CoinWallet.balance``;
                                                                their sum ``CoinFund.reserved``
spent          coins redeemed at checkout (the actual cost)     ``CoinFund.spent``
============== ================================================ ==============================

Movements: top-up (shop_balance → fund_available), grant (fund_available → wallet: the
reservation, C-5), redeem (wallet → spent), expire and clawback (wallet → fund_available: the
reservation released, C-5/C-8), refund return (spent → wallet, C-8). A buyer's coins in a shop are
the held reservation, so ``topped_up = available + reserved + spent`` always (a CHECK).
Entries and movements are immutable in the database (triggers, migration 0002); cached balances
change in the same transaction as their entries, under row locks taken fund → rule → wallet →
lots (each in primary-key order), and CHECK constraints forbid negatives.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from buyers.models import Buyer
from orders.models import Order
from shops.models import Product, Shop


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")


class CoinAccount(models.Model):
    """A shop's coin account (C-1). Never closed or deleted, only paused (C-2)."""

    shop = models.OneToOneField(Shop, on_delete=models.PROTECT, related_name="coin_account")
    coin_id = models.CharField(_("coin ID"), max_length=32, unique=True)
    status = models.CharField(
        _("status"), max_length=8, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    opened_at = models.DateTimeField(_("opened at"))
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("coin account")
        verbose_name_plural = _("coin accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AccountStatus.values), name="coin_account_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.coin_id

    @property
    def active(self) -> bool:
        return self.status == AccountStatus.ACTIVE


class CoinFund(models.Model):
    """The shop's prepaid coin fund (C-5), counted in coins."""

    account = models.OneToOneField(CoinAccount, on_delete=models.PROTECT, related_name="fund")
    shop = models.OneToOneField(Shop, on_delete=models.PROTECT, related_name="coin_fund")
    available = models.BigIntegerField(_("available coins"), default=0)
    reserved = models.BigIntegerField(_("reserved coins (held by buyers)"), default=0)
    spent = models.BigIntegerField(_("spent coins"), default=0)
    topped_up = models.BigIntegerField(_("topped-up coins"), default=0)

    class Meta:
        verbose_name = _("coin fund")
        verbose_name_plural = _("coin funds")
        constraints = [
            models.CheckConstraint(
                condition=Q(available__gte=0, reserved__gte=0, spent__gte=0, topped_up__gte=0),
                name="coin_fund_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(topped_up=F("available") + F("reserved") + F("spent")),
                name="coin_fund_balanced",
            ),
        ]

    def __str__(self) -> str:
        return f"fund of {self.shop_id}"


class CoinWallet(models.Model):
    """One buyer's coins in one shop (C-6: store coins are per shop); made of lots."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="coin_wallets")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="coin_wallets")
    balance = models.BigIntegerField(_("balance (coins)"), default=0)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("coin wallet")
        verbose_name_plural = _("coin wallets")
        constraints = [
            models.UniqueConstraint(fields=["shop", "buyer"], name="coin_wallet_shop_buyer_unique"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="coin_wallet_non_negative"),
        ]

    def __str__(self) -> str:
        return f"wallet {self.pk}"


class RuleKind(models.TextChoices):
    WELCOME = "welcome", _("New-customer welcome")
    INSTANT_CASHBACK = "instant_cashback", _("Cashback on payment")
    COMPLETION_CASHBACK = "completion_cashback", _("Cashback on completion")
    SPEND_THRESHOLD = "spend_threshold", _("Spend threshold")


class RuleStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    STOPPED = "stopped", _("Stopped")


class CoinRule(models.Model):
    """A seller's issuance rule (C-7): what it grants, when, up to which budget."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="coin_rules")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=24, choices=RuleKind.choices)
    coins = models.BigIntegerField(_("coins per grant"), default=0)
    # Completion cashback as a share of what was paid (basis points) instead of fixed coins.
    percent_bp = models.IntegerField(_("cashback share (basis points)"), default=0)
    threshold_minor = models.BigIntegerField(_("spend threshold (minor units)"), default=0)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    budget_coins = models.BigIntegerField(_("budget (coins)"))
    granted_coins = models.BigIntegerField(_("granted so far (coins)"), default=0)
    stackable = models.BooleanField(_("combines with other grants on the same order"), default=True)
    status = models.CharField(
        _("status"), max_length=8, choices=RuleStatus.choices, default=RuleStatus.ACTIVE
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("issuance rule")
        verbose_name_plural = _("issuance rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=RuleKind.values), name="coin_rule_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=RuleStatus.values), name="coin_rule_status_valid"
            ),
            # Exactly one way to size a grant: fixed coins, or a share of paid (completion only).
            models.CheckConstraint(
                condition=Q(coins__gt=0, percent_bp=0)
                | Q(coins=0, percent_bp__gt=0, percent_bp__lte=10_000, kind="completion_cashback"),
                name="coin_rule_amount_valid",
            ),
            models.CheckConstraint(
                condition=Q(budget_coins__gt=0, granted_coins__gte=0)
                & Q(granted_coins__lte=F("budget_coins")),
                name="coin_rule_budget_valid",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="coin_rule_window_valid",
            ),
            models.CheckConstraint(
                condition=Q(threshold_minor__gte=0), name="coin_rule_threshold_non_negative"
            ),
        ]
        indexes = [models.Index(fields=["shop", "status", "kind"], name="coin_rule_shop_status")]

    def __str__(self) -> str:
        return self.name


class CoinGrant(models.Model):
    """Coins a rule granted for an order (C-7): once per (rule, order)."""

    rule = models.ForeignKey(CoinRule, on_delete=models.PROTECT, related_name="grants")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="coin_grants")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="+")
    coins = models.BigIntegerField(_("coins"))
    # C-8: what the order had refunded when the grant was made. A later refund claws back the
    # grant's share of what was still paid then (the base a %-of-paid cashback was computed on),
    # never again the refunds before it.
    refunded_before_minor = models.BigIntegerField(
        _("refunded before the grant (minor units)"), default=0
    )
    created_at = models.DateTimeField(_("granted at"))

    class Meta:
        verbose_name = _("coin grant")
        verbose_name_plural = _("coin grants")
        constraints = [
            models.UniqueConstraint(fields=["rule", "order"], name="coin_grant_rule_order_unique"),
            models.CheckConstraint(condition=Q(coins__gt=0), name="coin_grant_coins_positive"),
            models.CheckConstraint(
                condition=Q(refunded_before_minor__gte=0),
                name="coin_grant_refunded_before_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"grant {self.pk}"


class LotSource(models.TextChoices):
    GRANT = "grant", _("Grant")
    REFUND_RETURN = "refund_return", _("Returned on refund")
    GRACE = "grace", _("Grace lot after refund")


class CoinLot(models.Model):
    """Coins that entered a wallet together and expire together (C-6).

    ``remaining`` is unspent; ``expired`` and ``clawed_back`` are what left it that way; the
    rest of ``granted`` was spent (and may come back on a refund, C-8)."""

    wallet = models.ForeignKey(CoinWallet, on_delete=models.PROTECT, related_name="lots")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=16, choices=LotSource.choices)
    granted = models.BigIntegerField(_("granted"))
    remaining = models.BigIntegerField(_("remaining"))
    expired = models.BigIntegerField(_("expired"), default=0)
    clawed_back = models.BigIntegerField(_("clawed back"), default=0)
    expires_at = models.DateTimeField(_("expires at"))
    expired_at = models.DateTimeField(_("expired at"), null=True, blank=True)
    grant = models.OneToOneField(
        CoinGrant, on_delete=models.PROTECT, null=True, blank=True, related_name="lot"
    )
    rule = models.ForeignKey(
        CoinRule, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("coin lot")
        verbose_name_plural = _("coin lots")
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=LotSource.values), name="coin_lot_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(granted__gt=0, remaining__gte=0, expired__gte=0, clawed_back__gte=0)
                & Q(granted__gte=F("remaining") + F("expired") + F("clawed_back")),
                name="coin_lot_within_granted",
            ),
        ]
        indexes = [
            # The daily expiry (C-6): due lots that still hold coins.
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="coin_lot_due"),
            # Spending order (C-6): a wallet's lots, earliest expiry first.
            models.Index(fields=["wallet", "expires_at"], name="coin_lot_wallet_expiry"),
        ]

    def __str__(self) -> str:
        return f"lot {self.pk}"


class CoinRedemption(models.Model):
    """Coins deducted at checkout (C-3). Written by the ``order_placing`` guard before the order
    row exists, so it names the order by its natural key (shop, number); the ``order.created``
    consumer links ``order`` once the order is saved."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    order_number = models.CharField(_("order number"), max_length=64)
    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="coin_redemption"
    )
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="+")
    wallet = models.ForeignKey(CoinWallet, on_delete=models.PROTECT, related_name="redemptions")
    coins = models.BigIntegerField(_("coins"))
    returned = models.BigIntegerField(_("returned on refund"), default=0)
    created_at = models.DateTimeField(_("redeemed at"))

    class Meta:
        verbose_name = _("coin redemption")
        verbose_name_plural = _("coin redemptions")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "order_number"], name="coin_redemption_shop_order_unique"
            ),
            models.CheckConstraint(
                condition=Q(coins__gt=0, returned__gte=0) & Q(returned__lte=F("coins")),
                name="coin_redemption_coins_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_number}: {self.coins}"


class CoinRedemptionPart(models.Model):
    """Which lot a redemption spent and how much of it (provenance, C-8 returns)."""

    redemption = models.ForeignKey(CoinRedemption, on_delete=models.PROTECT, related_name="parts")
    lot = models.ForeignKey(CoinLot, on_delete=models.PROTECT, related_name="spent_in")
    coins = models.BigIntegerField(_("coins"))
    returned = models.BigIntegerField(_("returned"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["redemption", "lot"], name="coin_redemption_part_unique"
            ),
            models.CheckConstraint(
                condition=Q(coins__gt=0, returned__gte=0) & Q(returned__lte=F("coins")),
                name="coin_redemption_part_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coins} of lot {self.lot_id}"


class CoinRefundReturn(models.Model):
    """Deducted coins given back for one refund (C-8), once per (redemption, refund)."""

    redemption = models.ForeignKey(CoinRedemption, on_delete=models.PROTECT, related_name="+")
    refund_id = models.BigIntegerField(_("refund"))
    coins = models.BigIntegerField(_("coins"))
    created_at = models.DateTimeField(_("returned at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["redemption", "refund_id"], name="coin_refund_return_unique"
            ),
            models.CheckConstraint(condition=Q(coins__gt=0), name="coin_refund_return_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.coins} back for refund {self.refund_id}"


class CoinClawback(models.Model):
    """Cashback taken back on a refund (C-8): only from the unspent balance; what could not be
    recovered is recorded, never taken into the negative."""

    grant = models.ForeignKey(CoinGrant, on_delete=models.PROTECT, related_name="clawbacks")
    refund_id = models.BigIntegerField(_("refund"))
    due = models.BigIntegerField(_("due"))
    recovered = models.BigIntegerField(_("recovered"))
    unrecoverable = models.BigIntegerField(_("unrecoverable"))
    created_at = models.DateTimeField(_("clawed back at"))

    class Meta:
        verbose_name = _("coin clawback")
        verbose_name_plural = _("coin clawbacks")
        constraints = [
            models.UniqueConstraint(fields=["grant", "refund_id"], name="coin_clawback_unique"),
            models.CheckConstraint(
                condition=Q(due__gt=0, recovered__gte=0, unrecoverable__gte=0)
                & Q(due=F("recovered") + F("unrecoverable")),
                name="coin_clawback_balanced",
            ),
        ]

    def __str__(self) -> str:
        return f"clawback {self.pk}"


class CoinProductSetting(models.Model):
    """A product's coin deduction (C-3): the switch and the max ratio (basis points)."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    product = models.OneToOneField(Product, on_delete=models.PROTECT, related_name="coin_setting")
    enabled = models.BooleanField(_("coin deduction on"), default=False)
    max_ratio_bp = models.IntegerField(_("maximum ratio (basis points)"), default=0)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("product coin setting")
        verbose_name_plural = _("product coin settings")
        constraints = [
            # The service holds the registry cap (30%); the database holds the sane range.
            models.CheckConstraint(
                condition=Q(max_ratio_bp__gte=0, max_ratio_bp__lte=10_000),
                name="coin_product_ratio_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.enabled} {self.max_ratio_bp}"


class MovementKind(models.TextChoices):
    TOP_UP = "top_up", _("Top-up")
    GRANT = "grant", _("Grant")
    REDEEM = "redeem", _("Redemption")
    EXPIRE = "expire", _("Expiry")
    CLAWBACK = "clawback", _("Clawback")
    REFUND_RETURN = "refund_return", _("Returned on refund")


class LedgerAccount(models.TextChoices):
    SHOP_BALANCE = "shop_balance", _("Shop balance")
    FUND_AVAILABLE = "fund_available", _("Fund available")
    WALLET = "wallet", _("Buyer wallet")
    SPENT = "spent", _("Spent")


class CoinMovement(models.Model):
    """One movement of coins: two entries summing to zero. Immutable (database trigger)."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=MovementKind.choices)
    coins = models.BigIntegerField(_("coins"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("coin movement")
        verbose_name_plural = _("coin movements")
        constraints = [
            models.CheckConstraint(condition=Q(coins__gt=0), name="coin_movement_coins_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=MovementKind.values), name="coin_movement_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["shop", "kind", "created_at"], name="coin_move_shop_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.coins}"


class CoinEntry(models.Model):
    """One side of a movement on one ledger account. Immutable (database trigger)."""

    movement = models.ForeignKey(CoinMovement, on_delete=models.PROTECT, related_name="entries")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    account = models.CharField(_("account"), max_length=16, choices=LedgerAccount.choices)
    wallet = models.ForeignKey(
        CoinWallet, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    delta = models.BigIntegerField(_("delta (coins)"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("coin ledger entry")
        verbose_name_plural = _("coin ledger entries")
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="coin_entry_delta_nonzero"),
            models.CheckConstraint(
                condition=Q(account__in=LedgerAccount.values), name="coin_entry_account_valid"
            ),
            models.CheckConstraint(
                condition=Q(account="wallet", wallet__isnull=False)
                | (~Q(account="wallet") & Q(wallet__isnull=True)),
                name="coin_entry_wallet_iff_wallet_account",
            ),
        ]
        indexes = [
            # Reconciliation sums per (shop, account) and per wallet.
            models.Index(fields=["shop", "account"], name="coin_entry_shop_account"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.delta:+d}"


class CoinReconciliation(models.Model):
    """One nightly proof that entries sum to every cached balance (C-5/C-6); a difference is
    an alert for admins, never corrected silently."""

    run_at = models.DateTimeField(_("run at"))
    ok = models.BooleanField(_("balanced"))
    funds_checked = models.IntegerField(_("funds checked"), default=0)
    wallets_checked = models.IntegerField(_("wallets checked"), default=0)
    differences = models.JSONField(_("differences"), default=list, blank=True)

    class Meta:
        verbose_name = _("coin reconciliation")
        verbose_name_plural = _("coin reconciliations")
        ordering = ["-run_at"]

    def __str__(self) -> str:
        return f"{self.run_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'DIFFERENCES'}"


class CoinBudget(models.Model):
    """The shop's monthly issuance ceiling (budget guardrail, C-11): once the coins granted in a
    calendar month (platform time zone) reach ``ceiling_coins``, grants are refused until the
    next month or until the ceiling is raised. The account stays active: deduction continues.

    ``month``/``issued_coins`` count this month's grants (updated with each grant under the
    row lock, after the fund's: fund → budget → rule → wallet → lots); ``notified_month`` is
    the month the owners were told the ceiling was reached (once a month)."""

    shop = models.OneToOneField(Shop, on_delete=models.PROTECT, related_name="coin_budget")
    ceiling_coins = models.BigIntegerField(_("monthly issuance ceiling (coins)"), null=True)
    month = models.DateField(_("month counted"))
    issued_coins = models.BigIntegerField(_("coins issued in the month"), default=0)
    notified_month = models.DateField(_("ceiling reached notice sent for"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("coin issuance ceiling")
        verbose_name_plural = _("coin issuance ceilings")
        constraints = [
            models.CheckConstraint(
                condition=Q(ceiling_coins__isnull=True) | Q(ceiling_coins__gt=0),
                name="coin_budget_ceiling_positive",
            ),
            models.CheckConstraint(
                condition=Q(issued_coins__gte=0), name="coin_budget_issued_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"ceiling of {self.shop_id}: {self.ceiling_coins}"


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class CoinGrade(models.Model):
    """A shop's coin-activity grade for one calendar month (C-10), with the inputs it was
    computed from, so the grade can always be explained."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="coin_grades")
    month = models.DateField(_("month"))
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2)
    issued_coins = models.BigIntegerField(_("coins issued"))
    redeemed_coins = models.BigIntegerField(_("coins redeemed"))
    participation = models.IntegerField(_("activities joined"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("coin grade")
        verbose_name_plural = _("coin grades")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "month"], name="coin_grade_shop_month_unique"),
            models.CheckConstraint(condition=Q(grade__in=Grade.values), name="coin_grade_valid"),
            models.CheckConstraint(
                condition=Q(issued_coins__gte=0, redeemed_coins__gte=0, participation__gte=0),
                name="coin_grade_inputs_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.month:%Y-%m}: {self.grade}"
