from datetime import datetime
from decimal import Decimal

from django.db import transaction

from core.errors import DomainError
from core.money import exponent

from .models import (
    Category,
    LogisticsSetting,
    Membership,
    Product,
    Region,
    ReviewStatus,
    Shop,
    Sku,
    Violation,
)


def shop_upsert(
    *,
    external_id: str,
    name: str,
    opened_at: datetime,
    main_category: str,
    registration_region: str = Region.MAINLAND_CN,
    enterprise_certified: bool = False,
    store_level: int = 1,
    store_rating: Decimal | str = "0",
    dsr_item_as_described: Decimal | str = "0",
    dsr_communication: Decimal | str = "0",
    dsr_shipping: Decimal | str = "0",
    currency: str = "USD",
) -> Shop:
    if main_category not in Category.values:
        raise DomainError(f"Unknown category {main_category!r}.", code="invalid_category")
    if registration_region not in Region.values:
        raise DomainError(f"Unknown region {registration_region!r}.", code="invalid_region")
    if not 1 <= int(store_level) <= 5:
        raise DomainError("Store level must be 1 to 5.", code="invalid_store_level")
    try:
        exponent(currency)
    except ValueError as exc:
        raise DomainError(str(exc), code="invalid_currency") from None
    scores = {}
    for field, value in (
        ("store_rating", store_rating),
        ("dsr_item_as_described", dsr_item_as_described),
        ("dsr_communication", dsr_communication),
        ("dsr_shipping", dsr_shipping),
    ):
        d = Decimal(str(value))
        if not Decimal(0) <= d <= Decimal(5):
            raise DomainError(f"{field} must be between 0 and 5.", code="invalid_score")
        scores[field] = d.quantize(Decimal("0.01"))
    shop, _ = Shop.objects.update_or_create(
        external_id=external_id,
        defaults={
            "name": name,
            "opened_at": opened_at,
            "main_category": main_category,
            "registration_region": registration_region,
            "enterprise_certified": enterprise_certified,
            "store_level": int(store_level),
            "currency": currency,
            **scores,
        },
    )
    return shop


def membership_grant(*, user, shop: Shop, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        user=user, shop=shop, defaults={"role": role}
    )
    return membership


@transaction.atomic
def product_upsert(
    *,
    shop: Shop,
    external_id: str,
    title: str,
    category: str,
    review_status: str = ReviewStatus.APPROVED,
    skus: list[dict],
) -> Product:
    """Create or update a product with its SKUs.

    ``skus``: dicts of code, price_minor, stock and optionally name, lowest_price_30d_minor.
    """
    if category not in Category.values:
        raise DomainError(f"Unknown category {category!r}.", code="invalid_category")
    if review_status not in ReviewStatus.values:
        raise DomainError(f"Unknown review status {review_status!r}.", code="invalid_review_status")
    if not skus:
        raise DomainError("A product needs at least one SKU.", code="no_skus")
    for s in skus:
        if int(s["price_minor"]) < 0 or int(s.get("stock", 0)) < 0:
            raise DomainError("SKU price and stock cannot be negative.", code="invalid_amount")
    product, _ = Product.objects.update_or_create(
        shop=shop,
        external_id=external_id,
        defaults={"title": title, "category": category, "review_status": review_status},
    )
    for s in skus:
        Sku.objects.update_or_create(
            shop=shop,
            code=s["code"],
            defaults={
                "product": product,
                "name": s.get("name", ""),
                "currency": shop.currency,
                "price_minor": int(s["price_minor"]),
                "stock": int(s.get("stock", 0)),
                "lowest_price_30d_minor": s.get("lowest_price_30d_minor"),
            },
        )
    return product


def logistics_set(*, shop: Shop, carrier: str, enabled: bool, certified: bool) -> LogisticsSetting:
    setting, _ = LogisticsSetting.objects.update_or_create(
        shop=shop, carrier=carrier, defaults={"enabled": enabled, "certified": certified}
    )
    return setting


def violation_record(
    *,
    shop: Shop,
    external_id: str,
    kind: str,
    serious: bool,
    occurred_at: datetime,
    description: str = "",
) -> Violation:
    violation, _ = Violation.objects.get_or_create(
        external_id=external_id,
        defaults={
            "shop": shop,
            "kind": kind,
            "serious": serious,
            "occurred_at": occurred_at,
            "description": description,
        },
    )
    return violation
