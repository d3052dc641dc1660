"""Platform-admin views of the affiliate programme. Promoters are approved by an action (the
review queue, SPEC A-1: the oldest waiting first); commissions, clicks and the promoter ledger are
view-only records, with the payment-to-pre-issue latency of each commission (A-6: p99 < 1 h)."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core import clock
from core.admin import (
    BigTableAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyTabularInline,
    money_field,
)
from core.errors import DomainError

from . import fraud, rules, services
from .models import (
    Click,
    Commission,
    CommissionHold,
    CommissionRate,
    Link,
    PayoutBatch,
    PayoutLine,
    Pid,
    Postback,
    Programme,
    Promoter,
    PromoterDocument,
    PromoterEntry,
    PromoterStatus,
)
from .payout_export import payout_csv_response
from .portal.selectors import review_age
from .selectors import pre_issue_latency_p99_ms


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text=_("Shown to the promoter: say what to correct."),
    )


def _reason_step(modeladmin, request, queryset, *, title: str, apply):
    """An admin action's intermediate page asking for a reason, then ``apply(obj, reason)``
    for each selected object; a refusal is reported, never a 500."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        done = refused = 0
        for obj in queryset.order_by("pk"):
            try:
                apply(obj, form.cleaned_data["reason"])
                done += 1
            except DomainError as exc:
                refused += 1
                modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        modeladmin.message_user(
            request,
            _("%(done)s done, %(refused)s refused.") % {"done": done, "refused": refused},
        )
        return None
    return TemplateResponse(
        request,
        "admin/affiliate/reason.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "objects": queryset,
            "action": request.POST.get("action"),
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


class DocumentInline(ReadOnlyTabularInline):
    model = PromoterDocument
    fields = ["kind", "document", "uploaded_at"]
    readonly_fields = ["document"]

    @admin.display(description=_("File"))
    def document(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("private_file", kwargs={"file_id": obj.file_id}),
            obj.file.original_name,
        )


@admin.register(Promoter)
class PromoterAdmin(admin.ModelAdmin):
    """The review queue (SPEC A-1): filter "Waiting for review"; the oldest submission first,
    each with its age in working days and whether it passed the SLA (1.8 working days)."""

    list_filter = ["status", "trial"]
    search_fields = ["name", "=email"]
    ordering = ["status", "submitted_at", "created_at"]
    fields = [
        "name",
        "email",
        "status",
        "trial",
        "trial_ended_at",
        "cent_minimum",
        "submitted_at",
        "reviewed_at",
        "reviewed_by",
        "rejection_reason",
        "approved_at",
        "last_login_at",
    ]
    readonly_fields = [
        "status",
        "trial",
        "trial_ended_at",
        "cent_minimum",
        "submitted_at",
        "reviewed_at",
        "reviewed_by",
        "rejection_reason",
        "approved_at",
        "last_login_at",
    ]
    inlines = [DocumentInline]
    actions = ["approve", "reject"]

    def get_list_display(self, request):
        # The SLA and "now" once per page, not per row (the SLA is a registry read: a query).
        sla, now = rules.review_sla_working_days(), clock.now()

        @admin.display(description=_("Waiting (working days)"))
        def review_age_days(obj):
            age = review_age(promoter=obj, now=now, sla=sla)
            return "—" if age is None else f"{age.working_days:.2f}"

        @admin.display(description=_("Past the SLA"), boolean=True)
        def review_overdue(obj):
            age = review_age(promoter=obj, now=now, sla=sla)
            return None if age is None else age.overdue

        return [
            "name",
            "email",
            "status",
            "trial",
            "submitted_at",
            review_age_days,
            review_overdue,
            "approved_at",
        ]

    def changelist_view(self, request, extra_context=None):
        sla, now = rules.review_sla_working_days(), clock.now()
        waiting = [
            a
            for p in Promoter.objects.filter(status=PromoterStatus.PENDING).only(
                "status", "submitted_at"
            )[:1000]
            if (a := review_age(promoter=p, now=now, sla=sla)) is not None
        ]
        if waiting:
            overdue = sum(1 for a in waiting if a.overdue)
            self.message_user(
                request,
                _(
                    "Review queue: %(n)s waiting, %(overdue)s past the SLA of %(sla)s working "
                    "days, oldest %(oldest)s working days."
                )
                % {
                    "n": len(waiting),
                    "overdue": overdue,
                    "sla": rules.review_sla_working_days(),
                    "oldest": f"{max(a.working_days for a in waiting):.2f}",
                },
                messages.WARNING if overdue else messages.INFO,
            )
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Approve the selected promoters"))
    def approve(self, request, queryset):
        done = 0
        for promoter in queryset.order_by("pk"):
            try:
                services.promoter_approve(promoter=promoter, by=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{promoter}: {exc.message}", messages.ERROR)
        self.message_user(request, _("%(n)s approved.") % {"n": done})

    @admin.action(description=_("Reject the selected promoters, with a reason"))
    def reject(self, request, queryset):
        return _reason_step(
            self,
            request,
            queryset,
            title=_("Reject promoters"),
            apply=lambda p, reason: services.promoter_reject(
                promoter=p, reason=reason, by=request.user
            ),
        )


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


class PayoutLineInline(ReadOnlyTabularInline):
    model = PayoutLine
    fields = ["promoter", "amount", "status", "failure_reason", "decided_at"]
    readonly_fields = fields

    @admin.display(description=_("Amount"))
    def amount(self, obj):
        return obj.amount.format()


class PayoutBatchCreateForm(forms.Form):
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3, initial="USD")


@admin.register(PayoutBatch)
class PayoutBatchAdmin(admin.ModelAdmin):
    """Issue 9 item 6: "Add" makes a batch of every promoter due a payout in a currency;
    download its CSV for the bank transfer, mark failed lines (Payout lines), then mark the
    batch paid. A paid batch can no longer change (the database refuses it)."""

    list_display = [
        "pk",
        "currency",
        "status",
        money_field("total_minor", description=_("Total")),
        "line_count",
        "created_at",
        "paid_at",
    ]
    list_filter = ["status", "currency"]
    inlines = [PayoutLineInline]
    actions = ["download_csv", "mark_paid"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_lines=Count("lines"))

    @admin.display(description=_("Lines"), ordering="n_lines")
    def line_count(self, obj):
        return obj.n_lines

    def has_change_permission(self, request, obj=None):
        return False  # only through the actions below (services)

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PayoutBatchCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                batch = services.payout_batch_create(
                    currency=form.cleaned_data["currency"], by=request.user
                )
            except DomainError as exc:
                form.add_error("currency", exc.message)
            else:
                self.message_user(
                    request,
                    _("Payout batch %(id)s created: %(total)s.")
                    % {"id": batch.pk, "total": batch.total.format()},
                )
                return redirect("admin:affiliate_payoutbatch_change", batch.pk)
        return TemplateResponse(
            request,
            "admin/affiliate/payout_create.html",
            {
                **self.admin_site.each_context(request),
                "title": _("New payout batch"),
                "form": form,
                "minimum": rules.payout_minimum_minor(),
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Download the CSV for the finance team"))
    def download_csv(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose one batch."), messages.ERROR)
            return None
        return payout_csv_response(queryset.get())

    @admin.action(description=_("Mark paid (every pending line is paid)"))
    def mark_paid(self, request, queryset):
        for batch in queryset.order_by("pk"):
            try:
                services.payout_batch_mark_paid(batch_id=batch.pk, by=request.user)
            except DomainError as exc:
                self.message_user(request, f"{batch}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("Batch %(id)s paid.") % {"id": batch.pk})


@admin.register(PayoutLine)
class PayoutLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "pk",
        "batch",
        "promoter",
        money_field("amount_minor", currency="batch.currency", description=_("Amount")),
        "status",
        "failure_reason",
    ]
    list_filter = ["status", "batch__currency"]
    list_select_related = ["batch", "promoter"]
    search_fields = ["promoter__name", "=promoter__email"]
    actions = ["mark_failed"]

    def has_change_permission(self, request, obj=None):
        # The "mark failed" action is a change; the form itself stays read-only (no fields).
        return obj is None and request.user.has_perm("affiliate.change_payoutline")

    @admin.action(description=_("Mark failed, with a reason"), permissions=["change"])
    def mark_failed(self, request, queryset):
        return _reason_step(
            self,
            request,
            queryset,
            title=_("Failed transfers"),
            apply=lambda line, reason: services.payout_line_fail(line_id=line.pk, reason=reason),
        )


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
