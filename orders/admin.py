"""Marketplace facts in the platform admin: view-only.

Why read-only: every order fact arrives through the signed ingestion API and changes only
through ``orders.services``, which guard the lifecycle (SPEC §0), keep ``ShopDailyStats`` in the
same transaction and emit the domain events the marketing modules live on (coins, commissions,
mailing segments, activity metrics). A hand edit of an amount or a status here would bypass all
of that and leave the ledgers of other modules disagreeing with the order. Corrections are new
events (a refund, a dispute outcome), never edits. The one write offered is a service call:
rebuilding a shop's daily figures from its orders.

These tables reach millions of rows: changelists come from ``BigTableAdminMixin`` (no full
count, estimated count, pk order), every FK column is in ``list_select_related``, and search
runs exact lookups (``get_search_results``) instead of substring scans.
"""

from django.contrib import admin, messages
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from buyers.models import Buyer
from core.admin import BigTableAdminMixin, ReadOnlyAdminMixin, ReadOnlyTabularInline, money_field

from . import services
from .models import (
    Cart,
    CartLine,
    Dispute,
    Feedback,
    Order,
    OrderLine,
    Payment,
    Refund,
    Review,
    Shipment,
    ShopDailyStats,
    TrackingEvent,
)


class FactAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    """View-only admin of a big marketplace-fact table."""


def _order_match(term: str) -> Q:
    """Orders whose number or tracking number is ``term``, or whose buyer's id/e-mail is."""
    buyers = Buyer.objects.filter(Q(external_id=term) | Q(email=term.casefold())).values("pk")
    match = Q(number=term) | Q(tracking_number=term) | Q(buyer_id__in=buyers)
    if term.isdigit():
        match |= Q(pk=int(term))
    return match


class ExactOrderSearchMixin:
    """Search by exact order number, tracking number, buyer id or e-mail, or order pk."""

    order_path = "order"  # path from the admin's model to Order ("" for Order itself)
    search_help_text = _("Exact order number, tracking number, order id, buyer id or e-mail.")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        match = _order_match(term)
        if self.order_path:
            orders = Order.objects.filter(match).values("pk")
            return queryset.filter(**{f"{self.order_path}__in": orders}), False
        return queryset.filter(match), False


# --- order and its children ------------------------------------------------------------------


class OrderLineInline(ReadOnlyTabularInline):
    model = OrderLine
    fields = ["sku", "quantity", "line_unit_price", "line_total"]
    readonly_fields = fields
    show_change_link = False

    line_unit_price = staticmethod(
        money_field("unit_price_minor", currency="order.currency", description=_("unit price"))
    )
    line_total = staticmethod(
        money_field("total_minor", currency="order.currency", description=_("total"))
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "sku")


class PaymentInline(ReadOnlyTabularInline):
    model = Payment
    fields = ["external_id", "payment_amount", "method", "status", "paid_at"]
    readonly_fields = fields
    payment_amount = staticmethod(
        money_field("amount_minor", description=_("amount"), ordering=False)
    )


class RefundInline(ReadOnlyTabularInline):
    model = Refund
    fields = ["external_id", "refund_amount", "full", "reason", "refunded_at"]
    readonly_fields = fields
    refund_amount = staticmethod(
        money_field(
            "amount_minor", currency="order.currency", description=_("amount"), ordering=False
        )
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")


class DisputeInline(ReadOnlyTabularInline):
    model = Dispute
    fields = ["external_id", "reason", "opened_at", "closed_at", "outcome"]
    readonly_fields = fields


class ShipmentInline(ReadOnlyTabularInline):
    model = Shipment
    fields = ["carrier", "tracking_number", "official", "shipped_at", "last_event_at"]
    readonly_fields = fields


_ORDER_MONEY = {
    name: money_field(f"{name}_minor", description=label, ordering=False)
    for name, label in (
        ("subtotal", _("items subtotal")),
        ("shipping_fee", _("shipping fee")),
        ("coupon_discount", _("coupon discount")),
        ("coin_deduction", _("coin deduction value")),
        ("platform_subsidy", _("platform subsidy")),
        ("cashback_red_packet", _("buyer cashback red packet")),
        ("amount_paid", _("amount paid")),
        ("refunded", _("refunded")),
    )
}


@admin.register(Order)
class OrderAdmin(ExactOrderSearchMixin, FactAdmin):
    order_path = ""
    list_display = [
        "number",
        "shop",
        "buyer",
        "status",
        "disputed",
        money_field("amount_paid_minor", description=_("paid")),
        money_field("refunded_minor", description=_("refunded")),
        money_field("coin_deduction_minor", description=_("coins")),
        "placed_at",
    ]
    list_filter = ["status", "disputed", "payment_method", "currency"]
    list_select_related = ["shop", "buyer"]
    search_fields = ["number"]  # shows the search box; the lookups are in get_search_results
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline, PaymentInline, ShipmentInline, RefundInline, DisputeInline]
    fieldsets = [
        (None, {"fields": ["number", "shop", "buyer", "status", "disputed"]}),
        (
            _("Amounts"),
            {
                "fields": [
                    "currency",
                    "order_subtotal",
                    "order_shipping_fee",
                    "order_coupon_discount",
                    ("coin_deduction_coins", "order_coin_deduction"),
                    "order_platform_subsidy",
                    "order_cashback_red_packet",
                    "order_amount_paid",
                    "order_refunded",
                    "gmv_and_invoice",
                ]
            },
        ),
        (
            _("Fulfilment"),
            {"fields": ["payment_method", "logistics_service", "tracking_number", "country"]},
        ),
        (_("Marketing context"), {"fields": ["activity_id", "affiliate_click_id"]}),
        (
            _("Timeline"),
            {
                "fields": [
                    "placed_at",
                    "paid_at",
                    "shipped_at",
                    "delivered_at",
                    "completed_at",
                    "cancelled_at",
                    "refunded_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]
    order_subtotal = staticmethod(_ORDER_MONEY["subtotal"])
    order_shipping_fee = staticmethod(_ORDER_MONEY["shipping_fee"])
    order_coupon_discount = staticmethod(_ORDER_MONEY["coupon_discount"])
    order_coin_deduction = staticmethod(_ORDER_MONEY["coin_deduction"])
    order_platform_subsidy = staticmethod(_ORDER_MONEY["platform_subsidy"])
    order_cashback_red_packet = staticmethod(_ORDER_MONEY["cashback_red_packet"])
    order_amount_paid = staticmethod(_ORDER_MONEY["amount_paid"])
    order_refunded = staticmethod(_ORDER_MONEY["refunded"])
    readonly_fields = [
        "order_subtotal",
        "order_shipping_fee",
        "order_coupon_discount",
        "order_coin_deduction",
        "order_platform_subsidy",
        "order_cashback_red_packet",
        "order_amount_paid",
        "order_refunded",
        "gmv_and_invoice",
    ]

    @admin.display(description=_("GMV / invoice (SPEC C-9)"))
    def gmv_and_invoice(self, obj):
        return f"{obj.gmv} / {obj.invoice_amount}"


@admin.register(OrderLine)
class OrderLineAdmin(ExactOrderSearchMixin, FactAdmin):
    list_display = [
        "order",
        "sku",
        "quantity",
        money_field("unit_price_minor", currency="order.currency", description=_("unit price")),
    ]
    list_select_related = ["order", "sku"]
    search_fields = ["order__number"]
    raw_id_fields = ["order", "sku"]


@admin.register(Payment)
class PaymentAdmin(ExactOrderSearchMixin, FactAdmin):
    list_display = [
        "external_id",
        "order",
        money_field("amount_minor", description=_("amount")),
        "method",
        "status",
        "paid_at",
    ]
    list_filter = ["status", "method", "currency"]
    list_select_related = ["order"]
    search_fields = ["order__number"]
    date_hierarchy = "paid_at"
    raw_id_fields = ["order"]


class TrackingEventInline(ReadOnlyTabularInline):
    model = TrackingEvent
    fields = ["occurred_at", "status", "location", "description"]
    readonly_fields = fields
    show_change_link = False


@admin.register(Shipment)
class ShipmentAdmin(ExactOrderSearchMixin, FactAdmin):
    list_display = [
        "order",
        "carrier",
        "tracking_number",
        "official",
        "shipped_at",
        "last_event_at",
        "last_progress_at",
    ]
    list_filter = ["official", "carrier"]
    list_select_related = ["order"]
    search_fields = ["tracking_number"]
    date_hierarchy = "shipped_at"
    raw_id_fields = ["order"]
    inlines = [TrackingEventInline]


@admin.register(TrackingEvent)
class TrackingEventAdmin(FactAdmin):
    list_display = ["shipment__order__number", "shipment__tracking_number", "status", "occurred_at"]
    list_filter = ["status"]
    list_select_related = ["shipment__order"]
    search_fields = ["shipment__tracking_number"]
    search_help_text = _("Exact tracking number.")
    date_hierarchy = "occurred_at"
    raw_id_fields = ["shipment"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(shipment__tracking_number=term), False


@admin.register(Refund)
class RefundAdmin(ExactOrderSearchMixin, FactAdmin):
    list_display = [
        "external_id",
        "order",
        money_field("amount_minor", currency="order.currency", description=_("amount")),
        "full",
        "reason",
        "refunded_at",
    ]
    list_filter = ["full"]
    list_select_related = ["order"]
    search_fields = ["order__number"]
    date_hierarchy = "refunded_at"
    raw_id_fields = ["order"]


class DisputeStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", _("Open")), ("closed", _("Closed"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(closed_at__isnull=True)
        if self.value() == "closed":
            return queryset.filter(closed_at__isnull=False)
        return queryset


@admin.register(Dispute)
class DisputeAdmin(ExactOrderSearchMixin, FactAdmin):
    list_display = ["external_id", "order", "reason", "opened_at", "closed_at", "outcome"]
    list_filter = [DisputeStateFilter, "outcome"]
    list_select_related = ["order"]
    search_fields = ["order__number"]
    date_hierarchy = "opened_at"
    raw_id_fields = ["order"]


@admin.register(Review)
class ReviewAdmin(ExactOrderSearchMixin, FactAdmin):
    list_display = [
        "order",
        "shop",
        "sku",
        "buyer",
        "rating",
        "dsr_item_as_described",
        "dsr_communication",
        "dsr_shipping",
        "language",
        "posted_at",
    ]
    list_filter = ["rating", "language"]
    list_select_related = ["order", "shop", "sku", "buyer"]
    search_fields = ["order__number"]
    date_hierarchy = "posted_at"
    raw_id_fields = ["order", "shop", "sku", "buyer"]


@admin.register(Feedback)
class FeedbackAdmin(ExactOrderSearchMixin, FactAdmin):
    list_display = ["order", "shop", "kind", "posted_at"]
    list_filter = ["kind"]
    list_select_related = ["order", "shop"]
    search_fields = ["order__number"]
    date_hierarchy = "posted_at"
    raw_id_fields = ["order", "shop"]


class CartLineInline(ReadOnlyTabularInline):
    model = CartLine
    fields = ["sku", "quantity"]
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sku")


@admin.register(Cart)
class CartAdmin(FactAdmin):
    list_display = ["id", "shop", "buyer", "last_activity_at"]
    list_select_related = ["shop", "buyer"]
    search_fields = ["buyer__email"]
    search_help_text = _("Exact buyer id or e-mail.")
    date_hierarchy = "last_activity_at"
    raw_id_fields = ["shop", "buyer"]
    inlines = [CartLineInline]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        buyers = Buyer.objects.filter(Q(external_id=term) | Q(email=term.casefold())).values("pk")
        return queryset.filter(buyer_id__in=buyers), False


@admin.register(CartLine)
class CartLineAdmin(FactAdmin):
    list_display = ["cart", "sku", "quantity"]
    list_select_related = ["cart", "sku"]
    search_fields = ["sku__code"]
    search_help_text = _("Exact SKU code.")
    raw_id_fields = ["cart", "sku"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(sku__code=term), False


@admin.register(ShopDailyStats)
class ShopDailyStatsAdmin(FactAdmin):
    list_display = [
        "shop",
        "day",
        "orders_created",
        "orders_paid",
        "orders_cancelled",
        "orders_shipped",
        money_field("gmv_minor", currency="shop.currency", description=_("paid (GMV)")),
        money_field("refunded_minor", currency="shop.currency", description=_("refunded")),
    ]
    list_select_related = ["shop"]
    search_fields = ["shop__name", "=shop__external_id"]
    date_hierarchy = "day"
    raw_id_fields = ["shop"]
    actions = ["rebuild_from_orders"]

    @admin.action(description=_("Rebuild the selected shops' daily figures from their orders"))
    def rebuild_from_orders(self, request, queryset):
        shop_ids = sorted(set(queryset.values_list("shop_id", flat=True)))
        rows = services.daily_stats_rebuild(shop_ids=shop_ids)
        self.message_user(
            request,
            ngettext(
                "Rebuilt %(rows)d day row for %(shops)d shop.",
                "Rebuilt %(rows)d day rows for %(shops)d shops.",
                len(shop_ids),
            )
            % {"rows": rows, "shops": len(shop_ids)},
            messages.SUCCESS,
        )
