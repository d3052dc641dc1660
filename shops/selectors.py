from datetime import datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import BigIntegerField, ExpressionWrapper, F, QuerySet, Sum
from django.http import Http404

from core import clock
from core.money import Money

from .models import (
    BalanceEntry,
    LogisticsSetting,
    Membership,
    Notification,
    NotificationKind,
    NotificationPreference,
    Product,
    Shop,
    ShopBalance,
)


def memberships_for_user(*, user) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    # The first of these is the shop a member works in until they pick one: by name, then id,
    # so two shops of the same name still give one stable default.
    return (
        Membership.objects.filter(user=user)
        .select_related("shop")
        .order_by("shop__name", "shop_id")
    )


def can_see_buyer_contacts(membership: Membership | None) -> bool:
    """Whether the holder of ``membership`` sees (and may search by) buyers' contacts."""
    return membership is not None and membership.can_see_buyer_contacts


def membership_for(*, user, shop_id: int | None) -> Membership | None:
    """The user's membership of ``shop_id``; with no id, of their first shop."""
    qs = memberships_for_user(user=user)
    if shop_id is not None:
        return qs.filter(shop_id=shop_id).first()
    return qs.first()


def get_product_for_shop(*, shop: Shop, product_id: int) -> Product:
    try:
        return Product.objects.prefetch_related("skus").get(pk=product_id, shop=shop)
    except (Product.DoesNotExist, ValueError, TypeError):
        raise Http404("No such product in this shop.") from None


SALES_DAYS = 30

# The products list's sort orders (ProductFilterForm.sort). Title and date sorts are SQL; the
# 30-day figures sort in Python over the shop's product ids (stable: ties stay in title order).
PRODUCT_SORTS = {"title": ("title", "id"), "newest": ("-created_at", "-id")}
FIGURE_SORTS = {"units": 0, "gmv": 1}


def _sales_lines(*, shop_id: int, at: datetime | None = None):
    """Order lines that count as sold in the last ``SALES_DAYS`` natural days: their order was
    paid in the window and is neither cancelled nor fully refunded. GMV here is the lines' item
    value (quantity x unit price), before order-level discounts, shipping and coins."""
    # The catalogue pages show the orders' figures; imported here, where they are read, so
    # shops (the floor below) never needs orders to load.
    from orders.models import OrderLine, OrderStatus

    today = clock.natural_day(at)
    # Served by the order_shop_paid index (the shop's orders paid in the window), then each
    # order's lines by the order foreign key's index.
    return OrderLine.objects.filter(
        order__shop_id=shop_id,
        order__paid_at__gte=clock.day_start(today - timedelta(days=SALES_DAYS - 1)),
        order__paid_at__lt=clock.day_start(today + timedelta(days=1)),
    ).exclude(order__status__in=[OrderStatus.CANCELLED, OrderStatus.REFUNDED])


def _line_total():
    return ExpressionWrapper(F("quantity") * F("unit_price_minor"), output_field=BigIntegerField())


def product_sales_30d(
    *, shop: Shop, product_ids: list[int] | None = None, at: datetime | None = None
) -> dict[int, tuple[int, int]]:
    """{product id: (units, GMV in minor units)} of the last 30 natural days (_sales_lines),
    for ``product_ids`` or every product of the shop: one GROUP BY. Unsold products are absent."""
    qs = _sales_lines(shop_id=shop.pk, at=at)
    if product_ids is not None:
        qs = qs.filter(sku__product_id__in=list(product_ids))
    rows = (
        qs.values("sku__product_id")
        .annotate(units=Sum("quantity"), gmv=Sum(_line_total()))
        .values_list("sku__product_id", "units", "gmv")
    )
    return {pid: (int(units), int(gmv)) for pid, units, gmv in rows}


def products_for_shop(
    *, shop: Shop, q: str = "", status: str = "", category: str = "", sort: str = "title"
) -> QuerySet[Product]:
    """The shop's products, filtered, in a title or date order (SKUs prefetched)."""
    qs = Product.objects.filter(shop=shop)
    if q:
        qs = qs.filter(title__icontains=q)
    if status:
        qs = qs.filter(review_status=status)
    if category:
        qs = qs.filter(category=category)
    return qs.prefetch_related("skus").order_by(*PRODUCT_SORTS.get(sort, PRODUCT_SORTS["title"]))


def products_page(
    *,
    shop: Shop,
    page_number,
    per_page: int,
    q: str = "",
    status: str = "",
    category: str = "",
    sort: str = "title",
    at: datetime | None = None,
) -> Page:
    """One page of the products list, each product with ``units_30d`` and ``gmv_30d_minor``.

    Four queries whatever the page shows: by title or date, the page (count, rows, SKUs) then
    the figures of its products only; by a figure, the figures of the whole shop, its product
    ids (sorted here), then the page's rows and SKUs."""
    qs = products_for_shop(shop=shop, q=q, status=status, category=category, sort="title")
    page: Page
    products: list[Product]
    if sort in FIGURE_SORTS:
        sales = product_sales_30d(shop=shop, at=at)
        k = FIGURE_SORTS[sort]
        ids = sorted(qs.values_list("id", flat=True), key=lambda pid: -sales.get(pid, (0, 0))[k])
        page = Paginator(ids, per_page).get_page(page_number)
        rows = {p.pk: p for p in qs.filter(pk__in=list(page.object_list))}
        products = [rows[pk] for pk in page.object_list if pk in rows]
    else:
        qs = qs.order_by(*PRODUCT_SORTS.get(sort, PRODUCT_SORTS["title"]))
        page = Paginator(qs, per_page).get_page(page_number)
        products = list(page.object_list)
        sales = product_sales_30d(shop=shop, product_ids=[p.pk for p in products], at=at)
    for product in products:
        # read by the template (the list's columns and cards), not model fields
        product.units_30d, product.gmv_30d_minor = sales.get(product.pk, (0, 0))  # type: ignore[attr-defined]
    page.object_list = products
    return page


def sku_sales_30d(*, product: Product, at: datetime | None = None) -> dict[int, tuple[int, int]]:
    """{sku id: (units, GMV in minor units)} of the product's SKUs sold in the last 30 days:
    one GROUP BY (SKUs without sales are absent)."""
    rows = (
        _sales_lines(shop_id=product.shop_id, at=at)
        .filter(sku__product=product)
        .values("sku_id")
        .annotate(units=Sum("quantity"), gmv=Sum(_line_total()))
        .values_list("sku_id", "units", "gmv")
    )
    return {sku_id: (int(units), int(gmv)) for sku_id, units, gmv in rows}


# --- shared reads of the marketing modules (DESIGN §2: one copy, not one per module) -----------


def serious_violations(*, shop: Shop, days: int, at: datetime | None = None) -> int:
    """Serious violations in the ``days`` before ``at`` (now): SPEC C-1(c), M-1, E-rules.

    Served by the (shop, serious, occurred_at) index."""
    at = at or clock.now()
    return shop.violations.filter(
        serious=True, occurred_at__gt=at - timedelta(days=days), occurred_at__lte=at
    ).count()


def carriers_for_shop(*, shop: Shop) -> list[LogisticsSetting]:
    """Every carrier in the shop's logistics settings (one query)."""
    return list(LogisticsSetting.objects.filter(shop=shop).order_by("carrier"))


def usable_carriers(
    *, shop: Shop, carriers: list[LogisticsSetting] | None = None
) -> list[LogisticsSetting]:
    """Carriers the shop may ship activity orders with: certified and enabled (SPEC E-2).

    Pass ``carriers`` (from ``carriers_for_shop``) to filter a list already read."""
    rows = carriers_for_shop(shop=shop) if carriers is None else carriers
    return [c for c in rows if c.certified and c.enabled]


# --- shop balance ---------------------------------------------------------------------------


def balance_for_shop(*, shop: Shop) -> Money:
    """The shop's balance in its currency (zero before its first entry)."""
    row = (
        ShopBalance.objects.filter(shop=shop, currency=shop.currency)
        .values_list("balance_minor", flat=True)
        .first()
    )
    return Money(row or 0, shop.currency)


def balance_entries_for_shop(*, shop: Shop, kind: str = "") -> QuerySet[BalanceEntry]:
    """The shop's ledger, newest first (index balance_entry_shop_at)."""
    qs = BalanceEntry.objects.filter(shop=shop)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at", "-id")


# --- staff notifications ---------------------------------------------------------------------
# Tenant-aware: a user sees their notifications of the shops they are still a member of
# (``shop_ids``: the memberships CurrentShopMiddleware already read).


def unread_notification_count(*, user, shop_ids) -> int:
    """The bell: one COUNT over the partial index of unread rows."""
    if not shop_ids:
        return 0
    return Notification.objects.filter(
        recipient=user, shop_id__in=list(shop_ids), read_at__isnull=True
    ).count()


def notifications_for_user(*, user, shop_ids, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user, shop_id__in=list(shop_ids))
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.select_related("shop").order_by("-created_at", "-id")


def get_notification_for_user(*, user, shop_ids, notification_id) -> Notification:
    """Someone else's notification, or one of a shop the user left, is a 404."""
    try:
        pk = int(notification_id)
        if not 0 < pk < 2**63:  # beyond a bigint the database would refuse the query itself
            raise ValueError(pk)
        return Notification.objects.get(pk=pk, recipient=user, shop_id__in=list(shop_ids))
    except (Notification.DoesNotExist, ValueError, TypeError):
        raise Http404("No such notification.") from None


def notification_preferences_for_user(*, user) -> list[tuple[str, str, bool, bool]]:
    """(kind, label, in_app, email) for every kind, defaults filled in."""
    chosen = {p.kind: (p.in_app, p.email) for p in NotificationPreference.objects.filter(user=user)}
    return [
        (kind, str(label), *chosen.get(kind, (True, True)))
        for kind, label in NotificationKind.choices
    ]
