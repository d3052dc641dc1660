"""Platform-admin views of the activities module: activities (SPEC E-1) and carrier incidents
(E-3a) are created here; evaluations, snapshots and exits (E-3, E-5) are the record, view-only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdminMixin

from .admin_postmortem import ReopenPostMortemMixin
from .models import (
    Activity,
    ActivityExit,
    CarrierIncident,
    Enrolment,
    Evaluation,
    MetricSnapshot,
)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "starts_at", "ends_at", "enrol_until"]
    list_filter = ["kind"]
    search_fields = ["name"]
    date_hierarchy = "starts_at"


@admin.register(CarrierIncident)
class CarrierIncidentAdmin(admin.ModelAdmin):
    list_display = ["carrier", "region", "starts_at", "ends_at", "reason"]
    list_filter = ["carrier"]


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sku", "shop", "activity", "activity_price_minor", "stock", "status"]
    list_filter = ["status"]
    list_select_related = ["sku", "shop", "activity"]
    search_fields = ["=sku__code", "shop__name"]


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["evaluated_at", "day", "shops", "exits"]
    date_hierarchy = "evaluated_at"


@admin.register(MetricSnapshot)
class MetricSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["shop", "evaluated_at", "day", "breaches"]
    list_select_related = ["shop"]
    search_fields = ["shop__name", "=shop__external_id"]
    raw_id_fields = ["shop", "evaluation"]


@admin.register(ActivityExit)
class ActivityExitAdmin(ReopenPostMortemMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["shop", "day", "exited_at", "metrics", "enrolments_removed"]
    list_select_related = ["shop"]
    search_fields = ["shop__name", "=shop__external_id"]
    readonly_fields = ["evidence"]
    verbose_name = _("forced exit")
    actions = ["reopen_postmortem"]  # SPEC E-7, after a missed deadline
