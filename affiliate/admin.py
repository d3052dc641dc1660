"""Platform-admin views of the affiliate programme. Promoters are approved by an action (the
review queue, SPEC A-1: the oldest waiting first); commissions, clicks and the promoter ledger are
view-only records, with the payment-to-pre-issue latency of each commission (A-6: p99 < 1 h)."""

from datetime import timedelta

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core import clock
from core.admin import BigTableAdminMixin, ReadOnlyAdminMixin
from core.errors import DomainError

from . import fraud, services
from .models import (
    Click,
    Commission,
    CommissionHold,
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


@admin.register(CommissionHold)
class CommissionHoldAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Fraud holds waiting for review (oldest first), each with its reason in words; the two
    decisions are actions through ``affiliate.fraud`` (release: back to where it was; confirm:
    void)."""

    list_display = ["commission", "order_number", "promoter", "rule", "reason", "created_at"]
    list_display += ["decision", "decided_at"]
    list_filter = ["decision", "rule"]
    list_select_related = ["commission__order", "commission__promoter"]
    search_fields = ["=commission__order__number", "commission__promoter__name"]
    ordering = ["decision", "created_at"]
    actions = ["release", "confirm"]

    @admin.display(description=_("order"))
    def order_number(self, hold):
        return hold.commission.order.number

    @admin.display(description=_("promoter"))
    def promoter(self, hold):
        return hold.commission.promoter

    @admin.display(description=_("reason"))
    def reason(self, hold):
        return fraud.reason_text(hold)

    def _decide(self, request, queryset, decide, done):
        n = 0
        for hold_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                decide(hold_id=hold_id, user=request.user, note="")
                n += 1
            except DomainError as exc:
                self.message_user(request, exc.message, messages.WARNING)
        if n:
            self.message_user(request, done % {"count": n})

    @admin.action(description=_("Release the selected holds (the commissions go on)"))
    def release(self, request, queryset):
        self._decide(request, queryset, fraud.hold_release, _("%(count)s hold(s) released."))

    @admin.action(description=_("Confirm the selected holds (the commissions are voided)"))
    def confirm(self, request, queryset):
        self._decide(request, queryset, fraud.hold_confirm, _("%(count)s hold(s) confirmed."))
