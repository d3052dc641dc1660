"""SPEC A-7 at shipping: the commission base is computed again when shipping tells the logistics
line. The official standard line keeps the full base; any other line deducts the actual freight
(the order's shipping fee). Driven by the ``order.shipped`` order event, as the consumer sees it."""

from datetime import timedelta

import affkit
import pytest
from factories import first_sku, make_order, make_product

from affiliate.models import Commission
from core import clock
from orders import services as orders
from orders.models import Order

PRICE = 100_00
FREIGHT = 10_00  # paid 110.00; the 5% platform fee is 5.50


@pytest.fixture
def setup(shop_a):
    affkit.enable(shop_a, rate_bp=1000)
    link = affkit.link(shop_a)
    click = affkit.click(link, at=clock.now() - timedelta(hours=1))
    sku = first_sku(make_product(shop_a, price_minor=PRICE))
    return {"shop": shop_a, "click": click, "sku": sku}


def _paid_order(setup, **kw):
    return make_order(
        setup["shop"],
        sku=setup["sku"],
        status="paid",
        affiliate_click_id=setup["click"].click_id,
        shipping_fee_minor=FREIGHT,
        **kw,
    )


def _ship(order, carrier):
    return orders.order_ship(
        order=Order.objects.get(pk=order.pk),
        carrier=carrier,
        tracking_number=f"LP{order.pk:010d}CN",
        shipped_at=clock.now(),
    )


def _commission(order, seen):
    affkit.apply_events(order, seen)
    return Commission.objects.get(order=order)


def test_a7_shipping_on_another_line_deducts_the_freight_from_the_base(setup):
    # given: a paid order whose line is not known yet (counts as standard): full base
    order = _paid_order(setup)
    seen: set[int] = set()
    c = _commission(order, seen)
    assert (c.base_minor, c.amount_minor) == (104_50, 10_45)

    # when: it ships on a non-standard line
    _ship(order, "aliexpress_saver")
    c = _commission(order, seen)

    # then: base = 110.00 − 5.50 fee − 10.00 freight; 10% of it, the rate fixed at lock kept
    assert (c.base_minor, c.amount_minor) == (94_50, 9_45)
    assert c.lines == [[setup["sku"].product_id, PRICE, 1000]]
    assert c.status == "locked"


def test_a7_shipping_on_the_official_standard_line_keeps_the_full_base(setup):
    order = _paid_order(setup)
    seen: set[int] = set()
    _commission(order, seen)

    _ship(order, "aliexpress_standard")
    c = _commission(order, seen)

    assert (c.base_minor, c.amount_minor) == (104_50, 10_45)


def test_a7_freight_recomputed_on_a_pre_issued_commission(setup):
    order = _paid_order(setup)
    seen: set[int] = set()
    _commission(order, seen)
    from affiliate import services

    services.commissions_pre_issue()

    _ship(order, "cainiao_super_economy")
    c = _commission(order, seen)

    assert c.status == "pre_issued"
    assert (c.base_minor, c.amount_minor) == (94_50, 9_45)


def test_a6_a7_a_refund_before_shipping_keeps_its_share_of_the_new_amount(setup):
    # given: half the paid amount refunded before shipping: half the commission reversed
    order = _paid_order(setup)
    seen: set[int] = set()
    _commission(order, seen)
    orders.order_refund(
        order=Order.objects.get(pk=order.pk),
        refund_id="r-half",
        amount_minor=55_00,
        refunded_at=clock.now(),
    )
    c = _commission(order, seen)
    assert (c.amount_minor, c.reversed_minor) == (10_45, 5_23)  # rounded up: 5.225 → 5.23

    # when: it ships on a line that deducts freight
    _ship(order, "aliexpress_saver")
    c = _commission(order, seen)

    # then: the reversal is the same share of the new amount (9.45 / 2 = 4.725 → 4.73)
    assert (c.amount_minor, c.reversed_minor, c.net_minor) == (9_45, 4_73, 4_72)


def test_a7_a_void_commission_is_not_recomputed_at_shipping(setup):
    # given: an order whose commission was voided (its cancel handled), then shipped anyway
    order = _paid_order(setup)
    seen: set[int] = set()
    c = _commission(order, seen)
    Commission.objects.filter(pk=c.pk).update(status="void")

    _ship(order, "aliexpress_saver")
    c = _commission(order, seen)

    assert (c.status, c.base_minor, c.amount_minor) == ("void", 104_50, 10_45)
