from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class Site(models.TextChoices):
    GLOBAL = "global", _("Global (English)")
    US = "us", _("United States")
    FR = "fr", _("France")
    ES = "es", _("Spain")
    DE = "de", _("Germany")
    IT = "it", _("Italy")
    NL = "nl", _("Netherlands")
    PL = "pl", _("Poland")
    RU = "ru", _("Russia")
    BR = "br", _("Brazil")
    KR = "kr", _("Korea")
    JP = "jp", _("Japan")
    CN = "cn", _("China")


# The language of buyer pages and messages per site (English for the rest).
SITE_LANGUAGES = {"fr": "fr", "es": "es", "ru": "ru", "br": "pt", "cn": "zh-hans"}
BUYER_LANGUAGES = ("en", "es", "fr", "ru", "pt", "zh-hans")


def site_language(site: str) -> str:
    return SITE_LANGUAGES.get(site, "en")


class RiskStatus(models.TextChoices):
    OK = "ok", _("OK")
    RISK_REVIEW = "risk_review", _("Risk review")
    SUSPECTED_FRAUD = "suspected_fraud", _("Suspected fraud")


class Source(models.TextChoices):
    MARKETPLACE = "marketplace", _("Marketplace")
    SIGNUP = "signup", _("Registered here")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class Buyer(TimeStampedModel):
    """A marketplace buyer. SPEC B-3: one contact, one account, enforced by the database."""

    external_id = models.CharField(_("marketplace id"), max_length=64, unique=True)
    # Stored normalised (services.normalize_email / normalize_phone): case-folded email,
    # E.164 phone. NULL when absent so the unique constraints ignore it.
    email = models.CharField(_("email"), max_length=254, null=True, blank=True)
    phone = models.CharField(_("phone (E.164)"), max_length=16, null=True, blank=True)
    country = models.CharField(_("country"), max_length=2)
    site = models.CharField(_("site"), max_length=8, choices=Site.choices, default=Site.GLOBAL)
    device_id = models.CharField(_("device id"), max_length=128, blank=True)
    risk_status = models.CharField(
        _("risk status"), max_length=16, choices=RiskStatus.choices, default=RiskStatus.OK
    )
    low_activity = models.BooleanField(_("low activity"), default=False)
    registered_at = models.DateTimeField(_("registered at"))
    # --- buyer accounts (SPEC B-1..B-7); marketplace buyers leave these empty ---
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.MARKETPLACE
    )
    # A Django password hash (Argon2 first in PASSWORD_HASHERS); "" = no password yet.
    password = models.CharField(_("password"), max_length=128, blank=True, default="")
    email_verified_at = models.DateTimeField(_("email verified at"), null=True, blank=True)
    phone_verified_at = models.DateTimeField(_("phone verified at"), null=True, blank=True)
    # The mailing module honours this (SPEC M-*: no marketing email without consent).
    marketing_email_opt_in = models.BooleanField(_("marketing emails"), default=False)
    # SPEC B-4 signals, kept for the review queue.
    registration_ip = models.GenericIPAddressField(_("registration IP"), null=True, blank=True)
    ip_country = models.CharField(_("IP country"), max_length=2, blank=True, default="")
    # SPEC B-6: learnt from the order event log (consumer "buyers.activity").
    first_paid_at = models.DateTimeField(_("first payment at"), null=True, blank=True)

    class Meta:
        verbose_name = _("buyer")
        verbose_name_plural = _("buyers")
        ordering = ["-registered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=Q(email__isnull=False), name="buyer_email_unique"
            ),
            models.UniqueConstraint(
                fields=["phone"], condition=Q(phone__isnull=False), name="buyer_phone_unique"
            ),
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False), name="buyer_has_contact"
            ),
        ]
        indexes = [
            models.Index(fields=["device_id", "registered_at"], name="buyer_device_registered"),
            # SPEC B-6 job: self-registered buyers without a payment, oldest first.
            models.Index(
                fields=["registered_at"],
                condition=Q(source="signup", first_paid_at__isnull=True, low_activity=False),
                name="buyer_low_activity_due",
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.phone or self.external_id

    @property
    def masked_contact(self) -> str:
        """Contact for roles that may not see it in full (SPEC B-8)."""
        if self.email:
            local, _sep, domain = self.email.partition("@")
            return f"{local[:1]}***@{domain}"
        if self.phone:
            return f"{self.phone[:4]}****{self.phone[-2:]}"
        return ""


class BuyerRiskDecision(models.Model):
    """Who set a buyer's risk status, when and why (append-only; SPEC B-4..B-6 review queue).

    ``Buyer.risk_status`` is the current value; it changes only through
    ``buyers.services.buyer_risk_decide``, which writes one of these rows with it. Marketplace
    events never change the status of a known buyer (they would wipe an admin's decision).
    """

    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="risk_decisions")
    previous_status = models.CharField(
        _("previous status"), max_length=16, choices=RiskStatus.choices
    )
    status = models.CharField(_("risk status"), max_length=16, choices=RiskStatus.choices)
    # NULL: an automatic check decided (SPEC B-4/B-5 signals); ``reason`` says which.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
        null=True,
        blank=True,
    )
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("risk decision")
        verbose_name_plural = _("risk decisions")
        indexes = [models.Index(fields=["buyer", "-created_at"], name="risk_decision_buyer_at")]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="risk_decision_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.buyer}: {self.previous_status} → {self.status}"


class CodePurpose(models.TextChoices):
    REGISTER = "register", _("Registration")
    RESET = "reset", _("Password reset")
    CHANGE = "change", _("Contact change")


class VerificationCode(models.Model):
    """A one-time code sent to a contact (SPEC B-2). Only its keyed hash is stored.

    A row is written for every request, whether or not an account exists behind the contact
    (``sent`` says whether a message left): resend timing and limits then answer the same for
    every contact, and the abuse monitor counts every request.
    """

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    contact = models.CharField(_("contact"), max_length=254)  # normalised (B-3)
    purpose = models.CharField(_("purpose"), max_length=16, choices=CodePurpose.choices)
    buyer = models.ForeignKey(
        Buyer, on_delete=models.CASCADE, null=True, blank=True, related_name="codes"
    )
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    sent = models.BooleanField(_("sent"), default=False)
    created_at = models.DateTimeField(_("created at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    # For the abuse monitor (per country, IP prefix, device).
    ip = models.GenericIPAddressField(null=True, blank=True)
    country = models.CharField(max_length=2, blank=True, default="")
    device_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        verbose_name = _("verification code")
        verbose_name_plural = _("verification codes")
        indexes = [
            # the latest code of a contact for a purpose (verify, resend)
            models.Index(fields=["contact", "purpose", "-created_at"], name="code_contact_latest"),
            models.Index(fields=["created_at"], name="code_created"),
        ]
        constraints = [
            # attempts ≥ 0: PositiveSmallIntegerField's own check.
            models.CheckConstraint(condition=~Q(code_hash=""), name="code_has_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} code for {self.channel}"


class ContactChange(models.Model):
    """The audit trail of a buyer's email/phone changes (SPEC B-7), append-only."""

    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="contact_changes")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    old_value = models.CharField(_("old contact"), max_length=254, blank=True)
    new_value = models.CharField(_("new contact"), max_length=254)
    changed_at = models.DateTimeField(_("changed at"))
    ip = models.GenericIPAddressField(null=True, blank=True)
    # The old contact was told, with a link carrying this token to report the change.
    report_token = models.CharField(max_length=64, unique=True)
    reported_at = models.DateTimeField(_("reported as not mine at"), null=True, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("contact change")
        verbose_name_plural = _("contact changes")
        indexes = [models.Index(fields=["buyer", "-changed_at"], name="contact_change_buyer_at")]
        constraints = [
            models.CheckConstraint(condition=~Q(new_value=""), name="contact_change_has_value"),
        ]

    def __str__(self) -> str:
        return f"{self.buyer_id}: {self.channel} changed"


class BuyerRiskReview(Buyer):
    """The admin's risk-review queue (SPEC B-4 … B-6): buyers in review or flagged."""

    class Meta:
        proxy = True
        verbose_name = _("risk review")
        verbose_name_plural = _("risk review queue")
