"""An ingested batch hands its order events to delivery once, after it commits (DESIGN §1b)."""

import pytest

from orders import events
from orders.models import OrderEvent
from tests.eventprobe import consumer as probe_consumer

from .support import ev, order_created_data, order_paid_data


@pytest.fixture
def probe():
    c = probe_consumer.register()
    yield c
    events.unregister(c.name)


@pytest.mark.django_db(transaction=True)
def test_one_delivery_hand_off_per_batch_with_every_event_of_it(
    sender, shop_a, buyer, sku_a, probe, monkeypatch
):
    # given
    calls = []
    monkeypatch.setattr(events, "enqueue", lambda ids: calls.append(sorted(ids)))
    batch = []
    for n in ("E-1", "E-2"):
        batch.append(ev("order.created", order_created_data(shop_a, buyer, sku_a, number=n)))
    batch.append(ev("order.paid", order_paid_data(shop_a, number="E-1", amount=sku_a.price_minor)))

    # when
    results = sender.results(batch)

    # then: applied, logged, handed off once after the commit
    assert [r["status"] for r in results] == ["applied"] * 3
    ids = sorted(OrderEvent.objects.values_list("id", flat=True))
    assert len(ids) == 3
    assert calls == [ids]
