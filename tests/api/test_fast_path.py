"""The bulk path for order.created / order.paid writes what the services would write, refuses
with the services' codes, emits the same domain events, and costs a handful of queries."""

from datetime import timedelta

import pytest

from core import clock
from core.errors import DomainError
from orders import services
from orders.ingest import base as ingest_base
from orders.models import IngestedEvent, Order, OrderEvent, OrderLine, Payment, ShopDailyStats

from .support import ev, order_created_data, order_paid_data

ORDER_FIELDS = (
    "number",
    "status",
    "currency",
    "subtotal_minor",
    "shipping_fee_minor",
    "coupon_discount_minor",
    "coin_deduction_coins",
    "coin_deduction_minor",
    "platform_subsidy_minor",
    "cashback_red_packet_minor",
    "amount_paid_minor",
    "payment_method",
    "logistics_service",
    "activity_id",
    "affiliate_click_id",
    "country",
    "placed_at",
    "paid_at",
)
STATS_FIELDS = (
    "day",
    "orders_created",
    "orders_paid",
    "orders_cancelled",
    "orders_shipped",
    "gmv_minor",
    "status_pending_payment",
    "status_paid",
)


def _snapshot(shop):
    orders = list(Order.objects.filter(shop=shop).order_by("number").values(*ORDER_FIELDS))
    lines = list(
        OrderLine.objects.filter(order__shop=shop)
        .order_by("order__number", "id")
        .values("order__number", "sku__code", "quantity", "unit_price_minor")
    )
    payments = list(
        Payment.objects.filter(order__shop=shop)
        .order_by("order__number")
        .values("order__number", "amount_minor", "currency", "method", "paid_at")
    )
    stats = list(ShopDailyStats.objects.filter(shop=shop).order_by("day").values(*STATS_FIELDS))
    return orders, lines, payments, stats


@pytest.fixture
def two_shops():
    """Two shops with the same catalogue: one fed by the API, one by direct service calls."""
    import factories

    shops = []
    for name in ("fast", "slow"):
        shop = factories.make_shop(external_id=f"shop-{name}", currency="CNY")
        factories.make_product(
            shop,
            skus=[
                {"code": "K-1", "price_minor": 30_00, "stock": 50},
                {"code": "K-2", "price_minor": 12_50, "stock": 50},
            ],
        )
        shops.append(shop)
    return shops


def test_s0_fast_path_writes_exactly_what_the_services_write(
    sender, two_shops, buyer, django_capture_on_commit_callbacks, no_coin_guard
):
    # given the same orders, some paid in the same batch, one paid in a later batch, over two days
    fast_shop, slow_shop = two_shops
    t0 = clock.now().replace(hour=15, minute=30, second=0, microsecond=0) - timedelta(days=2)
    plans = []
    for i in range(6):
        placed = t0 + timedelta(hours=5 * i)  # crosses Asia/Shanghai midnight
        extra = {
            "shipping_fee_minor": 3_00 * i,
            "coupon_discount_minor": 1_00 * (i % 2),
            "coin_deduction_coins": 50 * i,
            "coin_deduction_minor": 50 * i,
            "payment_method": "card",
            "affiliate_click_id": f"clk-{i}" if i % 3 == 0 else "",
            "activity_id": 7 if i == 2 else None,
        }
        lines = [
            {"sku": "K-1", "quantity": i + 1, "unit_price_minor": 30_00},
            {"sku": "K-2", "quantity": 1, "unit_price_minor": 12_50},
        ]
        plans.append((f"F-{i}", placed, extra, lines))

    def due(extra, lines):
        sub = sum(x["quantity"] * x["unit_price_minor"] for x in lines)
        return (
            sub
            + extra["shipping_fee_minor"]
            - extra["coupon_discount_minor"]
            - extra["coin_deduction_minor"]
        )

    # when the API receives them (created + paid of 0-3 in one batch, 4-5 created only) ...
    batch = []
    for n, placed, extra, lines in plans:
        batch.append(
            ev(
                "order.created",
                {
                    "shop_id": fast_shop.external_id,
                    "order_number": n,
                    "buyer_id": buyer.external_id,
                    "lines": lines,
                    **extra,
                },
                at=placed,
            )
        )
        if n in ("F-0", "F-1", "F-2", "F-3"):
            batch.append(
                ev(
                    "order.paid",
                    order_paid_data(fast_shop, number=n, amount=due(extra, lines)),
                    at=placed + timedelta(minutes=20),
                )
            )
    with django_capture_on_commit_callbacks(execute=True):
        assert {r["status"] for r in sender.results(batch)} == {"applied"}
    # ... then F-4 is paid in a batch of its own (an existing order: the locked path)
    n, placed, extra, lines = plans[4]
    with django_capture_on_commit_callbacks(execute=True):
        paid = ev(
            "order.paid",
            order_paid_data(fast_shop, number=n, amount=due(extra, lines)),
            at=placed + timedelta(hours=30),
        )
        assert sender.one(paid)["status"] == "applied"
    # and the services receive the same facts for the other shop
    from shops.models import Sku

    skus = {s.code: s for s in Sku.objects.filter(shop=slow_shop)}
    for n, placed, extra, lines in plans:
        with django_capture_on_commit_callbacks(execute=True):
            order = services.order_create(
                services.OrderInput(
                    shop=slow_shop,
                    buyer=buyer,
                    number=n,
                    placed_at=placed,
                    lines=[
                        services.LineInput(
                            sku=skus[x["sku"]],
                            quantity=x["quantity"],
                            unit_price_minor=x["unit_price_minor"],
                        )
                        for x in lines
                    ],
                    **extra,
                )
            )
        if n in ("F-0", "F-1", "F-2", "F-3"):
            with django_capture_on_commit_callbacks(execute=True):
                services.order_pay(
                    order=order,
                    payment_id=f"svc-{n}",
                    amount_minor=due(extra, lines),
                    method="card",
                    paid_at=placed + timedelta(minutes=20),
                )
    n, placed, extra, lines = plans[4]
    with django_capture_on_commit_callbacks(execute=True):
        services.order_pay(
            order=Order.objects.get(shop=slow_shop, number=n),
            payment_id="svc-F-4",
            amount_minor=due(extra, lines),
            method="card",
            paid_at=placed + timedelta(hours=30),
        )

    def log(shop):
        return [
            (e.type, e.order.number, e.occurred_at, e.payload)
            for e in OrderEvent.objects.filter(shop=shop).select_related("order").order_by("id")
        ]

    # then orders, lines, payments and daily stats are identical, and so is the order event log
    assert _snapshot(fast_shop) == _snapshot(slow_shop)
    assert log(fast_shop) == log(slow_shop)
    assert len(log(fast_shop)) == 11


@pytest.mark.parametrize(
    ("data_change", "code"),
    [
        ({"coupon_discount_minor": 10**9}, "invalid_amount"),
        ({"coin_deduction_minor": 10**9}, "coins_exceed_payable"),
        ({"payment_method": ""}, None),
        (
            {"lines": [{"sku": "K-1", "quantity": 10_000, "unit_price_minor": 10**9}]},
            "invalid_amount",
        ),
    ],
)
def test_s0_fast_path_refuses_like_order_create(sender, two_shops, buyer, data_change, code):
    # given an order.created the bulk path takes
    fast_shop, slow_shop = two_shops
    data = {
        "shop_id": fast_shop.external_id,
        "order_number": "R-1",
        "buyer_id": buyer.external_id,
        "lines": [{"sku": "K-1", "quantity": 1, "unit_price_minor": 30_00}],
        **data_change,
    }
    # when
    result = sender.one(ev("order.created", data))
    # then it answers with the code order_create raises for the same input
    from shops.models import Sku

    skus = {s.code: s for s in Sku.objects.filter(shop=slow_shop)}
    kwargs = {
        k: v for k, v in data.items() if k not in {"shop_id", "order_number", "buyer_id", "lines"}
    }
    try:
        services.order_create(
            services.OrderInput(
                shop=slow_shop,
                buyer=buyer,
                number="R-1",
                placed_at=clock.now(),
                lines=[
                    services.LineInput(
                        sku=skus[x["sku"]],
                        quantity=x["quantity"],
                        unit_price_minor=x["unit_price_minor"],
                    )
                    for x in data["lines"]
                ],
                **kwargs,
            )
        )
        service_code = None
    except DomainError as exc:
        service_code = exc.code
    assert service_code == code
    assert result.get("code") == code


def test_s0_fast_path_payment_checks_match_order_pay(sender, shop_a, buyer, sku_a):
    # given three pending orders
    created = [
        ev("order.created", order_created_data(shop_a, buyer, sku_a, number=f"P-{i}"))
        for i in range(3)
    ]
    sender.results(created)
    later = clock.now() + timedelta(minutes=1)
    # when they are paid wrongly and rightly in one batch
    results = sender.results(
        [
            ev(
                "order.paid",
                order_paid_data(shop_a, number="P-0", amount=sku_a.price_minor - 1),
                at=later,
            ),
            ev(
                "order.paid",
                order_paid_data(shop_a, number="P-1", amount=sku_a.price_minor),
                at=clock.now() - timedelta(days=1),
            ),
            ev(
                "order.paid",
                order_paid_data(shop_a, number="P-2", amount=sku_a.price_minor),
                at=later,
            ),
        ]
    )
    # then the same codes as order_pay, and only P-2 is paid
    assert [r.get("code") for r in results] == ["amount_mismatch", "invalid_time", None]
    assert list(Order.objects.filter(status="paid").values_list("number", flat=True)) == ["P-2"]
    assert ShopDailyStats.objects.get(shop=shop_a).orders_paid == 1


def test_s0_fast_path_query_count_is_independent_of_batch_size(
    sender, shop_a, sku_a, django_assert_max_num_queries
):
    # given 200 buyers and their orders (the coins checkout guard connected: orders without
    # coins cost it nothing, and the guard runs without a savepoint per order)
    import factories

    buyers = [factories.make_buyer() for _ in range(200)]
    created = [
        ev("order.created", order_created_data(shop_a, b, sku_a, number=f"Q-{i}"))
        for i, b in enumerate(buyers)
    ]
    # when the batch is sent: a handful of queries, not a few per event
    with django_assert_max_num_queries(20):
        results = sender.results(created)
    assert {r["status"] for r in results} == {"applied"}
    # and paying them is just as cheap
    later = clock.now() + timedelta(seconds=1)
    paid = [
        ev(
            "order.paid",
            order_paid_data(shop_a, number=f"Q-{i}", amount=sku_a.price_minor),
            at=later,
        )
        for i in range(200)
    ]
    with django_assert_max_num_queries(20):
        results = sender.results(paid)
    assert {r["status"] for r in results} == {"applied"}
    assert ShopDailyStats.objects.filter(shop=shop_a).values_list(
        "orders_created", "orders_paid"
    ).get() == (200, 200)
    assert IngestedEvent.objects.count() == 400


def test_s0_fast_path_conflict_falls_back_to_the_slow_path(
    sender, shop_a, buyer, sku_a, monkeypatch, caplog
):
    # given an order that exists, but that the batch's prefetch does not see (as if a concurrent
    # batch had committed it in between)
    sender.one(ev("order.created", order_created_data(shop_a, buyer, sku_a, number="X-1")))
    real_prefetch = ingest_base.BatchContext.prefetch

    def blind_prefetch(self, events):
        recorded = real_prefetch(self, events)
        self.orders.clear()
        return recorded

    monkeypatch.setattr(ingest_base.BatchContext, "prefetch", blind_prefetch)
    # when a batch creates it again alongside two new ones (all three on the bulk path)
    with caplog.at_level("INFO", logger="orders.ingest.pipeline"):
        results = sender.results(
            [
                ev("order.created", order_created_data(shop_a, buyer, sku_a, number="X-2")),
                ev("order.created", order_created_data(shop_a, buyer, sku_a, number="X-1")),
                ev("order.created", order_created_data(shop_a, buyer, sku_a, number="X-3")),
            ]
        )
    # then the bulk insert's conflict is replayed one by one: duplicate refused, the rest applied
    assert "fast path run of 3 events replayed one by one" in caplog.text
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["code"] == "duplicate_order"
    assert Order.objects.filter(shop=shop_a).count() == 3
    assert ShopDailyStats.objects.get(shop=shop_a).orders_created == 3
    assert IngestedEvent.objects.count() == 4


def test_s0_one_round_trip_resolves_a_batch_and_finds_its_repeated_ids(sender, shop_a, sku_a):
    # given an order already received, and a buyer
    import factories
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    buyer = factories.make_buyer()
    first = ev("order.created", order_created_data(shop_a, buyer, sku_a, number="R-1"))
    sender.results([first])
    # when a batch repeats its event and pays it, and creates another order
    batch = [
        first,
        ev("order.paid", order_paid_data(shop_a, number="R-1", amount=sku_a.price_minor)),
        ev("order.created", order_created_data(shop_a, buyer, sku_a, number="R-2")),
    ]
    with CaptureQueriesContext(connection) as ctx:
        results = sender.results(batch)
    # then the records of its ids, its shop, SKUs, orders and buyer are read in one round trip
    reads = [q["sql"] for q in ctx.captured_queries if "orders_ingestedevent" in q["sql"]]
    prefetch = reads[0]
    for table in (
        "orders_ingestedevent",
        "shops_shop",
        "shops_sku",
        "orders_order",
        "buyers_buyer",
    ):
        assert f'FROM "{table}"' in prefetch, table
    # and what it read decides: the repeat is a duplicate, the payment finds the order
    assert [r["status"] for r in results] == ["duplicate", "applied", "applied"]
    assert Order.objects.get(number="R-1").status == "paid"
    assert Order.objects.filter(number="R-2").exists()


def test_s0_a_batch_whose_first_write_is_a_bulk_run_takes_no_savepoint_for_it(
    sender, shop_a, buyer, sku_a, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    prefetches = []
    blind = []  # while set: the prefetch does not see existing orders (a concurrent writer's)
    real_prefetch = ingest_base.BatchContext.prefetch

    def counted(self, events):
        prefetches.append(1)
        recorded = real_prefetch(self, events)
        if blind:
            blind.clear()
            self.orders.clear()
        return recorded

    monkeypatch.setattr(ingest_base.BatchContext, "prefetch", counted)

    def savepoints(batch) -> tuple[list[dict], int]:
        with CaptureQueriesContext(connection) as ctx:
            results = sender.results(batch)
        # (the test's own transaction makes the batch's transaction a savepoint: one of them)
        return results, sum(1 for q in ctx.captured_queries if q["sql"].startswith("SAVEPOINT"))

    # a batch of bulk events only: its run is the batch's first write, no savepoint of its own
    results, taken = savepoints(
        [ev("order.created", order_created_data(shop_a, buyer, sku_a, number="N-1"))]
    )
    assert results[0]["status"] == "applied"
    assert taken == 1

    # a run after an event of the slow path keeps its savepoint: one more than the slow event's
    def upsert(n: int) -> dict:
        data = {"buyer_id": f"sp-{n}", "email": f"sp{n}@example.com", "country": "FR"}
        return ev("buyer.upserted", data)

    _results, alone = savepoints([upsert(1)])
    results, taken = savepoints(
        [
            upsert(2),
            ev("order.created", order_created_data(shop_a, buyer, sku_a, number="N-2")),
        ]
    )
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert taken == alone + 1
    # when that first run fails (an order number taken by a writer its prefetch did not see),
    # the whole batch runs again with the run one event at a time: nothing of the first
    # attempt stays, and only the duplicate is refused
    prefetches.clear()
    blind.append(1)
    results = sender.results(
        [
            ev("order.created", order_created_data(shop_a, buyer, sku_a, number="N-3")),
            ev("order.created", order_created_data(shop_a, buyer, sku_a, number="N-1")),
        ]
    )
    assert len(prefetches) == 2
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert results[1]["code"] == "duplicate_order"
    assert Order.objects.filter(shop=shop_a, number="N-3").count() == 1
    assert ShopDailyStats.objects.get(shop=shop_a).orders_created == 3
