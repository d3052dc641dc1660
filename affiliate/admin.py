"""Platform-admin views of the affiliate programme. Promoters are approved by an action (the
review queue, SPEC A-1: the oldest waiting first); commissions, clicks and the promoter ledger are
view-only records, with the payment-to-pre-issue latency of each commission (A-6: p99 < 1 h)."""

from datetime import timedelta

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core import clock
from core.admin import BigTableAdminMixin, ReadOnlyAdminMixin

from . import services
from .models import (
    Click,
    Commission,
    CommissionRate,
    Link,
    Pid,
    Postback,
    Programme,
    Promoter,
    PromoterEntry,
)
from .selectors import pre_issue_latency_p99_ms


@admin.register(Promoter)
class PromoterAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "status", "trial", "created_at", "approved_at"]
    list_filter = ["status", "trial"]
    search_fields = ["name", "=email"]
    ordering = ["status", "created_at"]
    readonly_fields = ["trial", "trial_ended_at", "approved_at"]
    actions = ["approve"]

    @admin.action(description=_("Approve the selected promoters"))
    def approve(self, request, queryset):
        for promoter in queryset:
            services.promoter_approve(promoter=promoter)
        self.message_user(request, _("Approved."))


@admin.register(Pid)
class PidAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["code", "promoter", "channel", "status", "last_valid_click_at", "frozen_at"]
    list_filter = ["status", "channel"]
    list_select_related = ["promoter"]
    search_fields = ["=code", "promoter__name"]


@admin.register(Link)
class LinkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["code", "pid", "shop", "destination", "created_at"]
    list_select_related = ["pid", "shop"]
    search_fields = ["=code", "=pid__code"]


@admin.register(Click)
class ClickAdmin(BigTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["click_id", "pid", "link", "clicked_at", "ip", "earns"]
    list_select_related = ["pid", "link"]
    search_fields = ["=click_id"]


@admin.register(Programme)
class ProgrammeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["shop", "enabled", "min_order_minor", "enabled_at"]
    list_select_related = ["shop"]


@admin.register(CommissionRate)
class CommissionRateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["shop", "scope", "category", "product", "rate_bp"]
    list_select_related = ["shop", "product"]


@admin.register(Postback)
class PostbackAdmin(BigTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["postback_id", "integration", "order", "click_id", "received_at"]
    list_select_related = ["integration", "order"]
    search_fields = ["=postback_id", "=click_id"]


@admin.register(Commission)
class CommissionAdmin(BigTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "order",
        "shop",
        "promoter",
        "status",
        "amount_minor",
        "reversed_minor",
        "currency",
        "pre_issue_latency_ms",
        "locked_at",
    ]
    list_filter = ["status"]
    list_select_related = ["order", "shop", "promoter"]
    search_fields = ["=order__number"]

    def changelist_view(self, request, extra_context=None):
        # SPEC A-6: the pre-issue latency the admins watch (target p99 < 1 h).
        p99 = pre_issue_latency_p99_ms(since=clock.now() - timedelta(hours=24))
        if p99 is not None:
            self.message_user(
                request,
                _("Payment to pre-issue latency, last 24 h: p99 %(minutes)s min (target < 60).")
                % {"minutes": f"{p99 / 60000:.1f}"},
                messages.WARNING if p99 >= 3_600_000 else messages.INFO,
            )
        return super().changelist_view(request, extra_context)


@admin.register(PromoterEntry)
class PromoterEntryAdmin(BigTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["idempotency_key", "kind", "amount_minor", "balance_after_minor", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=idempotency_key"]
