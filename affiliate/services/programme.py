"""A shop's affiliate programme and its commission rates (SPEC A-2)."""

from __future__ import annotations

from django.db import transaction

from core import clock
from core.errors import DomainError
from shops.models import Category, Product, Shop

from .. import rules
from ..models import CommissionRate, Programme, RateScope


@transaction.atomic
def programme_enable(*, shop: Shop, rate_bp: int, min_order_minor: int = 0) -> Programme:
    """SPEC A-2: open the programme (store level ≥ L3) with its shop-wide rate and minimum
    order amount. Refused below the level, saying which level is needed; nothing written."""
    rules.check_store_level(level=shop.store_level, min_level=rules.min_store_level())
    rules.check_min_order_minor(min_order_minor)
    rate_set(shop=shop, scope=RateScope.SHOP, rate_bp=rate_bp)
    programme, _ = Programme.objects.select_for_update().get_or_create(shop=shop)
    if not programme.enabled:
        programme.enabled = True
        programme.enabled_at = clock.now()
    programme.min_order_minor = min_order_minor
    programme.save()
    return programme


@transaction.atomic
def programme_disable(*, shop: Shop) -> Programme | None:
    """New orders earn nothing once disabled; commissions already locked run their course."""
    programme = Programme.objects.select_for_update().filter(shop=shop).first()
    if programme is not None and programme.enabled:
        programme.enabled = False
        programme.save(update_fields=["enabled", "updated_at"])
    return programme


@transaction.atomic
def rate_set(
    *,
    shop: Shop,
    scope: str,
    rate_bp: int,
    category: str = "",
    product: Product | None = None,
) -> CommissionRate:
    """Set the rate for the whole shop, one category or one product (0.5%-20%)."""
    rules.check_rate_bp(rate_bp, min_bp=rules.rate_min_bp(), max_bp=rules.rate_max_bp())
    if scope == RateScope.SHOP:
        category, product = "", None
    elif scope == RateScope.CATEGORY:
        if category not in Category.values:
            raise DomainError(
                "Choose one of the marketplace categories.", code="affiliate_bad_scope"
            )
        product = None
    elif scope == RateScope.PRODUCT:
        if product is None or product.shop_id != shop.pk:
            raise DomainError("Choose one of your shop's products.", code="affiliate_bad_scope")
        category = ""
    else:
        raise DomainError(
            "A rate applies to the shop, a category or a product.", code="affiliate_bad_scope"
        )
    rate, _ = CommissionRate.objects.update_or_create(
        shop=shop,
        scope=scope,
        category=category,
        product=product,
        defaults={"rate_bp": rate_bp},
    )
    return rate


@transaction.atomic
def rate_delete(*, shop: Shop, rate_id: int) -> None:
    """Remove a category or product rate (the shop-wide rate stays while the programme runs)."""
    rate = CommissionRate.objects.filter(shop=shop, pk=rate_id).first()
    if rate is None:
        raise DomainError("No such rate in this shop.", code="not_found")
    if rate.scope == RateScope.SHOP:
        raise DomainError(
            "The shop-wide rate cannot be removed; change it instead.", code="affiliate_bad_scope"
        )
    rate.delete()
