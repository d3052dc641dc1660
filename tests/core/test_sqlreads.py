"""core.sqlreads: hand-written reads for hot paths (the ingestion's prefetch, a request's
integration, the coin checkout's locks) — the same rows and model instances as the ORM."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from factories import make_buyer

from buyers.models import Buyer
from core import clock
from core.sqlreads import in_list, models_from_rows, run_many, select_sql
from integrations.models import Integration
from integrations.services import integration_create
from orders.models import IngestedEvent


def _ingested(integration: Integration, event_id: str, result) -> IngestedEvent:
    return IngestedEvent.objects.create(
        integration=integration,
        event_id=event_id,
        type="order.created",
        status="applied",
        result=result,
        occurred_at=clock.now() - timedelta(minutes=1),
        received_at=clock.now(),
        payload_hash="0" * 64,
    )


def test_several_reads_take_one_round_trip_and_each_gets_its_own_rows(db):
    integration, _secret = integration_create(name="reads")
    first = _ingested(integration, "ev-1", {"order_id": 7, "order_status": "paid"})
    _ingested(integration, "ev-2", None)
    buyers = [make_buyer() for _ in range(3)]
    ids = ["ev-1", "missing"]
    externals = [b.external_id for b in buyers[:2]]
    with CaptureQueriesContext(connection) as ctx:
        recorded, found, nothing = run_many(
            [
                (select_sql(IngestedEvent, f'"event_id" IN {in_list(ids)}'), ids),
                (select_sql(Buyer, f'"external_id" IN {in_list(externals)}'), externals),
                (select_sql(Buyer, '"external_id" = %s'), ["nobody"]),
            ]
        )
    assert len(ctx.captured_queries) == 1  # one round trip for the three
    assert nothing == []
    # the rows become the same instances the ORM gives, converted as it converts them
    (record,) = models_from_rows(IngestedEvent, recorded)
    assert record == first
    assert record.result == {"order_id": 7, "order_status": "paid"}
    assert record.occurred_at == first.occurred_at
    assert record.received_at == first.received_at
    assert record.integration_id == integration.pk
    assert not record._state.adding
    got = sorted(models_from_rows(Buyer, found), key=lambda b: b.pk)
    want = sorted(Buyer.objects.filter(external_id__in=externals), key=lambda b: b.pk)
    assert [vars_of(b) for b in got] == [vars_of(b) for b in want]


def vars_of(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_on_another_database_each_read_is_its_own_statement(db, monkeypatch):
    # (the portable path, as on SQLite: no multi-statement query)
    monkeypatch.setattr(connection, "vendor", "other")
    buyer = make_buyer()
    with CaptureQueriesContext(connection) as ctx:
        one, two = run_many(
            [
                (select_sql(Buyer, '"external_id" = %s'), [buyer.external_id]),
                (select_sql(Buyer, '"id" = %s'), [buyer.pk]),
            ]
        )
    assert len(ctx.captured_queries) == 2
    assert models_from_rows(Buyer, one)[0].pk == models_from_rows(Buyer, two)[0].pk == buyer.pk
    assert run_many([]) == []


@pytest.mark.parametrize("hostile", ["x'); DROP TABLE buyers_buyer; --", "%s", "a;\nb", 'é"\\'])
def test_parameters_are_bound_not_spliced(db, hostile):
    make_buyer()
    (rows,) = run_many([(select_sql(Buyer, '"external_id" = %s'), [hostile])])
    assert rows == []
    assert Buyer.objects.count() == 1
