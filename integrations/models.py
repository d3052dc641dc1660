from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class Integration(TimeStampedModel):
    """An API client that sends signed requests: ``X-SC-Key`` is ``key_id`` (SPEC §0).

    The HMAC secret is needed in clear to verify a signature, so it is stored encrypted
    (Fernet, key derived from ``SECRET_KEY``; see ``integrations.services``), never hashed.
    After a rotation the previous secret stays valid until ``previous_secret_expires_at``.

    Moved from ``orders`` (issue 6): its table was ``orders_integration`` until
    ``integrations.0002``; ``orders.IngestedEvent`` points at it.
    """

    name = models.CharField(_("name"), max_length=200)
    key_id = models.CharField(_("key id"), max_length=64, unique=True)
    secret_encrypted = models.TextField(_("secret (encrypted)"))
    previous_secret_encrypted = models.TextField(_("previous secret (encrypted)"), blank=True)
    previous_secret_expires_at = models.DateTimeField(
        _("previous secret valid until"), null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    rotated_at = models.DateTimeField(_("rotated at"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"
