"""The ``redemption`` benchmark at a tiny scale (SPEC C-3, C-6): its fixtures, its signed
``order.created`` events carrying coins through the real API, and its hand-written SQL baseline
against the test database — both sides must write the same redemptions and movements and
leave a ledger that reconciles. Timings are never asserted (DESIGN §8)."""

import argparse
import json
from zoneinfo import ZoneInfo

import pytest
from api.support import signed_headers
from django.db import connection
from django.test import Client

from bench import djangotasks, redemption
from coins.models import CoinFund, CoinLot, CoinRedemption, CoinRedemptionPart, CoinWallet
from integrations.services import integration_create
from orders.models import IngestedEvent, Order, OrderEvent


def _url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_c3_redemption_bench_api_and_sql_baseline_write_the_same_coin_rows():
    # given: two coin shops, three buyers with four lots of 2,000 coins in each shop
    fixtures = djangotasks.cmd_redemption_fixtures(
        argparse.Namespace(shops=2, buyers=3, lot_coins=2000, tag="T1")
    )
    fixtures = json.loads(json.dumps(fixtures, default=str))  # as the harness receives it
    cv = fixtures["coin_value_minor"]
    api_work = redemption.plan(fixtures=fixtures, orders=6, batch=3, tag="RAT1", seed=1)
    sql_work = redemption.plan(fixtures=fixtures, orders=6, batch=3, tag="RBT1", seed=1)
    assert [len(b) for b in api_work.batches] == [3, 3]
    assert all(len({o.shop["id"] for o in b}) == 1 for b in api_work.batches)
    integration, secret = integration_create(name="bench-redeem-test")
    client = Client()

    # when: the API side posts its batches, signed
    for batch in api_work.batches:
        body = redemption.batch_body(batch, cv)
        response = client.post(
            "/api/v1/events",
            body,
            content_type="application/json",
            **signed_headers(key_id=integration.key_id, secret=secret, body=body),
        )
        assert response.status_code == 200
        assert {r["status"] for r in response.json()["results"]} == {"applied"}
    # and the baseline writes the same orders' rows by hand
    ctx = redemption.BaselineContext(
        tables=fixtures["tables"],
        coin_value_minor=cv,
        integration_id=integration.pk,
        tz=ZoneInfo(fixtures["platform_time_zone"]),
    )
    result = redemption.run_baseline(url=_url(), ctx=ctx, work=sql_work, clients=2)

    # then: every table the API writes for these events got the same rows from both sides
    # (one order, line, order-event row, idempotency record, redemption and movement per
    # order, two entries per movement); the daily figures count every order; balances reconcile
    assert result.orders == 6
    check = djangotasks.cmd_redemption_check(argparse.Namespace(tag="T1", prefix=["RAT1", "RBT1"]))
    for prefix in ("RAT1", "RBT1"):
        rows = check[prefix]
        assert {k: rows[k] for k in redemption.ONE_PER_ORDER} == dict.fromkeys(
            redemption.ONE_PER_ORDER, 6
        )
        assert rows["entries"] == 12
        assert rows["coins"] == api_work.coins == sql_work.coins
    assert check["daily_stats"] == {"orders_created": 12, "pending": 12, "orders": 12}
    assert check["reconciled"] is True
    # the baseline's idempotency records and event-log rows are those the API writes
    api_rec, sql_rec = (
        IngestedEvent.objects.filter(event_id__startswith=p).order_by("event_id").first()
        for p in ("RAT1", "RBT1")
    )
    assert sql_rec.result.keys() == api_rec.result.keys()
    assert (sql_rec.status, sql_rec.type, len(sql_rec.payload_hash)) == (
        api_rec.status,
        api_rec.type,
        len(api_rec.payload_hash),
    )
    api_ev, sql_ev = (
        OrderEvent.objects.get(order__number=f"{p}-0000001") for p in ("RAT1", "RBT1")
    )
    assert (sql_ev.type, sql_ev.payload.keys()) == (api_ev.type, api_ev.payload.keys())
    assert check["fund_spent"] == 2 * api_work.coins
    assert Order.objects.filter(number__startswith="RBT1").count() == 6
    for prefix in ("RAT1", "RBT1"):
        parts = CoinRedemptionPart.objects.filter(redemption__order_number__startswith=prefix)
        assert sum(p.coins for p in parts) == api_work.coins
    # soonest-expiring lots first (C-6): a wallet's later lot is touched only once the
    # earlier ones are empty
    for wallet in CoinWallet.objects.filter(shop_id__in=[s["id"] for s in fixtures["shops"]]):
        lots = list(CoinLot.objects.filter(wallet=wallet).order_by("expires_at"))
        touched = [lot.remaining < lot.granted for lot in lots]
        assert touched == sorted(touched, reverse=True)
        assert wallet.balance == sum(lot.remaining for lot in lots)
    assert (
        CoinRedemption.objects.filter(order_number__startswith="RBT1", order__isnull=True).count()
        == 0
    )
    assert (
        sum(
            f.spent
            for f in CoinFund.objects.filter(shop_id__in=[s["id"] for s in fixtures["shops"]])
        )
        == 2 * api_work.coins
    )


def test_c6_redemption_baseline_spends_the_soonest_expiring_lots_first():
    # given lots (id, expires_at, remaining): lot 2 expires first, lot 3 is empty
    lots = [(1, 30, 100), (2, 10, 50), (3, 5, 0), (4, 30, 100)]
    # when / then
    assert redemption.spend(lots, 120) == [(2, 50), (1, 70)]
    with pytest.raises(redemption.BenchError, match="fewer than 500"):
        redemption.spend(lots, 500)
