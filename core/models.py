from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

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
