"""A shop exited for late shipments (SPEC E-5), to file its post-mortem and appeal (E-7)."""

from actkit import DAY1_10H, D, H, Seller, enrol, make_activity

from activities import services
from orders import services as orders

EXIT_AT = DAY1_10H + D  # 2025-06-11 10:00 in Asia/Shanghai


def late_shipper(shop=None):
    """20 orders placed six days before the first evaluation: 15 shipped and delivered in
    time, 5 without tracking within 72 h (2 of them shipped a day late). 25% late > 20% on
    the evening before and at ``EXIT_AT``: exited from the running activity."""
    seller = Seller(shop=shop)
    activity = make_activity()
    enrolment = enrol(seller, activity)
    placed = DAY1_10H - 6 * D
    made = seller.orders(20, placed)
    for o in made[:15]:
        o = seller.ship(o, o.placed_at + D)
        orders.order_deliver(order=o, delivered_at=o.placed_at + 2 * D)
    for o in made[15:17]:
        o = seller.ship(o, o.placed_at + 4 * D, carrier="yanwen")
        orders.order_deliver(order=o, delivered_at=o.placed_at + 5 * D)
    services.metrics_evaluate(now=DAY1_10H + 10 * H)  # 20:00, the day's final value
    [exit_] = services.metrics_evaluate(now=EXIT_AT).exits
    return seller, activity, enrolment, exit_, made
