"""orders.ingest.rows.write_many: the fast path's writes after its orders, in one round trip on
PostgreSQL — the same rows as the ORM would write, primary keys handed back."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from factories import make_order, make_shop

from orders import events as domain_events
from orders.ingest.rows import Rows, write_many
from orders.models import Order, OrderEvent, OrderLine, OrderStatus


@pytest.fixture
def order(db):
    order = make_order(make_shop(), status=OrderStatus.PENDING_PAYMENT)
    return order, order.lines.get().sku


@pytest.mark.parametrize("vendor", ["postgresql", "other"])
def test_rows_objects_and_statements_are_written_in_order_and_keys_come_back(
    order, vendor, monkeypatch
):
    order, sku = order
    if vendor == "other":  # the portable path (as on SQLite): bulk_create and one statement each
        monkeypatch.setattr(connection, "vendor", "other")
    event = domain_events.row(
        "order.created",
        shop_id=order.shop_id,
        order_id=order.pk,
        occurred_at=order.placed_at,
        buyer_id=order.buyer_id,
    )
    table = connection.ops.quote_name(Order._meta.db_table)
    with CaptureQueriesContext(connection) as ctx:
        lines, events, nothing = write_many(
            [
                Rows(
                    OrderLine,
                    [
                        {
                            "order_id": order.pk,
                            "sku_id": sku.pk,
                            "quantity": q,
                            "unit_price_minor": 5,
                        }
                        for q in (1, 2)
                    ],
                ),
                None,  # skipped
                [],  # skipped
                (f"UPDATE {table} SET tracking_number = %s WHERE id = %s", ["T-1", order.pk]),
                Rows(OrderEvent, [event]),
                Rows(OrderLine, []),  # nothing to write: no keys, no statement
            ]
        )
    assert len(ctx.captured_queries) == (1 if vendor == "postgresql" else 3)
    assert nothing == []
    new_lines = OrderLine.objects.filter(pk__in=lines).order_by("pk")
    assert [(x.order_id, x.quantity) for x in new_lines] == [(order.pk, 1), (order.pk, 2)]
    written = OrderEvent.objects.get(pk=events[0])
    assert (written.type, written.order_id, written.payload) == (
        "order.created",
        order.pk,
        {"buyer_id": order.buyer_id},
    )
    assert written.created_at is not None
    order.refresh_from_db()
    assert order.tracking_number == "T-1"


def test_a_failing_statement_stops_the_round_trip_and_the_rest_is_not_written(order):
    from django.db import IntegrityError, transaction

    order, sku = order
    lines, events = OrderLine.objects.count(), OrderEvent.objects.count()
    bad_line = {"order_id": order.pk, "sku_id": sku.pk, "quantity": 0, "unit_price_minor": 5}
    event = domain_events.row(
        "order.created",
        shop_id=order.shop_id,
        order_id=order.pk,
        occurred_at=order.placed_at,
        buyer_id=order.buyer_id,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        # quantity 0: refused by its CHECK constraint; the event after it is not written
        write_many([Rows(OrderLine, [bad_line]), Rows(OrderEvent, [event])])
    assert (OrderLine.objects.count(), OrderEvent.objects.count()) == (lines, events)


def test_rows_refuse_a_field_the_model_does_not_have(order):
    order, _sku = order
    with pytest.raises(TypeError, match="no field"):
        write_many([Rows(OrderLine, [{"order_id": order.pk, "colour": "red"}])])


def test_objects_get_their_keys(order):
    order, sku = order
    line = OrderLine(order=order, sku=sku, quantity=3, unit_price_minor=7)
    assert write_many([[line]]) == []
    assert line.pk is not None
    assert not line._state.adding
    assert OrderLine.objects.get(pk=line.pk).quantity == 3
