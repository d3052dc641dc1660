"""Platform-admin views of the activities module: activities (SPEC E-1) and carrier incidents
(E-3a) are created here; evaluations, snapshots and exits (E-3, E-5) are the record, view-only."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdminMixin
from shops.models import Shop

from . import rules, selectors
from .admin_postmortem import ReopenPostMortemMixin
from .forms import CarrierIncidentForm, ThresholdPreviewForm
from .models import (
    Activity,
    ActivityExit,
    ActivityReport,
    CarrierIncident,
    ConsistencyIssue,
    Enrolment,
    Evaluation,
    MetricSnapshot,
)

PREVIEW_ROWS_SHOWN = 500


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "starts_at", "ends_at", "enrol_until"]
    list_filter = ["kind"]
    search_fields = ["name"]
    date_hierarchy = "starts_at"


@admin.register(CarrierIncident)
class CarrierIncidentAdmin(admin.ModelAdmin):
    """SPEC E-3a: the form checks and normalises like ``services.incident_declare`` (the
    region upper-case, as orders store the ship-to country)."""

    form = CarrierIncidentForm
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
    change_list_template = "admin/activities/evaluation_changelist.html"

    def get_urls(self):
        preview = path(
            "threshold-preview/",
            self.admin_site.admin_view(self.preview_view),
            name="activities_threshold_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request):
        """Issue item 9: "if the thresholds or relaxations were X, these shops would exit" —
        the latest evaluation and yesterday's final one re-judged from their stored figures
        with the numbers in the form. Nothing is saved; the registry is edited elsewhere."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        current = rules.current_limits()
        rows = None
        shops: dict[int, Shop] = {}
        if "preview" in request.GET:
            form = ThresholdPreviewForm(request.GET)
            if form.is_valid():
                rows = selectors.threshold_preview(limits=form.limits(current))
                shown = rows[:PREVIEW_ROWS_SHOWN]
                shops = Shop.objects.in_bulk([r.shop_id for r in shown])
        else:
            form = ThresholdPreviewForm(initial=ThresholdPreviewForm.initial_from(current))
        now_rows = None if rows is None else selectors.threshold_preview(limits=current)
        exiting_now = {r.shop_id for r in now_rows or [] if r.exit_metrics}
        table = [
            {
                "shop": shops.get(r.shop_id),
                "shop_id": r.shop_id,
                "exit": [metric_label(m) for m in r.exit_metrics],
                "breach": [metric_label(m) for m in r.breach_metrics],
                "new": bool(r.exit_metrics) and r.shop_id not in exiting_now,
            }
            for r in (rows or [])[:PREVIEW_ROWS_SHOWN]
        ]
        return TemplateResponse(
            request,
            "admin/activities/threshold_preview.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Threshold preview"),
                "form": form,
                "rows": table,
                "previewed": rows is not None,
                "exits": sum(1 for r in rows or [] if r.exit_metrics),
                "exits_now": len(exiting_now),
                "total": len(rows or []),
                "shown": PREVIEW_ROWS_SHOWN,
                "latest": Evaluation.objects.order_by("-evaluated_at", "-pk").first(),
                "opts": self.model._meta,
            },
        )


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


def metric_label(metric: str) -> str:
    from .services import metric_label as label

    return label(metric)


@admin.register(ConsistencyIssue)
class ConsistencyIssueAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """SPEC E-6 layer 1: what the 15-minute check found, for every shop."""

    list_display = ["found_at", "shop", "order", "activity_id", "sku", "kind", "expected", "found"]
    list_filter = ["kind"]
    list_select_related = ["shop", "order", "sku"]
    search_fields = ["=order__number", "shop__name", "=shop__external_id"]
    raw_id_fields = ["order", "shop", "sku"]
    date_hierarchy = "found_at"


@admin.register(ActivityReport)
class ActivityReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """SPEC E-6 layer 3: the review reports, every shop."""

    list_display = [
        "activity",
        "shop",
        "final",
        "cutoff",
        "paid_orders",
        "sales_minor",
        "returns_minor",
        "discount_minor",
        "coupon_minor",
        "coins_minor",
        "currency",
    ]
    list_filter = ["final"]
    list_select_related = ["activity", "shop"]
    search_fields = ["activity__name", "shop__name"]
