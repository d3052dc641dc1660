"""SPEC A-6 races with real transactions and threads: the same refund event handled twice at
once (a duplicate delivery racing the first) moves money once."""

import threading
from datetime import timedelta

import affkit
import pytest
from django.db import connection
from factories import first_sku, make_order, make_product

from affiliate import services
from affiliate.consumers import handle_event
from affiliate.models import Commission, PromoterEntry
from core import clock
from core.money import Money
from orders import services as orders
from orders.models import Order, OrderEvent
from shops.models import BalanceEntry
from shops.services import balance_credit

pytestmark = pytest.mark.django_db(transaction=True)


def test_a6_duplicate_refund_events_racing_after_settlement_move_money_once(
    shop_a, no_module_consumers
):
    # given: a settled commission of ¥9.50 on a ¥100 order
    balance_credit(
        shop=shop_a, amount=Money(1000_00, "CNY"), reason="top-up", idempotency_key="top"
    )
    affkit.enable(shop_a, rate_bp=1000)
    click = affkit.click(affkit.link(shop_a), at=clock.now() - timedelta(hours=1))
    sku = first_sku(make_product(shop_a, price_minor=100_00))
    order = make_order(shop_a, sku=sku, status="completed", affiliate_click_id=click.click_id)
    affkit.apply_events(order)
    services.commissions_pre_issue()
    c = Commission.objects.get(order=order)
    services.commissions_settle(now=c.settle_due_at)
    c.refresh_from_db()
    assert c.status == "settled"

    # when: half the order is refunded and its event handed to two workers at once
    orders.order_refund(
        order=Order.objects.get(pk=order.pk),
        refund_id="r-race",
        amount_minor=50_00,
        refunded_at=clock.now(),
    )
    event = OrderEvent.objects.get(order=order, type="order.refunded")
    start = threading.Barrier(2)
    errors = []

    def worker():
        try:
            start.wait(10)
            handle_event(OrderEvent.objects.get(pk=event.pk))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    # then: one reversal of half, one shop credit, one clawback
    assert errors == []
    c.refresh_from_db()
    assert (c.status, c.reversed_minor, c.settled_minor) == ("settled", 4_75, 4_75)
    credits = BalanceEntry.objects.filter(idempotency_key__startswith=f"affiliate:reverse:{c.pk}:")
    assert [e.amount_minor for e in credits] == [4_75]
    clawbacks = PromoterEntry.objects.filter(kind="clawback", commission=c)
    assert [e.amount_minor for e in clawbacks] == [-4_75]
