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
