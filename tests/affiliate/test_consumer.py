"""SPEC A-5, A-6 through the real order event log: transactions commit, the consumer
``affiliate`` receives each event once, and its effects are those of the services."""

from datetime import timedelta

import affkit
import pytest
from factories import first_sku, make_order, make_product

from affiliate.models import Commission
from affiliate.tasks import affiliate_pre_issue_task
from core import clock
from orders.models import ConsumedEvent, ConsumerFailure, OrderEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_a6_order_events_lock_then_pre_issue_once(shop_a):
    # given: a click on a shop with a programme
    affkit.enable(shop_a, rate_bp=1000)
    click = affkit.click(affkit.link(shop_a), at=clock.now() - timedelta(minutes=5))
    sku = first_sku(make_product(shop_a, price_minor=100_00))

    # when: the order is created with the click cookie and paid (each step commits)
    order = make_order(shop_a, sku=sku, status="pending_payment", affiliate_click_id=click.click_id)
    assert Commission.objects.get(order=order).status == "locked"
    order = make_order(shop_a, sku=sku, status="paid", affiliate_click_id=click.click_id)

    # then: locked with the payment noted, pre-issued by the job (through JSON, as on a worker)
    c = Commission.objects.get(order=order)
    assert (c.status, c.amount_minor) == ("locked", 9_50)
    assert c.paid_at is not None
    assert affiliate_pre_issue_task.delay().get() >= 1
    assert Commission.objects.get(order=order).status == "pre_issued"
    paid = OrderEvent.objects.get(order=order, type="order.paid")
    assert ConsumedEvent.objects.filter(consumer="affiliate", event=paid).count() == 1
    assert not ConsumerFailure.objects.filter(consumer="affiliate").exists()
