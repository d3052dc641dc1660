"""Buyers in the platform admin: the risk-review queue of SPEC B-4/B-5/B-6.

Contact details are read-only: they change only through the buyer services, which enforce
SPEC B-3 (one contact, one account, normalised) and B-7 (change limits). What a platform admin
decides here is the risk status and the low-activity flag.
"""

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.admin import BigTableAdminMixin

from .models import Buyer
from .services import InvalidContact, normalize_phone


@admin.register(Buyer)
class BuyerAdmin(BigTableAdminMixin, admin.ModelAdmin):
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
    fields = [*readonly_fields[:7], "risk_status", "low_activity", "created_at", "updated_at"]

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
