"""Buyers in the platform admin: the risk-review queue of SPEC B-4/B-5/B-6.

Contact details are read-only: they change only through the buyer services, which enforce
SPEC B-3 (one contact, one account, normalised) and B-7 (change limits). What a platform admin
decides here is the risk status (through ``buyer_risk_decide``, with a reason, recorded with
who decided) and the low-activity flag.
"""

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin import BigTableAdminMixin, ReadOnlyAdminMixin
from core.errors import DomainError

from .models import Buyer, BuyerRiskDecision
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
