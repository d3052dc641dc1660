"""Builders of the UI tests' data, all through the services (DESIGN §8).

``ui_shop`` (USD, mainland China, enterprise-certified, L3, rating 4.80) has an owner and an
analyst; ``ui_other_shop`` belongs to someone else. ``make_orders`` creates orders that walk the
real lifecycle (paid, shipped with tracking, delivered, refunded, disputed, cancelled) so every
page has something in each of its regions.
"""

import itertools
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.test import Client

from buyers.services import buyer_upsert
from core import clock
from orders import services as orders
from orders.services import LineInput
from shops.middleware import SESSION_KEY
from shops.services import product_upsert, shop_upsert

PASSWORD = "ui-test-password-1"
_seq = itertools.count(1)


def _n(prefix: str) -> str:
    return f"{prefix}{next(_seq)}"


def make_user(username: str):
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@staff.example.com"
    )


def make_shop(**overrides):
    fields = {
        "external_id": _n("ui-shop-"),
        "name": "Lotus Home",
        "opened_at": clock.now() - timedelta(days=365),
        "main_category": "consumer_electronics",
        "registration_region": "CN",
        "enterprise_certified": True,
        "store_level": 3,
        "store_rating": "4.80",
        "currency": "USD",
    }
    fields.update(overrides)
    return shop_upsert(**fields)


def make_product(shop, *, title="Desk lamp", n_skus=2, review_status="approved", category=None):
    ext = _n("ui-prod-")
    return product_upsert(
        shop=shop,
        external_id=ext,
        title=title,
        category=category or shop.main_category,
        review_status=review_status,
        skus=[
            {
                "code": f"{ext}-S{i}",
                "name": f"Variant {i}",
                "price_minor": 19_99 + i * 100,
                "stock": 10 * i,
                "lowest_price_30d_minor": 17_50,
            }
            for i in range(n_skus)
        ],
    )


def make_buyer(**overrides):
    ext = _n("ui-buyer-")
    fields = {
        "external_id": ext,
        "email": f"{ext}@shopper.example.com",
        "country": "FR",
        "registered_at": clock.now() - timedelta(days=100),
    }
    fields.update(overrides)
    return buyer_upsert(**fields)


def make_order(
    shop,
    *,
    buyer=None,
    sku=None,
    stage="completed",
    placed_at=None,
    quantity=1,
    tracking_events=2,
    refund=False,
    dispute=False,
    number=None,
):
    """An order walked through the lifecycle up to ``stage``."""
    buyer = buyer or make_buyer()
    sku = sku or make_product(shop, n_skus=1).skus.first()
    at = placed_at or clock.now() - timedelta(days=3)
    order = orders.order_create(
        shop=shop,
        buyer=buyer,
        number=number or _n("UI-"),
        lines=[LineInput(sku=sku, quantity=quantity, unit_price_minor=sku.price_minor)],
        placed_at=at,
        shipping_fee_minor=3_00,
        coupon_discount_minor=1_00,
        payment_method="card",
    )
    if stage == "pending_payment":
        return order
    if stage == "cancelled":
        return orders.order_cancel(order=order, cancelled_at=at + timedelta(minutes=10))
    due = order.payable_before_coins.amount - order.coin_deduction_minor
    order = orders.order_pay(
        order=order,
        payment_id=_n("pay-"),
        amount_minor=due,
        method="card",
        paid_at=at + timedelta(minutes=2),
    )
    if stage == "paid":
        return order
    order = orders.order_ship(
        order=order,
        carrier="aliexpress_standard",
        tracking_number=_n("LP"),
        shipped_at=at + timedelta(hours=6),
    )
    for i in range(tracking_events):
        orders.tracking_update(
            order=order,
            status="in_transit",
            occurred_at=at + timedelta(hours=8 + i),
            location=f"Hub {i}",
            description="Departed facility",
        )
    if stage == "shipped":
        return order
    order = orders.order_deliver(order=order, delivered_at=at + timedelta(days=1))
    if dispute:
        d = _n("dsp-")
        orders.dispute_open(
            order=order,
            dispute_id=d,
            opened_at=at + timedelta(days=1, hours=1),
            reason="Not as described",
        )
        orders.dispute_close(
            order=order,
            dispute_id=d,
            closed_at=at + timedelta(days=1, hours=3),
            outcome="seller_won",
        )
    if refund:
        orders.order_refund(
            order=order,
            refund_id=_n("rf-"),
            amount_minor=order.amount_paid_minor // 2,
            refunded_at=at + timedelta(days=1, hours=4),
            reason="Scratched",
        )
        order.refresh_from_db()
    if stage == "delivered":
        return order
    return orders.order_complete(order=order, completed_at=at + timedelta(days=2))


def make_orders(shop, n: int, **kwargs):
    """``n`` orders cycling through every status, with buyers and SKUs shared per shop."""
    buyer = kwargs.pop("buyer", None) or make_buyer()
    sku = kwargs.pop("sku", None) or make_product(shop, n_skus=1).skus.first()
    stages = ["completed", "delivered", "shipped", "paid", "pending_payment", "cancelled"]
    now = clock.now()
    return [
        make_order(
            shop,
            buyer=buyer,
            sku=sku,
            stage=stages[i % len(stages)],
            placed_at=now - timedelta(days=3, minutes=i),
            refund=(i % 6 == 1),
            dispute=(i % 6 == 0),
            **kwargs,
        )
        for i in range(n)
    ]


def login(user, shop=None) -> Client:
    client = Client()
    client.force_login(user)
    if shop is not None:
        session = client.session
        session[SESSION_KEY] = shop.pk
        session.save()
    return client
