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
from shops.models import Carrier, Shop

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


# A search returns at most this many orders (a buyer with more is searched by shop instead).
SEARCH_LIMIT = 5_000
MAX_PK = 2**63 - 1


def _buyers_matching(term: str):
    return Buyer.objects.filter(Q(external_id=term) | Q(email=term.casefold())).values("pk")


def _order_pks(term: str) -> set[int]:
    """Orders whose number is ``term``, whose buyer's id/e-mail is ``term``, or whose pk it is.

    The only indexes that hold order numbers and buyers start with the shop
    (``order_shop_number_unique``, ``order_shop_buyer``), and PostgreSQL cannot skip-scan them;
    ``shop_id IN (every shop)`` turns each lookup into one index probe per shop (~10 ms on 1M
    orders) where a plain ``number = …`` scans the table (~0.7 s). Each lookup runs on its own
    rather than OR-ed, so each keeps its index.
    """
    shops = Shop.objects.values("pk")
    by_number = Order.objects.filter(shop_id__in=shops, number=term)
    by_buyer = Order.objects.filter(shop_id__in=shops, buyer_id__in=_buyers_matching(term))
    pks = set(by_number.values_list("pk", flat=True)[:SEARCH_LIMIT])
    pks |= set(by_buyer.values_list("pk", flat=True)[:SEARCH_LIMIT])
    if term.isdigit() and int(term) <= MAX_PK:
        pks.add(int(term))
    return pks


def _shipments_tracked_as(term: str) -> set[int]:
    # Shipment.tracking_number has no index of its own: this lookup reads the shipments table
    # (one scan, ~0.1 s per million). Kept apart from the indexed order lookups on purpose.
    qs = Shipment.objects.filter(tracking_number=term).values_list("pk", flat=True)
    return set(qs[:SEARCH_LIMIT])


class ExactOrderSearchMixin:
    """Search by exact order number, order id, buyer id or buyer e-mail (all indexed)."""

    order_path = "order"  # path from the admin's model to Order ("" for Order itself)
    search_help_text = _("Exact order number, order id, buyer id or e-mail.")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        pks = _order_pks(term)
        return queryset.filter(**{f"{self.order_path or 'pk'}__in": pks}), False


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
    list_filter = ["status", "disputed", "payment_method", "placed_at"]
    list_select_related = ["shop", "buyer"]
    search_fields = ["number"]  # shows the search box; the lookups are in get_search_results
    date_hierarchy = "placed_at"
    date_hierarchy_when = ("shop__id__exact",)  # index order_shop_placed serves it
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
    list_filter = ["status", "method", "paid_at"]
    list_select_related = ["order"]
    search_fields = ["order__number"]
    raw_id_fields = ["order"]


class CarrierFilter(admin.SimpleListFilter):
    """The carriers of ``shops.Carrier`` (the field is free text: named third-party lines)."""

    title = _("carrier")
    parameter_name = "carrier"

    def lookups(self, request, model_admin):
        return Carrier.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(carrier=self.value())
        return queryset


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
    list_filter = ["official", CarrierFilter, "shipped_at"]
    list_select_related = ["order"]
    search_fields = ["tracking_number"]
    search_help_text = _("Exact tracking number, order number, order id, buyer id or e-mail.")
    raw_id_fields = ["order"]
    inlines = [TrackingEventInline]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(pk__in=_shipments_tracked_as(term)) | Q(order__in=_order_pks(term))
        return queryset.filter(match), False


@admin.register(TrackingEvent)
class TrackingEventAdmin(FactAdmin):
    list_display = ["shipment__order__number", "shipment__tracking_number", "status", "occurred_at"]
    list_filter = ["status", "occurred_at"]
    list_select_related = ["shipment__order"]
    search_fields = ["shipment__tracking_number"]
    search_help_text = _("Exact tracking number.")
    raw_id_fields = ["shipment"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(shipment__in=_shipments_tracked_as(term)), False


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
    list_filter = ["full", "refunded_at"]
    list_select_related = ["order"]
    search_fields = ["order__number"]
    raw_id_fields = ["order"]


class RatingFilter(admin.SimpleListFilter):
    """Fixed options: the default filter of a field without choices runs SELECT DISTINCT."""

    title = _("rating")
    parameter_name = "rating"

    def lookups(self, request, model_admin):
        return [(str(n), "★" * n) for n in range(5, 0, -1)]

    def queryset(self, request, queryset):
        if self.value() in {"1", "2", "3", "4", "5"}:
            return queryset.filter(rating=int(self.value()))
        return queryset


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
    list_filter = [DisputeStateFilter, "outcome", "opened_at"]
    list_select_related = ["order"]
    search_fields = ["order__number"]
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
    list_filter = [RatingFilter, "posted_at"]
    list_select_related = ["order", "shop", "sku", "buyer"]
    search_fields = ["order__number"]
    date_hierarchy = "posted_at"
    date_hierarchy_when = ("shop__id__exact",)  # index review_shop_posted
    raw_id_fields = ["order", "shop", "sku", "buyer"]


@admin.register(Feedback)
class FeedbackAdmin(ExactOrderSearchMixin, FactAdmin):
    list_display = ["order", "shop", "kind", "posted_at"]
    list_filter = ["kind", "posted_at"]
    list_select_related = ["order", "shop"]
    search_fields = ["order__number"]
    date_hierarchy = "posted_at"
    date_hierarchy_when = ("shop__id__exact",)  # index feedback_shop_posted
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
    list_filter = ["last_activity_at"]
    date_hierarchy = "last_activity_at"
    date_hierarchy_when = ("shop__id__exact",)  # index cart_shop_activity
    raw_id_fields = ["shop", "buyer"]
    inlines = [CartLineInline]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        # shop_id IN (every shop): probes the unique (shop, buyer) index, see _order_pks.
        shops = Shop.objects.values("pk")
        return queryset.filter(shop_id__in=shops, buyer_id__in=_buyers_matching(term)), False


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
    list_filter = ["day"]
    date_hierarchy = "day"
    date_hierarchy_when = ("shop__id__exact",)  # unique (shop, day)
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


# The ingested-event log (orders/admin_api.py) and the order event log (orders/admin_eventlog.py).
from . import admin_api, admin_eventlog  # noqa: E402,F401
