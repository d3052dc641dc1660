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


class RiskStatus(models.TextChoices):
    OK = "ok", _("OK")
    RISK_REVIEW = "risk_review", _("Risk review")
    SUSPECTED_FRAUD = "suspected_fraud", _("Suspected fraud")


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

    class Meta:
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
            models.Index(fields=["device_id", "registered_at"], name="buyer_device_registered")
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
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
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
