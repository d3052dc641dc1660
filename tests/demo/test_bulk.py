"""demo.bulk: a plan built in memory and written in bulk leaves exactly the rows the per-order
services leave (SPEC §0 lifecycle, E-3 tracking timestamps), and is refused with the same codes."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from factories import make_buyer, make_product, make_shop

from buyers.models import Buyer
from core.errors import DomainError
from demo import bulk
from demo.bulk import (
    Cancel,
    Complete,
    Deliver,
    DisputeClose,
    DisputeOpen,
    FeedbackStep,
    OrderPlan,
    Pay,
    RefundStep,
    ReviewStep,
    Ship,
    Track,
)
from orders import selectors, services, stats
from orders.inputs import LineInput, OrderInput
from orders.models import (
    Dispute,
    Feedback,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Refund,
    Review,
    Shipment,
    ShopDailyStats,
    TrackingEvent,
)

T0 = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
H = timedelta(hours=1)
D = timedelta(days=1)
# Columns that differ by construction: surrogate keys, links to them, and write times.
IGNORED = {"id", "order_id", "shipment_id", "created_at", "updated_at"}


@pytest.fixture
def world(db):
    shop = make_shop(currency="USD")
    product = make_product(
        shop,
        skus=[
            {"code": "EAR-1", "price_minor": 19_99, "stock": 50},
            {"code": "EAR-2", "price_minor": 24_50, "stock": 50},
        ],
    )
    skus = list(product.skus.order_by("code"))
    buyer = make_buyer(country="FR", email="camille.martin@orange.fr")
    return shop, buyer, skus


def _plan(world, number, steps_for, **extra) -> OrderPlan:
    shop, buyer, skus = world
    plan = OrderPlan(
        OrderInput(
            shop=shop,
            # An unsaved stub, as the demo planner streams them: pk and country only.
            buyer=Buyer(pk=buyer.pk, country=buyer.country),
            number=number,
            lines=[
                LineInput(sku=skus[0], quantity=2, unit_price_minor=19_99),
                LineInput(sku=skus[1], quantity=1, unit_price_minor=22_00),
            ],
            placed_at=T0,
            shipping_fee_minor=3_99,
            coupon_discount_minor=5_00,
            platform_subsidy_minor=1_00,
            cashback_red_packet_minor=50,
            payment_method="paypal",
            **extra,
        )
    )
    plan.steps = steps_for(plan, skus)
    return plan


def _full_life(plan, skus):
    """Everything at once: tracking out of order and without progress, a dispute settled with a
    partial refund, reviews of both SKUs, feedback, completion, then a refund of the rest."""
    n, due = plan.number, plan.due_minor
    return [
        Pay(f"PAY-{n}", due, "paypal", T0 + H),
        Ship("aliexpress_standard", f"  LP00{n}  ", T0 + 20 * H),
        Track("info_received", T0 + 21 * H, "Shenzhen, CN", "Shipping label created"),
        Track("picked_up", T0 + 30 * H, "Shenzhen, CN", "Accepted by carrier"),
        Track("in_transit", T0 + 3 * D, "Hong Kong hub, HK", "Departed"),
        Track("picked_up", T0 + 2 * D),  # a late-arriving older scan: moves nothing back
        Track("no_update", T0 + 5 * D, "Paris, FR", "Carrier scan without progress"),
        Track("delivered", T0 + 7 * D, "Paris, FR", "Delivered"),
        Deliver(T0 + 7 * D),
        DisputeOpen(f"DSP-{n}-1", T0 + 8 * D, "Item damaged"),
        RefundStep(f"RFD-{n}-1", 7_00, T0 + 10 * D, "Settled"),
        DisputeClose(f"DSP-{n}-1", T0 + 10 * D, "settled"),
        ReviewStep(skus[1].pk, 2, 1, 3, 4, T0 + 11 * D, "Pas conforme à la description", "fr"),
        ReviewStep(skus[0].pk, 5, 5, 5, 4, T0 + 11 * D, "Très bonne qualité", "fr"),
        FeedbackStep("neutral", T0 + 12 * D),
        Complete(T0 + 15 * D),
        RefundStep(f"RFD-{n}-2", due - 7_00, T0 + 20 * D, "Returned"),
    ]


def _cancelled_after_payment(plan, skus):
    n = plan.number
    return [
        Pay(f"PAY-{n}", plan.due_minor, "card", T0 + H),
        Cancel(T0 + 5 * H, "Out of stock"),
        RefundStep(f"RFD-{n}-1", plan.due_minor, T0 + 6 * H, "Order cancelled before shipping"),
    ]


def _unpaid_cancelled(plan, skus):
    return [Cancel(T0 + 24 * H, "Payment not completed")]


def _stalled_then_won_dispute(plan, skus):
    n = plan.number
    return [
        Pay(f"PAY-{n}", plan.due_minor, "card", T0 + H),
        Ship("yanwen", f"UG{n}YW", T0 + 4 * D),
        Track("info_received", T0 + 4 * D + H),
        Track("exception", T0 + 6 * D, "Madrid, ES", "Address incomplete"),
        DisputeOpen(f"DSP-{n}-1", T0 + 25 * D, "Item not received"),
        RefundStep(f"RFD-{n}-1", plan.due_minor, T0 + 30 * D, "Item not received"),
        DisputeClose(f"DSP-{n}-1", T0 + 30 * D, "buyer_won"),
    ]


def _pending(plan, skus):
    return []


LIVES = [
    _full_life,
    _cancelled_after_payment,
    _unpaid_cancelled,
    _stalled_then_won_dispute,
    _pending,
]


def _rows_in_db(order_id: int) -> dict[str, list[dict]]:
    """Every row of one order, as ``values()`` dicts without the surrogate columns."""

    def clean(qs):
        return [{k: v for k, v in row.items() if k not in IGNORED} for row in qs.values()]

    return {
        "order": clean(Order.objects.filter(pk=order_id)),
        "lines": clean(OrderLine.objects.filter(order_id=order_id).order_by("sku_id")),
        "payments": clean(Payment.objects.filter(order_id=order_id).order_by("external_id")),
        "shipment": clean(Shipment.objects.filter(order_id=order_id)),
        "tracking": clean(TrackingEvent.objects.filter(shipment__order_id=order_id).order_by("id")),
        "refunds": clean(Refund.objects.filter(order_id=order_id).order_by("external_id")),
        "disputes": clean(Dispute.objects.filter(order_id=order_id).order_by("external_id")),
        "reviews": clean(Review.objects.filter(order_id=order_id).order_by("sku_id")),
        "feedback": clean(Feedback.objects.filter(order_id=order_id)),
    }


def _stats(shop):
    return {
        (r["day"]): {k: v for k, v in r.items() if k not in {"id", "shop_id", "day"}}
        for r in ShopDailyStats.objects.filter(shop=shop).values()
    }


def _log(order_id: int) -> list[tuple]:
    """The order's event log, the ids in payloads replaced by what identifies the row named."""
    named = {
        "refund_id": lambda pk: Refund.objects.get(pk=pk).external_id,
        "dispute_id": lambda pk: Dispute.objects.get(pk=pk).external_id,
        "review_id": lambda pk: Review.objects.get(pk=pk).sku_id,
        "feedback_id": lambda pk: Feedback.objects.get(pk=pk).kind,
        "tracking_event_id": lambda pk: TrackingEvent.objects.get(pk=pk).occurred_at,
    }
    out = []
    for e in OrderEvent.objects.filter(order_id=order_id).order_by("id"):
        payload = {k: named[k](v) if k in named else v for k, v in e.payload.items()}
        out.append((e.type, e.shop_id, e.occurred_at, payload))
    return out


@pytest.mark.parametrize("life", LIVES, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("method", ["copy", "orm"])
def test_s0_bulk_rows_equal_the_services_rows_field_by_field(world, life, method):
    # given: one plan applied through the per-order services
    shop = world[0]
    plan = _plan(world, "8100000000000001", life)
    by_services = _rows_in_db(bulk.apply_with_services(plan).pk)
    log_by_services = _log(Order.objects.get(shop=shop, number=plan.number).pk)
    stats_by_services = _stats(shop)
    Order.objects.filter(shop=shop).delete()
    ShopDailyStats.objects.filter(shop=shop).delete()

    # when: the same plan built in memory and written in bulk with its daily figures
    figures = stats.Deltas()
    counts = bulk.BulkWriter(method=method).write(
        [bulk.build_order_rows(plan, figures)], figures=figures
    )

    # then: the same rows column by column, the same daily figures and the same event log
    order_id = Order.objects.get(shop=shop, number=plan.number).pk
    by_bulk = _rows_in_db(order_id)
    for table, rows in by_services.items():
        assert by_bulk[table] == rows, table
    assert counts.orders == 1
    assert counts.tracking_events == len(by_services["tracking"])
    assert _stats(shop) == stats_by_services
    assert _log(order_id) == log_by_services
    assert counts.order_events == len(log_by_services) >= 1


def test_e3_bulk_shipment_keeps_latest_scan_and_latest_progress(world):
    # given: scans that arrive out of order, the last one without progress (SPEC E-3)
    plan = _plan(world, "8100000000000002", _full_life)

    # when
    rows = bulk.build_order_rows(plan)

    # then
    assert rows.shipment["last_event_at"] == T0 + 7 * D
    assert rows.shipment["last_progress_at"] == T0 + 7 * D
    assert rows.shipment["tracking_number"] == "LP008100000000000002"
    assert rows.shipment["official"] is True
    assert rows.order["status"] == "refunded"
    assert rows.order["refunded_minor"] == rows.order["amount_paid_minor"]
    assert [r["full"] for r in rows.refunds] == [False, True]


def test_s0_bulk_amounts_follow_c3_payable_before_coins(world):
    # given: an order with a coin deduction (SPEC C-3: payable before coins, less the coins)
    plan = _plan(
        world,
        "8100000000000003",
        lambda p, s: [],
        coin_deduction_coins=300,
        coin_deduction_minor=3_00,
    )
    plan.steps = [Pay("PAY-c3", plan.due_minor, "card", T0 + H)]

    # when
    order = bulk.build_order_rows(plan).order

    # then: 2 x 19.99 + 22.00 + 3.99 - 5.00 - 3.00
    assert order["subtotal_minor"] == 61_98
    assert order["amount_paid_minor"] == 61_98 + 3_99 - 5_00 - 3_00
    assert order["country"] == "FR"


def _bad(*steps_after):
    def life(plan, skus):
        n, due = plan.number, plan.due_minor
        base = {
            "pay": Pay(f"PAY-{n}", due, "card", T0 + H),
            "ship": Ship("aliexpress_saver", f"LP{n}", T0 + 2 * H),
            "deliver": Deliver(T0 + 5 * D),
        }
        return [base[s] if isinstance(s, str) else s(plan, skus) for s in steps_after]

    return life


REFUSALS = [
    ("ship_before_pay", _bad("ship"), "invalid_transition"),
    (
        "pay_wrong_amount",
        _bad(lambda p, s: Pay("PAY-x", p.due_minor - 1, "card", T0 + H)),
        "amount_mismatch",
    ),
    (
        "pay_before_placed",
        _bad(lambda p, s: Pay("PAY-x", p.due_minor, "card", T0 - H)),
        "invalid_time",
    ),
    (
        "unknown_method",
        _bad(lambda p, s: Pay("PAY-x", p.due_minor, "cash", T0 + H)),
        "invalid_payment_method",
    ),
    ("track_unshipped", _bad("pay", lambda p, s: Track("in_transit", T0 + 2 * H)), "not_shipped"),
    (
        "blank_tracking",
        _bad("pay", lambda p, s: Ship("dhl", "  ", T0 + 2 * H)),
        "missing_tracking_number",
    ),
    ("cancel_shipped", _bad("pay", "ship", lambda p, s: Cancel(T0 + 3 * H)), "invalid_transition"),
    (
        "refund_unpaid",
        _bad(lambda p, s: Cancel(T0 + H), lambda p, s: RefundStep("R", 1, T0 + 2 * H)),
        "not_paid",
    ),
    (
        "refund_over_paid",
        _bad("pay", lambda p, s: RefundStep("R", p.due_minor + 1, T0 + 2 * H)),
        "refund_exceeds_paid",
    ),
    (
        "complete_disputed",
        _bad(
            "pay",
            "ship",
            "deliver",
            lambda p, s: DisputeOpen("D", T0 + 6 * D),
            lambda p, s: Complete(T0 + 9 * D),
        ),
        "disputed",
    ),
    (
        "review_before_delivery",
        _bad("pay", "ship", lambda p, s: ReviewStep(s[0].pk, 5, 5, 5, 5, T0 + 3 * D)),
        "invalid_transition",
    ),
    (
        "review_score_6",
        _bad("pay", "ship", "deliver", lambda p, s: ReviewStep(s[0].pk, 6, 5, 5, 5, T0 + 6 * D)),
        "invalid_score",
    ),
    (
        "twice_feedback",
        _bad(
            "pay",
            "ship",
            "deliver",
            lambda p, s: FeedbackStep("positive", T0 + 6 * D),
            lambda p, s: FeedbackStep("negative", T0 + 7 * D),
        ),
        "duplicate_feedback",
    ),
    (
        "close_unknown_dispute",
        _bad("pay", lambda p, s: DisputeClose("nope", T0 + 2 * H, "settled")),
        "unknown_dispute",
    ),
]


@pytest.mark.parametrize(("life", "code"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_s0_bulk_refuses_an_invalid_plan_like_the_services(world, life, code):
    # given
    plan = _plan(world, "8100000000000009", life)

    # when: the services refuse at the bad step, and the builder refuses the whole plan
    with pytest.raises(DomainError) as by_services:
        bulk.apply_with_services(plan)
    with pytest.raises(DomainError) as by_bulk:
        bulk.build_order_rows(plan)

    # then: same code, same message
    assert by_services.value.code == code
    assert (by_bulk.value.code, by_bulk.value.message) == (code, by_services.value.message)


def test_s0_bulk_refuses_a_foreign_sku_and_an_empty_order(world):
    # given
    other_sku = make_product(make_shop()).skus.get()
    foreign = _plan(world, "8100000000000010", lambda p, s: [])
    foreign.order = replace(
        foreign.order, lines=[LineInput(sku=other_sku, quantity=1, unit_price_minor=100)]
    )
    empty = _plan(world, "8100000000000011", lambda p, s: [])
    empty.order = replace(empty.order, lines=[])

    # then
    for plan, code in ((foreign, "foreign_sku"), (empty, "empty_order")):
        with pytest.raises(DomainError) as exc:
            bulk.build_order_rows(plan)
        assert exc.value.code == code


@pytest.mark.parametrize("method", ["copy", "orm"])
def test_bulk_writer_links_children_and_leaves_the_sequences_usable(world, method):
    # given: two chunks written in bulk
    writer = bulk.BulkWriter(method=method)
    plans = [_plan(world, f"81000000000001{i:02d}", _full_life) for i in range(6)]
    writer.write([bulk.build_order_rows(p) for p in plans[:3]])
    writer.write([bulk.build_order_rows(p) for p in plans[3:]])

    # when: the services write the next order as usual
    after = bulk.apply_with_services(_plan(world, "8100000000000199", _full_life))

    # then: every child points at its own order; the ids keep growing
    shop = world[0]
    orders = Order.objects.filter(shop=shop)
    assert orders.count() == 7
    for order in orders:
        assert order.payments.get().external_id == f"PAY-{order.number}"
        assert order.shipment.tracking_number == f"LP00{order.number}"
        assert order.shipment.events.count() == 6
        assert {r.external_id for r in order.refunds.all()} == {
            f"RFD-{order.number}-1",
            f"RFD-{order.number}-2",
        }
        assert order.reviews.count() == 2
        assert order.feedback.kind == "neutral"
    assert after.pk == max(o.pk for o in orders)


def test_bulk_duplicate_order_number_is_refused_by_the_database(world):
    # given
    plan = _plan(world, "8100000000000300", _pending)
    bulk.write_plans([plan])

    # then: the UNIQUE (shop, number) constraint holds on the bulk path too
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.write_plans([plan])


def test_bulk_then_rebuild_matches_daily_figures_from_orders(world):
    # given
    shop = world[0]
    plans = [_plan(world, f"81000000000004{i:02d}", life) for i, life in enumerate(LIVES)]

    # when
    bulk.write_plans(plans)
    services.daily_stats_rebuild(shop_ids=[shop.pk])

    # then
    expected = {
        day: figures
        for (sid, day), figures in selectors.daily_figures_from_orders(shop_ids=[shop.pk]).items()
    }
    assert _stats(shop) == expected
    assert sum(r["orders_created"] for r in expected.values()) == len(LIVES)
