from django.db import models


class TimeStampedModel(models.Model):
    """When the row was written here (not when the fact happened in the marketplace)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
