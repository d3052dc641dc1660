"""Storefront reads of the coin module (DESIGN §6), signed like every integration endpoint
(``integrations.auth.SignedRequest``: key, timestamp, HMAC of the empty body for a GET):

* ``GET /api/v1/coins/shops/{shop}/products/{product}/label`` — whether coins show on the
  product page (SPEC C-4), the largest deduction and the label text (C-3);
* ``GET /api/v1/coins/shops/{shop}/buyers/{buyer}/balance`` — what a buyer can spend in the
  shop now and what expires first (C-6).

Shops, products and buyers are named by their marketplace ids. Unknown ones answer 404 with
``unknown_shop`` / ``unknown_product`` / ``unknown_buyer``.
"""

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from buyers.models import Buyer
from core.api import ApiError, ErrorOut
from integrations.auth import SignedRequest
from shops.models import Product, Shop

from . import rules
from .selectors import buyer_balance, storefront_product_status

router = Router(tags=["coins"])

_ERRORS = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 411: ErrorOut, 413: ErrorOut}


class ProductLabelOut(Schema):
    shop: str
    product: str
    shows: bool
    reasons: list[str]
    max_deduction_minor: int
    max_deduction_coins: int
    currency: str
    label: str


class BuyerBalanceOut(Schema):
    shop: str
    buyer: str
    coins: int
    value_minor: int
    currency: str
    soonest_expiry: datetime | None
    soonest_expiring_coins: int


def _shop(external_id: str) -> Shop:
    shop = Shop.objects.filter(external_id=external_id).first()
    if shop is None:
        raise ApiError(404, "unknown_shop", f"No shop {external_id!r}.")
    return shop


@router.get(
    "/shops/{shop_id}/products/{product_id}/label",
    auth=SignedRequest(),
    response={200: ProductLabelOut, **_ERRORS},
    operation_id="get_coin_product_label",
    summary="Coin label of a product page",
)
def product_label(request: HttpRequest, shop_id: str, product_id: str):
    shop = _shop(shop_id)
    product = Product.objects.filter(shop=shop, external_id=product_id).first()
    if product is None:
        raise ApiError(404, "unknown_product", f"No product {product_id!r} in shop {shop_id!r}.")
    status = storefront_product_status(shop=shop, product=product)
    shows = status.shows and status.max_deduction_minor > 0
    deduction = status.max_deduction_minor if shows else 0
    return {
        "shop": shop.external_id,
        "product": product.external_id,
        "shows": shows,
        "reasons": status.problems,
        "max_deduction_minor": deduction,
        "max_deduction_coins": deduction // rules.coin_value_minor(),
        "currency": shop.currency,
        "label": status.label if shows else "",
    }


@router.get(
    "/shops/{shop_id}/buyers/{buyer_id}/balance",
    auth=SignedRequest(),
    response={200: BuyerBalanceOut, **_ERRORS},
    operation_id="get_coin_buyer_balance",
    summary="A buyer's coins in a shop",
)
def balance(request: HttpRequest, shop_id: str, buyer_id: str):
    shop = _shop(shop_id)
    buyer = Buyer.objects.filter(external_id=buyer_id).first()
    if buyer is None:
        raise ApiError(404, "unknown_buyer", f"No buyer {buyer_id!r}.")
    b = buyer_balance(shop=shop, buyer_id=buyer.pk)
    return {
        "shop": shop.external_id,
        "buyer": buyer.external_id,
        "coins": b.coins,
        "value_minor": b.value.amount,
        "currency": shop.currency,
        "soonest_expiry": b.soonest_expiry,
        "soonest_expiring_coins": b.soonest_expiring,
    }
