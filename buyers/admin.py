"""Buyers in the platform admin: the risk-review queue of SPEC B-4/B-5/B-6.

Contact details are read-only: they change only through the buyer services, which enforce
SPEC B-3 (one contact, one account, normalised) and B-7 (change limits). What a platform admin
decides here is the risk status (through ``buyer_risk_decide``, with a reason, recorded with
who decided) and the low-activity flag.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import BigTableAdminMixin, ReadOnlyAdminMixin
from core.errors import DomainError

from . import rules
from .models import (
    Buyer,
    BuyerRiskDecision,
    BuyerRiskReview,
    ContactChange,
    RiskStatus,
    VerificationCode,
)
from .selectors import abuse_monitor, review_queue, velocity
from .services import InvalidContact, buyer_risk_decide, normalize_phone


class BuyerAdminForm(forms.ModelForm):
    risk_reason = forms.CharField(
        label=_("Reason for the risk decision"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the risk status changes; kept with your name."),
    )

    class Meta:
        model = Buyer
        fields = ["risk_status", "low_activity"]

    def clean(self):
        data = super().clean()
        if "risk_status" in self.changed_data and not (data.get("risk_reason") or "").strip():
            self.add_error("risk_reason", _("Say why the risk status changes."))
        return data


@admin.register(BuyerRiskDecision)
class BuyerRiskDecisionAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = ["buyer", "previous_status", "status", "decided_by", "created_at"]
    list_filter = ["status", "created_at"]
    list_select_related = ["buyer", "decided_by"]
    search_fields = ["=buyer__external_id", "decided_by__username"]
    date_hierarchy = "created_at"


@admin.register(Buyer)
class BuyerAdmin(BigTableAdminMixin, admin.ModelAdmin):
    form = BuyerAdminForm
    list_display = [
        "external_id",
        "email",
        "phone",
        "country",
        "site",
        "risk_status",
        "low_activity",
        "registered_at",
    ]
    list_filter = ["risk_status", "low_activity", "site", "registered_at"]
    # Exact matches only (see get_search_results): a substring search would scan the table.
    search_fields = ["external_id", "email", "phone", "device_id"]
    search_help_text = _("Exact buyer id, e-mail, phone (+86…) or device id.")
    readonly_fields = [
        "external_id",
        "email",
        "phone",
        "country",
        "site",
        "device_id",
        "registered_at",
        "created_at",
        "updated_at",
    ]
    fields = [
        *readonly_fields[:7],
        "risk_status",
        "risk_reason",
        "risk_history",
        "low_activity",
        "created_at",
        "updated_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "risk_history"]

    @admin.display(description=_("risk decisions"))
    def risk_history(self, obj):
        # Shown as text, not as an inline: a view-only inline would make every save of this
        # page carry its formset's management form.
        rows = obj.risk_decisions.select_related("decided_by")[:20] if obj.pk else []
        if not rows:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}: {} → {} ({}) — {}</li>",
                (
                    (
                        r.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                        r.get_previous_status_display(),
                        r.get_status_display(),
                        r.decided_by,
                        r.reason,
                    )
                    for r in rows
                ),
            ),
        )

    def save_model(self, request, obj, form, change):
        # The risk status goes through its service (who and why recorded, row locked); the rest
        # of the form (the low-activity flag) is saved as usual, without touching risk_status.
        others = [f for f in form.changed_data if f in ("low_activity",)]
        if others:
            Buyer.objects.filter(pk=obj.pk).update(**{f: getattr(obj, f) for f in others})
        if "risk_status" in form.changed_data:
            new_status = obj.risk_status
            obj.risk_status = form.initial["risk_status"]
            try:
                buyer_risk_decide(
                    buyer=obj,
                    status=new_status,
                    decided_by=request.user,
                    reason=form.cleaned_data["risk_reason"],
                )
            except DomainError as exc:
                self.message_user(request, exc.message, level="error")

    def get_search_results(self, request, queryset, search_term):
        # Exact lookups on indexed columns only (B-3 unique indexes, the device index); the
        # query is normalised the way the stored values are (case-folded e-mail, E.164 phone).
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(external_id=term) | Q(email=term.casefold()) | Q(device_id=term)
        try:
            phone = normalize_phone(term)
        except InvalidContact:
            phone = None
        if phone:
            match |= Q(phone=phone)
        return queryset.filter(match), False

    def has_add_permission(self, request) -> bool:
        return False  # buyers register (B-1) or arrive from the marketplace (buyer.upserted)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # orders PROTECT their buyer


# --- the risk-review queue and the abuse monitor (SPEC B-4, B-5, B-6) -------------------------


class RiskDecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Kept with your name on each buyer's record."),
    )


@admin.register(BuyerRiskReview)
class BuyerRiskReviewAdmin(BigTableAdminMixin, admin.ModelAdmin):
    """Buyers in risk review or flagged, each with its signals; approve or reject with a reason
    (``buyer_risk_decide``: recorded with who decided, never overwritten by the marketplace)."""

    list_display = [
        "external_id",
        "contact",
        "risk_status",
        "low_activity",
        "country_signal",
        "device_signal",
        "registered_at",
    ]
    list_filter = ["risk_status", "low_activity", "source"]
    search_fields = ["=external_id", "=email", "=phone", "=device_id"]
    actions = ["approve", "reject"]
    readonly_fields = [
        "external_id",
        "email",
        "phone",
        "country",
        "ip_country",
        "registration_ip",
        "device_id",
        "source",
        "risk_status",
        "low_activity",
        "registered_at",
        "first_paid_at",
        "signals",
        "risk_history",
    ]
    fields = readonly_fields
    change_list_template = "admin/buyers/risk_review_changelist.html"

    def get_queryset(self, request):
        return review_queue()

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # The page shows the record; decisions go through the actions (with a reason).
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description=_("contact"))
    def contact(self, obj):
        return obj.email or obj.phone

    @admin.display(description=_("IP country vs declared"))
    def country_signal(self, obj):
        if not obj.ip_country:
            return "—"
        if obj.ip_country == obj.country:
            return f"{obj.ip_country} = {obj.country}"
        return format_html("<strong>{} ≠ {}</strong>", obj.ip_country, obj.country)

    @admin.display(description=_("registrations from the device (30 days)"))
    def device_signal(self, obj):
        n = getattr(obj, "device_registrations", 0)
        if n > rules.device_max_registrations():
            return format_html("<strong>{}</strong>", n)
        return n

    @admin.display(description=_("signals"))
    def signals(self, obj):
        v = velocity(buyer=obj)
        items = [
            _("IP country %(ip)s, declared %(declared)s")
            % {"ip": obj.ip_country or "?", "declared": obj.country},
            _("%(n)s registrations from this device in the device window")
            % {"n": getattr(obj, "device_registrations", 0)},
            _(
                "velocity: %(ip)s registrations from its IP prefix and %(dev)s from its "
                "device within an hour"
            )
            % {"ip": v["same_ip_prefix"], "dev": v["same_device"]},
        ]
        if obj.low_activity:
            items.append(_("no first payment within the low-activity window"))
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((i,) for i in items))
        )

    risk_history = BuyerAdmin.risk_history

    def _decide(self, request, queryset, *, status: str, title: str):
        form = RiskDecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done, refused = 0, 0
            for buyer in queryset.order_by("pk"):
                try:
                    buyer_risk_decide(
                        buyer=buyer,
                        status=status,
                        decided_by=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                    done += 1
                except DomainError:
                    refused += 1
            self.message_user(
                request,
                ngettext(
                    "%(done)s buyer decided, %(refused)s already had that status.",
                    "%(done)s buyers decided, %(refused)s already had that status.",
                    done,
                )
                % {"done": done, "refused": refused},
            )
            return None
        return TemplateResponse(
            request,
            "admin/buyers/risk_decide.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "form": form,
                "buyers": queryset,
                "action": request.POST.get("action"),
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Approve (status OK) with a reason"))
    def approve(self, request, queryset):
        return self._decide(request, queryset, status=RiskStatus.OK, title=_("Approve buyers"))

    @admin.action(description=_("Reject (suspected fraud) with a reason"))
    def reject(self, request, queryset):
        return self._decide(
            request, queryset, status=RiskStatus.SUSPECTED_FRAUD, title=_("Reject buyers")
        )

    def get_urls(self):
        urls = super().get_urls()
        monitor = path(
            "monitor/",
            self.admin_site.admin_view(self.monitor_view),
            name="buyers_abuse_monitor",
        )
        return [monitor, *urls]

    def monitor_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        data = abuse_monitor()
        rows = list(zip(data.hours, data.registrations_per_hour, data.codes_per_hour, strict=True))
        return TemplateResponse(
            request,
            "admin/buyers/abuse_monitor.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Registration-abuse monitor"),
                "monitor": data,
                "rows": rows,
                "opts": self.model._meta,
            },
        )


@admin.register(VerificationCode)
class VerificationCodeAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    # Never the hash: nothing here helps guess a code.
    list_display = ["created_at", "purpose", "channel", "contact", "sent", "attempts", "used_at"]
    list_filter = ["purpose", "channel", "sent"]
    search_fields = ["=contact"]
    fields = [
        "created_at",
        "purpose",
        "channel",
        "contact",
        "buyer",
        "sent",
        "attempts",
        "used_at",
        "ip",
        "country",
        "device_id",
    ]


@admin.register(ContactChange)
class ContactChangeAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = ["buyer", "channel", "old_value", "new_value", "changed_at", "reported_at"]
    list_filter = ["channel", "changed_at"]
    list_select_related = ["buyer"]
    search_fields = ["=buyer__external_id", "=new_value", "=old_value"]
    exclude = ["report_token"]
