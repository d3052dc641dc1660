"""Eager tasks in tests receive their arguments through JSON, as a worker does (DESIGN §4:
task arguments are ids and plain values, never model instances)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from celery import Celery
from kombu.exceptions import EncodeError

# An app of its own (eager, like the product's app in tests), so the product's task registry
# stays as it is.
app = Celery("tests", set_as_current=False)
app.conf.update(task_always_eager=True, task_eager_propagates=True)
received = []


@app.task(name="tests.echo_arguments_task")
def echo_arguments(*args, **kwargs):
    received.append((args, kwargs))
    return len(received)


@pytest.fixture(autouse=True)
def _clear():
    received.clear()


def test_eager_task_arguments_arrive_as_a_worker_would_receive_them():
    # given: a tuple, a datetime and a Decimal
    at = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    # when
    echo_arguments.delay((1, 2), at=at, amount=Decimal("1.50"))

    # then: the tuple arrives as a list; kombu's JSON keeps datetimes and decimals typed
    assert received == [(([1, 2],), {"at": at, "amount": Decimal("1.50")})]
    assert isinstance(received[0][0][0], list)


@pytest.mark.parametrize("value", [{1, 2}, object(), 1 + 2j])
def test_an_argument_json_cannot_carry_fails_in_tests_as_in_production(value):
    # when / then
    with pytest.raises(EncodeError):
        echo_arguments.apply_async(args=(value,))
    assert received == []


def test_a_model_instance_is_refused(shop_a):
    # when / then: pass shop_a.pk, not the shop
    with pytest.raises(EncodeError):
        echo_arguments.delay(shop=shop_a)
    echo_arguments.delay(shop_id=shop_a.pk)
    assert received == [((), {"shop_id": shop_a.pk})]
