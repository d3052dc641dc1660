"""Builders of the activities tests: orders through the order services, activities and
enrolments through the activities services."""

from datetime import UTC, datetime, timedelta

from factories import make_buyer, make_product, make_shop

from activities import services
from orders import services as orders
from orders.inputs import LineInput, OrderInput
from shops.services import logistics_set

# 2025-06-10 10:00 in Asia/Shanghai
DAY1_10H = datetime(2025, 6, 10, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)


class Seller:
    """One shop with a SKU, a certified carrier and a buyer; places orders through services."""

    def __init__(self, shop=None, **fields):
        self.shop = shop if shop is not None else make_shop(**fields)
        logistics_set(shop=self.shop, carrier="aliexpress_standard", enabled=True, certified=True)
        self.sku = make_product(
            self.shop, skus=[{"code": "ACT-1", "price_minor": 50_00, "stock": 1000}]
        ).skus.get()
        self.buyer = make_buyer()
        self.n = 0

    def order(self, placed_at, *, paid=True, activity_id=None, **extra):
        self.n += 1
        order = orders.order_create(
            OrderInput(
                shop=self.shop,
                buyer=self.buyer,
                number=f"{self.shop.pk}-{self.n:05d}",
                lines=[LineInput(sku=self.sku, quantity=1, unit_price_minor=50_00)],
                placed_at=placed_at,
                payment_method="card",
                activity_id=activity_id,
                **extra,
            )
        )
        if paid:
            order = orders.order_pay(
                order=order,
                payment_id=f"P-{order.number}",
                amount_minor=50_00,
                method="card",
                paid_at=placed_at + timedelta(minutes=5),
            )
        return order

    def orders(self, n, placed_at, *, cancelled=0):
        out = [self.order(placed_at + timedelta(minutes=i)) for i in range(n)]
        for o in out[:cancelled]:
            orders.order_cancel(order=o, cancelled_at=placed_at + H)
        return out

    def ship(self, order, at, *, carrier="aliexpress_standard", scan=True):
        order = orders.order_ship(
            order=order, carrier=carrier, tracking_number=f"TN{order.number}", shipped_at=at
        )
        if scan:
            orders.tracking_update(order=order, status="picked_up", occurred_at=at + H)
        return order


def make_activity(**overrides):
    fields = dict(
        kind="flash_deal",
        name="618 Flash Deals",
        starts_at=DAY1_10H - 5 * D,
        ends_at=DAY1_10H + 30 * D,
        enrol_until=DAY1_10H + 20 * D,
    )
    fields.update(overrides)
    return services.activity_create(services.ActivityInput(**fields))


def enrol(seller, activity, *, at=None, price=45_00, stock=100):
    return services.enrolment_create(
        shop=seller.shop,
        activity=activity,
        sku=seller.sku,
        activity_price_minor=price,
        stock=stock,
        now=at or DAY1_10H - 2 * D,
    )
