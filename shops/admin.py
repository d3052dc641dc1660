"""Platform-admin views of shops, staff and catalogue.

Shops, products, SKUs and violations are marketplace facts: they arrive through the ingestion
API (``shop.upserted``, ``product.upserted``, ``violation.recorded``) and a later event would
silently overwrite a hand edit, so they are view-only here. What the seller center itself owns —
staff memberships and logistics settings — is editable (inline on the shop, and on its own list).
"""

from django.contrib import admin
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import BigTableAdminMixin, ReadOnlyAdminMixin, ReadOnlyTabularInline, money_field

from .models import (
    BalanceEntry,
    LogisticsSetting,
    Membership,
    Notification,
    Product,
    Shop,
    ShopBalance,
    Sku,
    Violation,
)
from .services import logistics_set, membership_grant

# Editable rows are written through the services (DESIGN §2), keyed like the services key them:
# a membership by (user, shop), a logistics setting by (shop, carrier).
_KEYS = {Membership: ("user", "shop"), LogisticsSetting: ("shop", "carrier")}


def _save_through_service(obj, changed: list[str]):
    """Write an edited Membership / LogisticsSetting with its service; return the saved row."""
    if obj.pk and set(changed) & set(_KEYS[type(obj)]):
        # The key itself changed: the service upserts by key, so retire the old row first.
        type(obj).objects.filter(pk=obj.pk).delete()
    if isinstance(obj, Membership):
        return membership_grant(user=obj.user, shop=obj.shop, role=obj.role)
    return logistics_set(
        shop=obj.shop, carrier=obj.carrier, enabled=obj.enabled, certified=obj.certified
    )


class ServiceSaveMixin:
    """ModelAdmin whose saves of editable rows (and inline rows) go through the services."""

    def save_model(self, request, obj, form, change):
        if type(obj) in _KEYS:
            obj.pk = _save_through_service(obj, form.changed_data if change else []).pk
        else:
            super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model not in _KEYS:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # validates and fills deleted_objects
        for obj in formset.deleted_objects:
            obj.delete()
        for inline_form in formset.forms:
            if inline_form in formset.deleted_forms or not inline_form.has_changed():
                continue
            inline_form.instance.shop = form.instance
            _save_through_service(inline_form.instance, inline_form.changed_data)
        return None


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


class LogisticsSettingInline(admin.TabularInline):
    model = LogisticsSetting
    extra = 0
    fields = ["carrier", "enabled", "certified"]


@admin.register(Shop)
class ShopAdmin(ServiceSaveMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "external_id",
        "registration_region",
        "enterprise_certified",
        "store_level",
        "store_rating",
        "main_category",
        "currency",
        money_field("balance_minor", description=_("balance")),
        "opened_at",
    ]

    def get_queryset(self, request):
        # The cached ledger balance in the shop's currency, as a column (no query per row).
        balance = ShopBalance.objects.filter(shop=OuterRef("pk"), currency=OuterRef("currency"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                balance_minor=Coalesce(Subquery(balance.values("balance_minor")[:1]), Value(0))
            )
        )

    list_filter = [
        "registration_region",
        "enterprise_certified",
        "store_level",
        "main_category",
        "currency",
    ]
    search_fields = ["name", "=external_id"]
    date_hierarchy = "opened_at"
    inlines = [MembershipInline, LogisticsSettingInline]
    fieldsets = [
        (None, {"fields": ["name", "external_id", "opened_at", "main_category"]}),
        (
            _("Standing"),
            {
                "fields": [
                    "registration_region",
                    "enterprise_certified",
                    "store_level",
                    "store_rating",
                    ("dsr_item_as_described", "dsr_communication", "dsr_shipping"),
                ]
            },
        ),
        (_("Money"), {"fields": ["currency", "shop_balance"]}),
        (_("Marketplace facts"), {"fields": ["facts_links"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]
    shop_balance = staticmethod(
        money_field("balance_minor", description=_("balance"), ordering=False)
    )

    def get_readonly_fields(self, request, obj=None):
        # Every shop attribute is a marketplace fact (see module docstring); the change page
        # exists to manage the inlines.
        return [
            "name",
            "external_id",
            "opened_at",
            "main_category",
            "registration_region",
            "enterprise_certified",
            "store_level",
            "store_rating",
            "dsr_item_as_described",
            "dsr_communication",
            "dsr_shipping",
            "currency",
            "shop_balance",
            "facts_links",
            "created_at",
            "updated_at",
        ]

    @admin.display(description=_("records"))
    def facts_links(self, obj):
        # Links to the big lists filtered by this shop (no count: that would scan them).
        links = [
            (reverse("admin:orders_order_changelist"), _("Orders")),
            (reverse("admin:shops_product_changelist"), _("Products")),
            (reverse("admin:orders_shopdailystats_changelist"), _("Daily figures")),
            (reverse("admin:shops_balanceentry_changelist"), _("Balance entries")),
        ]
        return format_html(
            " · ".join(['<a href="{}?shop__id__exact={}">{}</a>'] * len(links)),
            *[v for url, label in links for v in (url, obj.pk, label)],
        )

    def has_add_permission(self, request) -> bool:
        return False  # shops are created by the marketplace (shop.upserted)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # orders PROTECT their shop; a shop never disappears from history

    def save_model(self, request, obj, form, change):
        # No shop field is editable here; saving the page saves only the inlines.
        return None


@admin.register(Membership)
class MembershipAdmin(ServiceSaveMixin, admin.ModelAdmin):
    list_display = ["user", "shop", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "shop"]
    search_fields = ["user__username", "user__email", "shop__name", "=shop__external_id"]
    autocomplete_fields = ["user", "shop"]


class SkuInline(ReadOnlyTabularInline):
    model = Sku
    fk_name = "product"
    fields = ["code", "name", "sku_price", "stock", "sku_lowest_30d"]
    readonly_fields = fields
    sku_price = staticmethod(money_field("price_minor", description=_("price"), ordering=False))
    sku_lowest_30d = staticmethod(
        money_field("lowest_price_30d_minor", description=_("30-day lowest"), ordering=False)
    )


@admin.register(Product)
class ProductAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = ["title", "external_id", "shop", "category", "review_status", "created_at"]
    list_filter = ["review_status", "category"]
    list_select_related = ["shop"]
    search_fields = ["title", "=external_id", "=shop__external_id"]
    inlines = [SkuInline]


@admin.register(Sku)
class SkuAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "product",
        "shop",
        money_field("price_minor", description=_("price")),
        "stock",
        money_field("lowest_price_30d_minor", description=_("30-day lowest")),
    ]
    list_select_related = ["product", "shop"]
    search_fields = ["=code", "product__title"]


@admin.register(LogisticsSetting)
class LogisticsSettingAdmin(ServiceSaveMixin, admin.ModelAdmin):
    list_display = ["shop", "carrier", "enabled", "certified"]
    list_filter = ["carrier", "enabled", "certified"]
    list_select_related = ["shop"]
    search_fields = ["shop__name", "=shop__external_id"]
    autocomplete_fields = ["shop"]


@admin.register(Violation)
class ViolationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["shop", "kind", "serious", "occurred_at", "external_id"]
    list_filter = ["serious", "kind"]
    list_select_related = ["shop"]
    search_fields = ["=external_id", "kind", "shop__name"]
    date_hierarchy = "occurred_at"


# --- shop balance ledger: view-only (services write it; entries are immutable in the database)


@admin.register(ShopBalance)
class ShopBalanceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "shop",
        "currency",
        money_field("balance_minor", description=_("balance")),
        "updated_at",
    ]
    list_filter = ["currency"]
    list_select_related = ["shop"]
    search_fields = ["shop__name", "=shop__external_id"]


@admin.register(BalanceEntry)
class BalanceEntryAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "shop",
        "kind",
        money_field("amount_minor", description=_("amount")),
        money_field("balance_after_minor", description=_("balance after")),
        "reason",
        "idempotency_key",
    ]
    list_filter = ["kind", "currency", "created_at"]
    list_select_related = ["shop"]
    search_fields = ["=idempotency_key", "reason", "shop__name", "=shop__external_id"]
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "recipient", "shop", "kind", "title", "read_at"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["recipient", "shop"]
    search_fields = ["recipient__username", "shop__name", "title"]
    date_hierarchy = "created_at"
