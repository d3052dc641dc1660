"""Platform admin of the event API (SPEC §0): the ingested-event log.

Imported by ``orders/admin.py``. The integrations themselves (API keys): ``integrations/admin.py``.
"""

from django.contrib import admin

from core.admin import BigTableAdminMixin, ReadOnlyAdminMixin

from .models import IngestedEvent


@admin.register(IngestedEvent)
class IngestedEventAdmin(BigTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """What each event id was answered the first time (view-only: it is the idempotency record)."""

    list_display = [
        "event_id",
        "type",
        "status",
        "code",
        "integration",
        "occurred_at",
        "received_at",
    ]
    list_filter = ["status", "integration"]
    list_select_related = ["integration"]
    search_fields = ["=event_id", "=code"]
    fields = [
        "integration",
        "event_id",
        "type",
        "status",
        "code",
        "message",
        "result",
        "occurred_at",
        "received_at",
    ]
