"""SPEC B-6 through real order events: the ``buyers.activity`` consumer records a buyer's first
payment from ``order.paid`` (transactions commit, delivery runs as in production)."""

from datetime import timedelta

import pytest
import time_machine
from factories import first_sku, make_order, make_product

from buyers import services
from buyers.consumers import CONSUMER
from buyers.models import Buyer
from buyers.tasks import buyers_low_activity_task
from core import clock
from orders import events
from orders.models import ConsumedEvent, ConsumerFailure

pytestmark = pytest.mark.django_db(transaction=True)


def _signup_buyer(email="b6@example.com"):
    return services.accounts.buyer_register(
        contact=services.parse_contact(email), password="Tr1cky-pass", country="CN"
    ).buyer


def test_b6_consumer_is_registered():
    assert CONSUMER in {c.name for c in events.consumers()}


def test_b6_first_payment_from_the_order_event_log_prevents_the_flag(shop_a):
    # given
    buyer = _signup_buyer()
    sku = first_sku(make_product(shop_a))

    # when: the buyer pays an order, then a second one
    make_order(shop_a, buyer, sku=sku, status="paid")
    first_paid = Buyer.objects.get(pk=buyer.pk).first_paid_at
    make_order(shop_a, buyer, sku=sku, status="paid")

    # then
    assert list(ConsumerFailure.objects.values_list("consumer", "last_error")) == []
    assert ConsumedEvent.objects.filter(consumer=CONSUMER).count() == 2
    assert first_paid is not None
    assert Buyer.objects.get(pk=buyer.pk).first_paid_at == first_paid
    with time_machine.travel(clock.now() + timedelta(hours=80), tick=False):
        assert buyers_low_activity_task.delay().get() == 0
    assert Buyer.objects.get(pk=buyer.pk).low_activity is False


def test_b6_an_unpaid_order_does_not_count(shop_a):
    buyer = _signup_buyer()
    make_order(shop_a, buyer, sku=first_sku(make_product(shop_a)), status="pending_payment")
    with time_machine.travel(clock.now() + timedelta(hours=72), tick=False):
        assert buyers_low_activity_task.delay().get() == 1
    assert Buyer.objects.get(pk=buyer.pk).low_activity is True
