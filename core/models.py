from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .clock import now
from .storage import private_storage


class TimeStampedModel(models.Model):
    """When the row was written here (not when the fact happened in the marketplace)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def _upload_to(instance: PrivateFile, filename: str) -> str:
    # Never the uploader's name in the path: a random name and the sniffed extension.
    return f"{now():%Y/%m}/{instance.pk.hex}.{instance.extension}"


class PrivateFile(models.Model):
    """A stored private upload and what it belongs to (any model: a shop, a campaign…)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT)
    owner_id = models.CharField(max_length=64)
    file = models.FileField(storage=private_storage, upload_to=_upload_to, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    extension = models.CharField(max_length=16)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["owner_type", "owner_id"], name="privatefile_owner")]
        constraints = [
            models.CheckConstraint(condition=models.Q(size__gt=0), name="privatefile_size_positive")
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def owner(self):
        return self.owner_type.get_object_for_this_type(pk=self.owner_id)


class FxRate(models.Model):
    """SPEC §0: the dated exchange-rate table. ``units_per_usd`` units of ``currency`` buy one
    US dollar from ``day`` (a natural day in the platform zone) until that currency's next row.
    USD itself is 1 and has no row. Platform admins keep it (Django admin); modules convert
    through ``core.fx`` and never guess a missing rate."""

    currency = models.CharField(_("currency"), max_length=3)
    day = models.DateField(_("applies from"))
    units_per_usd = models.DecimalField(_("units per US dollar"), max_digits=20, decimal_places=8)
    source = models.CharField(_("source"), max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "day"], name="fxrate_one_per_day"),
            models.CheckConstraint(condition=models.Q(units_per_usd__gt=0), name="fxrate_positive"),
            models.CheckConstraint(condition=~models.Q(currency="USD"), name="fxrate_not_usd"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.units_per_usd} per USD from {self.day}"
