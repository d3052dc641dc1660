"""The order event log in the platform admin (DESIGN §1b): the events, each consumer's progress,
and the handler failures waiting for a retry. View-only; the one write offered is "retry now",
a service call (``eventlog.retry_now``)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ReadOnlyAdminMixin

from . import eventlog
from .admin import ExactOrderSearchMixin, FactAdmin
from .models import ConsumerCursor, ConsumerFailure, OrderEvent


@admin.register(OrderEvent)
class OrderEventAdmin(ExactOrderSearchMixin, FactAdmin):
    list_display = ("id", "type", "shop", "order", "occurred_at", "created_at")
    list_filter = ("type",)
    list_select_related = ("shop", "order")
    fields = ("type", "shop", "order", "occurred_at", "created_at", "payload")


@admin.register(ConsumerCursor)
class ConsumerCursorAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("consumer", "position", "oldest_unhandled", "updated_at")

    def get_queryset(self, request):
        self._lag = eventlog.lag()
        return super().get_queryset(request)

    @admin.display(description=_("oldest unhandled event"))
    def oldest_unhandled(self, obj):
        at = getattr(self, "_lag", {}).get(obj.consumer, {}).get("oldest_unhandled_at")
        return at or "—"


@admin.register(ConsumerFailure)
class ConsumerFailureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("consumer", "event", "attempts", "failed_at", "retry_at", "short_error")
    list_filter = ("consumer",)
    list_select_related = ("event",)
    fields = ("consumer", "event", "attempts", "failed_at", "retry_at", "last_error")
    actions = ["retry_now"]

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return obj.last_error[:120]

    def has_change_permission(self, request, obj=None) -> bool:
        # The action below needs it; the fields stay read-only (ReadOnlyAdminMixin's form).
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.action(description=_("Retry the selected failures now"))
    def retry_now(self, request, queryset):
        n = eventlog.retry_now(failure_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext(
                "%(n)d failed event handed to its consumer again.",
                "%(n)d failed events handed to their consumers again.",
                n,
            )
            % {"n": n},
            messages.SUCCESS,
        )
