from django.db import models


class Handling(models.Model):
    """One call of the probe's handler that committed (no UNIQUE: duplicates must show)."""

    consumer = models.CharField(max_length=64)
    event_id = models.BigIntegerField()
    type = models.CharField(max_length=32)
    order_id = models.BigIntegerField(null=True)

    class Meta:
        app_label = "eventprobe"

    def __str__(self) -> str:
        return f"{self.consumer} #{self.event_id}"
