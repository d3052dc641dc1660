"""SPEC §0: an ``event_id`` sent again with a *different* payload is a final rejection with its
own code — never applied, never answered ``duplicate``. The same payload stays ``duplicate``."""

from datetime import datetime

import pytest

from orders.models import IngestedEvent, Order

from .support import ev, order_created_data


@pytest.fixture
def first(sender, shop_a, buyer, sku_a):
    event = ev("order.created", order_created_data(shop_a, buyer, sku_a, number="RE-1"))
    assert sender.one(event)["status"] == "applied"
    return event


def test_s0_same_id_same_payload_is_a_duplicate(sender, first):
    # when: the very same event again, keys reordered (the canonical form is compared)
    again = {k: first[k] for k in reversed(list(first))}
    result = sender.one(again)

    # then
    assert result["status"] == "duplicate"
    assert result["original_status"] == "applied"


def test_s0_same_id_other_payload_is_refused_as_reused(sender, first, shop_a, buyer, sku_a):
    # given: another order under the first event's id
    other = ev(
        "order.created",
        order_created_data(shop_a, buyer, sku_a, number="RE-2"),
        event_id=first["event_id"],
        at=datetime.fromisoformat(first["occurred_at"]),
    )

    # when
    result = sender.one(other)
    again = sender.one(other)

    # then: refused for good (not retryable), nothing applied, the first record untouched
    assert result["status"] == "rejected"
    assert result["code"] == "event_id_reused"
    assert result["retryable"] is False
    assert first["event_id"] in result["message"]
    assert again["code"] == "event_id_reused"
    assert not Order.objects.filter(number="RE-2").exists()
    record = IngestedEvent.objects.get(event_id=first["event_id"])
    assert record.status == "applied"
    assert len(record.payload_hash) == 64


def test_s0_reused_id_with_another_time_only_is_refused_too(sender, first):
    # given: same type and data, another occurred_at
    changed = {**first, "occurred_at": "2026-01-01T00:00:00Z"}

    # then
    assert sender.one(changed)["code"] == "event_id_reused"


def test_s0_reused_id_inside_one_batch_is_refused(sender, shop_a, buyer, sku_a):
    # given: two events of one batch under one id, different payloads
    a = ev("order.created", order_created_data(shop_a, buyer, sku_a, number="RE-3"))
    b = ev(
        "order.created",
        order_created_data(shop_a, buyer, sku_a, number="RE-4"),
        event_id=a["event_id"],
    )

    # when
    results = sender.results([a, b])

    # then
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert results[1]["code"] == "event_id_reused"
    assert not Order.objects.filter(number="RE-4").exists()


def test_s0_events_recorded_before_fingerprints_stay_duplicates(sender, first):
    # given: a record from before payload hashes were kept
    IngestedEvent.objects.filter(event_id=first["event_id"]).update(payload_hash="")

    # then: nothing to compare with, so the old answer stands
    assert sender.one(first)["status"] == "duplicate"
