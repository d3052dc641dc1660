"""Test data helpers. Everything goes through the real services (DESIGN §8: set state up
through services, not ``.save()``), so a factory-built object obeys every domain rule.

Stable names (other test modules import them; keep signatures backwards compatible):

- ``make_user(username=None, *, password=PASSWORD, **extra)`` -> User
- ``make_shop(**overrides)`` -> Shop (CNY, mainland China, enterprise-certified, L3)
- ``make_member(shop, role="owner", *, user=None, username=None)`` -> User with a membership
- ``make_product(shop, *, price_minor=10000, stock=100, skus=None, n_skus=None, **overrides)``
  -> Product (approved, one SKU; ``first_sku(product)`` returns it; ``n_skus``: that many
  variants priced 19.99, 20.99, … with stock 0, 10, 20, … and a 30-day lowest price of 17.50)
- ``make_buyer(**overrides)`` -> Buyer
- ``make_order(shop, buyer=None, *, status="paid", sku=None, ...)`` -> Order (real lifecycle,
  optionally with tracking scans, a closed dispute and a partial refund)
- ``make_orders(shop, n, **kwargs)`` -> n orders cycling through every status, with something
  in every region of the seller pages (the UI tests' data)
- ``make_review(order, *, rating=5, dsr=5, posted_at=None, ...)`` -> Review
- ``make_feedback(order, *, kind="positive", posted_at=None)`` -> Feedback
- ``login_client(user, shop=None)`` -> django.test.Client with the shop in the session
- ``amount_due(order)``, ``next_id(prefix)``, ``PASSWORD``

Unique values (external ids, order numbers, e-mails) come from one counter, so helpers can be
called any number of times in a test. Times default to ``core.clock.now()`` so time-machine
travels carry the data with them.
"""

from __future__ import annotations

import itertools
import sys
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.test import Client

from buyers.models import Buyer
from buyers.services import buyer_upsert
from core import clock
from orders import services as order_services
from orders.inputs import LineInput, OrderInput
from orders.models import Feedback, FeedbackKind, Order, OrderStatus, Review
from shops.middleware import SESSION_KEY
from shops.models import Carrier, Category, Product, Region, ReviewStatus, Role, Shop, Sku
from shops.services import membership_grant, product_upsert, shop_upsert

PASSWORD = "correct-horse-battery"  # test users only

# One counter per process even if this module is imported twice (as ``factories`` and as
# ``tests.factories``): two counters would hand out the same external ids and numbers.
_twin = sys.modules.get("factories") or sys.modules.get("tests.factories")
_seq = getattr(_twin, "_seq", None) or itertools.count(1)


def next_id(prefix: str = "") -> str:
    """A process-unique token, e.g. ``next_id("shop-")`` -> ``"shop-17"``."""
    return f"{prefix}{next(_seq)}"


# --- people and shops ------------------------------------------------------------------------


def make_user(username: str | None = None, *, password: str = PASSWORD, **extra):
    username = username or next_id("user")
    extra.setdefault("email", f"{username}@staff.example.com")
    return get_user_model().objects.create_user(username=username, password=password, **extra)


def make_shop(**overrides) -> Shop:
    """A shop that passes the usual eligibility checks: mainland China, enterprise-certified,
    opened a year ago, L3, rating 4.8, DSRs 4.8, CNY. Override any ``shop_upsert`` argument."""
    n = next(_seq)
    fields = {
        "external_id": f"shop-{n}",
        "name": f"Shop {n}",
        "opened_at": clock.now() - timedelta(days=365),
        "main_category": Category.CONSUMER_ELECTRONICS,
        "registration_region": Region.MAINLAND_CN,
        "enterprise_certified": True,
        "store_level": 3,
        "store_rating": Decimal("4.80"),
        "dsr_item_as_described": Decimal("4.80"),
        "dsr_communication": Decimal("4.80"),
        "dsr_shipping": Decimal("4.80"),
        "currency": "CNY",
    }
    fields.update(overrides)
    return shop_upsert(**fields)


def make_member(shop: Shop, role: str = Role.OWNER, *, user=None, username: str | None = None):
    """A staff user with ``role`` in ``shop`` (an existing ``user`` gets one more membership)."""
    user = user or make_user(username)
    membership_grant(user=user, shop=shop, role=role)
    return user


# --- catalogue -------------------------------------------------------------------------------


def make_product(
    shop: Shop,
    *,
    price_minor: int = 100_00,
    stock: int = 100,
    skus: list[dict] | None = None,
    review_status: str = ReviewStatus.APPROVED,
    n_skus: int | None = None,
    **overrides,
) -> Product:
    """An approved product with one SKU (``price_minor``, ``stock``) unless ``skus`` is given
    (dicts as ``shops.services.product_upsert`` takes them) or ``n_skus`` variants."""
    n = next(_seq)
    if n_skus is not None:
        skus = [
            {
                "code": f"SKU-{n}-{i}",
                "name": f"Variant {i}",
                "price_minor": 19_99 + i * 100,
                "stock": 10 * i,
                "lowest_price_30d_minor": 17_50,
            }
            for i in range(n_skus)
        ]
    fields = {
        "external_id": f"prod-{n}",
        "title": f"Product {n}",
        "category": shop.main_category,
        "review_status": review_status,
        "skus": skus or [{"code": f"SKU-{n}", "price_minor": price_minor, "stock": stock}],
    }
    fields.update(overrides)
    return product_upsert(shop=shop, **fields)


def first_sku(product: Product) -> Sku:
    return product.skus.order_by("id").first()


# --- buyers ----------------------------------------------------------------------------------


def make_buyer(**overrides) -> Buyer:
    """A buyer with a unique e-mail (pass ``email=None, phone="+86..."`` for a phone-only one)."""
    n = next(_seq)
    fields = {
        "external_id": f"buyer-{n}",
        "email": f"buyer{n}@example.com",
        "country": "US",
        "registered_at": clock.now() - timedelta(days=30),
    }
    fields.update(overrides)
    return buyer_upsert(**fields)


# --- orders ----------------------------------------------------------------------------------

# The lifecycle path to each reachable status (SPEC §0).
_PATHS: dict[str, tuple[str, ...]] = {
    OrderStatus.PENDING_PAYMENT: (),
    OrderStatus.PAID: ("pay",),
    OrderStatus.SHIPPED: ("pay", "ship"),
    OrderStatus.DELIVERED: ("pay", "ship", "deliver"),
    OrderStatus.COMPLETED: ("pay", "ship", "deliver", "complete"),
    OrderStatus.CANCELLED: ("cancel",),
    OrderStatus.REFUNDED: ("pay", "refund"),
}


def make_order(
    shop: Shop,
    buyer: Buyer | None = None,
    *,
    status: str = OrderStatus.PAID,
    sku: Sku | None = None,
    quantity: int = 1,
    unit_price_minor: int | None = None,
    placed_at: datetime | None = None,
    step: timedelta = timedelta(0),
    number: str | None = None,
    carrier: str = Carrier.AE_STANDARD,
    payment_method: str = "card",
    disputed: bool = False,
    tracking_events: int = 0,
    closed_dispute: bool = False,
    partial_refund: bool = False,
    **create_kwargs,
) -> Order:
    """An order in ``status``, reached by calling the real services in lifecycle order:
    ``order_create`` → ``order_pay`` → ``order_ship`` → ``order_deliver`` → ``order_complete``
    (``cancelled``: create → cancel; ``refunded``: create → pay → full refund).

    ``sku`` defaults to a new product's SKU in ``shop``; the unit price defaults to the SKU's
    price. Each step happens ``step`` after the previous one (default: the same instant), so
    ``placed_at=...`` with ``step=timedelta(hours=1)`` spreads them. Extra keyword arguments go
    to its ``OrderInput`` (``coin_deduction_minor``, ``shipping_fee_minor``, ``activity_id``…).
    ``buyer`` defaults to a new buyer. ``tracking_events=k`` adds k "in transit" scans
    (at "Hub 0", "Hub 1", …) between shipping and the next step. After the status is reached:
    ``closed_dispute=True`` opens ("Not as described") and closes (seller won) a dispute,
    ``partial_refund=True`` refunds half the paid amount ("Scratched"), ``disputed=True`` opens
    a dispute left open (paid states only). Returns the order reloaded from the database.
    """
    if status not in _PATHS:
        raise ValueError(f"make_order cannot reach status {status!r}")
    buyer = buyer or make_buyer()
    sku = sku or first_sku(make_product(shop))
    at = placed_at or clock.now()
    n = next(_seq)
    order = order_services.order_create(
        OrderInput(
            shop=shop,
            buyer=buyer,
            number=number or f"SO{n:08d}",
            lines=[
                LineInput(
                    sku=sku,
                    quantity=quantity,
                    unit_price_minor=(
                        sku.price_minor if unit_price_minor is None else unit_price_minor
                    ),
                )
            ],
            placed_at=at,
            payment_method=payment_method,
            **create_kwargs,
        )
    )
    for action in _PATHS[status]:
        at = at + step
        if action == "pay":
            order = order_services.order_pay(
                order=order,
                payment_id=f"pay-{n}",
                amount_minor=amount_due(order),
                method=payment_method,
                paid_at=at,
            )
        elif action == "ship":
            order = order_services.order_ship(
                order=order, carrier=carrier, tracking_number=f"LP{n:010d}CN", shipped_at=at
            )
            for i in range(tracking_events):
                order_services.tracking_update(
                    order=order,
                    status="in_transit",
                    occurred_at=at + step * (i + 1) / (tracking_events + 1),
                    location=f"Hub {i}",
                    description="Departed facility",
                )
        elif action == "deliver":
            order = order_services.order_deliver(order=order, delivered_at=at)
        elif action == "complete":
            order = order_services.order_complete(order=order, completed_at=at)
        elif action == "cancel":
            order = order_services.order_cancel(order=order, cancelled_at=at)
        elif action == "refund":
            order_services.order_refund(
                order=order,
                refund_id=f"ref-{n}",
                amount_minor=order.amount_paid_minor,
                refunded_at=at,
            )
    if closed_dispute:
        at = at + step
        order_services.dispute_open(
            order=order, dispute_id=f"dsp-c{n}", opened_at=at, reason="Not as described"
        )
        at = at + step
        order_services.dispute_close(
            order=order, dispute_id=f"dsp-c{n}", closed_at=at, outcome="seller_won"
        )
    if partial_refund:
        at = at + step
        order = Order.objects.get(pk=order.pk)
        order_services.order_refund(
            order=order,
            refund_id=f"ref-p{n}",
            amount_minor=order.amount_paid_minor // 2,
            refunded_at=at,
            reason="Scratched",
        )
    if disputed:
        order_services.dispute_open(order=order, dispute_id=f"dsp-{n}", opened_at=at + step)
    return Order.objects.get(pk=order.pk)


_CYCLE = (
    OrderStatus.COMPLETED,
    OrderStatus.DELIVERED,
    OrderStatus.SHIPPED,
    OrderStatus.PAID,
    OrderStatus.PENDING_PAYMENT,
    OrderStatus.CANCELLED,
)


def make_orders(
    shop: Shop, n: int, *, buyer: Buyer | None = None, sku: Sku | None = None, **kwargs
) -> list[Order]:
    """``n`` orders of one buyer and one SKU, cycling through completed (with a closed
    dispute), delivered (partly refunded), shipped, paid, pending payment and cancelled, placed
    3 days ago one minute apart, each with shipping 3.00, a 1.00 coupon and two tracking scans,
    its steps 6 hours apart: something in every region of every seller page."""
    buyer = buyer or make_buyer()
    sku = sku or first_sku(make_product(shop))
    now = clock.now()
    options = {
        "shipping_fee_minor": 3_00,
        "coupon_discount_minor": 1_00,
        "tracking_events": 2,
        "step": timedelta(hours=6),
        **kwargs,
    }
    return [
        make_order(
            shop,
            buyer,
            sku=sku,
            status=_CYCLE[i % len(_CYCLE)],
            placed_at=now - timedelta(days=3, minutes=i),
            closed_dispute=(i % len(_CYCLE) == 0),
            partial_refund=(i % len(_CYCLE) == 1),
            **options,
        )
        for i in range(n)
    ]


def amount_due(order: Order) -> int:
    """What ``order_pay`` expects: payable before coins minus the coin deduction."""
    return order.payable_before_coins.amount - order.coin_deduction_minor


def make_review(
    order: Order,
    *,
    rating: int = 5,
    dsr: int = 5,
    sku: Sku | None = None,
    posted_at: datetime | None = None,
    text: str = "",
    language: str = "en",
) -> Review:
    """A review of the order's first SKU (the order must be delivered, completed or refunded)."""
    sku = sku or order.lines.order_by("id").first().sku
    return order_services.review_post(
        order=order,
        sku=sku,
        rating=rating,
        dsr_item_as_described=dsr,
        dsr_communication=dsr,
        dsr_shipping=dsr,
        posted_at=posted_at or clock.now(),
        text=text,
        language=language,
    )


def make_feedback(
    order: Order, *, kind: str = FeedbackKind.POSITIVE, posted_at: datetime | None = None
) -> Feedback:
    return order_services.feedback_post(order=order, kind=kind, posted_at=posted_at or clock.now())


# --- clients ---------------------------------------------------------------------------------


def login_client(user, shop: Shop | None = None) -> Client:
    """A fresh test client logged in as ``user`` with ``shop`` selected in the session."""
    client = Client()
    client.force_login(user)
    if shop is not None:
        session = client.session
        session[SESSION_KEY] = shop.pk
        session.save()
    return client
