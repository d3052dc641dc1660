"""The coin module as a consumer of the order event log (SPEC C-7, C-8) and its checkout guard
(C-3), through real order events: the services path (``make_order`` → commit → delivery) and
the ingestion API path. Transactions commit here, so delivery runs as in production."""

from datetime import timedelta

import pytest
from api.support import Sender, ev, order_created_data, order_paid_data
from coinkit import assert_reconciled, coin_order, coin_product, coin_shop, give, rule
from factories import amount_due, first_sku, make_buyer, make_member, make_order, make_product

from buyers.models import Buyer
from coins import services
from coins.consumers import handle_event
from coins.models import (
    CoinFund,
    CoinGrant,
    CoinLot,
    CoinMovement,
    CoinRedemption,
    CoinWallet,
    LotSource,
    MovementKind,
    RuleKind,
    RuleStatus,
)
from core import clock
from integrations.services import integration_create
from orders import services as order_services
from orders.models import ConsumedEvent, ConsumerFailure, Order, OrderEvent
from shops.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)


def balance(shop, buyer) -> int:
    w = CoinWallet.objects.filter(shop=shop, buyer=buyer).first()
    return w.balance if w else 0


def no_failures():
    assert list(ConsumerFailure.objects.values_list("consumer", "last_error")) == []


def grants(order) -> dict[str, int]:
    return dict(CoinGrant.objects.filter(order=order).values_list("rule__kind", "coins"))


def test_c7_payment_grants_welcome_instant_and_threshold_once(shop_a):
    coin_shop(shop_a)
    rule(shop_a, kind=RuleKind.WELCOME, coins=500)
    rule(shop_a, kind=RuleKind.INSTANT_CASHBACK, coins=100)
    rule(shop_a, kind=RuleKind.SPEND_THRESHOLD, coins=1000, threshold_minor=100_00)
    buyer = make_buyer()
    sku = first_sku(make_product(shop_a, price_minor=100_00))

    first = make_order(shop_a, buyer, sku=sku, status="paid")
    second = make_order(shop_a, buyer, sku=sku, status="paid", unit_price_minor=99_99)

    assert grants(first) == {"welcome": 500, "instant_cashback": 100, "spend_threshold": 1000}
    # not the first paid order; ¥99.99 is one fen under the threshold
    assert grants(second) == {"instant_cashback": 100}
    assert balance(shop_a, buyer) == 1700
    # the event handled once, and handling it again changes nothing (C-7 idempotency)
    paid = OrderEvent.objects.get(order=first, type="order.paid")
    assert ConsumedEvent.objects.filter(consumer="coins", event=paid).count() == 1
    services.order_grants_apply(order_id=first.pk, kinds=services.ON_PAID, at=clock.now())
    assert balance(shop_a, buyer) == 1700
    no_failures()
    assert_reconciled()


@pytest.mark.parametrize("flag", ["low_activity", "risk_review"])
def test_c7_no_welcome_for_low_activity_or_risk_review_buyers(shop_a, flag):
    coin_shop(shop_a)
    rule(shop_a, kind=RuleKind.WELCOME, coins=500)
    buyer = make_buyer()
    if flag == "low_activity":
        Buyer.objects.filter(pk=buyer.pk).update(low_activity=True)
    else:
        Buyer.objects.filter(pk=buyer.pk).update(risk_status="risk_review")
    order = make_order(shop_a, buyer, status="paid")
    assert grants(order) == {}
    no_failures()


def test_c7_a_non_stackable_rule_stands_alone(shop_a):
    coin_shop(shop_a)
    rule(shop_a, kind=RuleKind.WELCOME, coins=500, stackable=False)
    rule(shop_a, kind=RuleKind.INSTANT_CASHBACK, coins=100)
    buyer = make_buyer()
    first = make_order(shop_a, buyer, status="paid")
    second = make_order(shop_a, buyer, status="paid")
    assert grants(first) == {"welcome": 500}
    assert grants(second) == {"instant_cashback": 100}


def test_c7_completion_cashback_as_a_share_of_paid(shop_a):
    coin_shop(shop_a)
    services.rule_create(
        shop=shop_a,
        name="5% back",
        kind=RuleKind.COMPLETION_CASHBACK,
        percent_bp=500,
        budget_coins=10**6,
        starts_at=clock.now() - timedelta(days=1),
    )
    order = make_order(shop_a, status="completed", unit_price_minor=123_45)
    assert grants(order) == {"completion_cashback": 6_17}  # 5% of ¥123.45, rounded down
    no_failures()


def test_c7_rules_outside_their_window_or_paused_account_grant_nothing(shop_a):
    coin_shop(shop_a)
    services.rule_create(
        shop=shop_a,
        name="ended",
        kind=RuleKind.INSTANT_CASHBACK,
        coins=100,
        budget_coins=10**6,
        starts_at=clock.now() - timedelta(days=10),
        ends_at=clock.now() - timedelta(days=1),
    )
    services.rule_create(
        shop=shop_a,
        name="future",
        kind=RuleKind.INSTANT_CASHBACK,
        coins=100,
        budget_coins=10**6,
        starts_at=clock.now() + timedelta(days=1),
    )
    assert grants(make_order(shop_a, status="paid")) == {}
    rule(shop_a, coins=100)
    services.account_pause(shop=shop_a)
    assert grants(make_order(shop_a, status="paid")) == {}  # C-2
    services.account_resume(shop=shop_a)
    assert grants(make_order(shop_a, status="paid")) == {"instant_cashback": 100}


def test_c5_fund_too_low_refuses_the_grant_and_tells_the_owner(shop_a, owner):
    coin_shop(shop_a, fund=50)
    rule(shop_a, coins=100)
    order = make_order(shop_a, status="paid")
    assert grants(order) == {}
    note = Notification.objects.get(recipient=owner, shop=shop_a)
    assert "coin fund is too low" in note.title
    assert order.number in note.body
    no_failures()


def test_c3_redemption_is_linked_to_the_saved_order_by_the_created_event(shop_a):
    coin_shop(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 1000)
    order = coin_order(shop_a, buyer, coin_product(shop_a), 300)
    assert CoinRedemption.objects.get(order_number=order.number).order_id == order.pk
    assert balance(shop_a, buyer) == 700


def test_c8_refund_event_returns_coins_and_claws_back_cashback(shop_a):
    coin_shop(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 1000)
    rule(shop_a, coins=200)
    sku = coin_product(shop_a)
    order = coin_order(shop_a, buyer, sku, 1000, status="refunded")
    # paid: +200 cashback; refunded: 1000 deducted coins back, the 200 clawed back
    assert balance(shop_a, buyer) == 1000
    assert CoinLot.objects.filter(source=LotSource.REFUND_RETURN).get().remaining == 1000
    assert grants(order) == {"instant_cashback": 200}
    assert CoinGrant.objects.get(order=order).clawbacks.get().recovered == 200
    no_failures()
    assert_reconciled()


def test_c8_cancelled_unpaid_coin_order_event_gives_the_coins_back_once(shop_a):
    # given a buyer who spent 500 of 1,000 coins on an order not paid yet
    coin_shop(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 1000)
    order = coin_order(shop_a, buyer, coin_product(shop_a), 500)
    assert balance(shop_a, buyer) == 500
    # when the order is cancelled (an unpaid order is never refunded)
    order_services.order_cancel(order=order, cancelled_at=clock.now())
    # then order.cancelled gives every coin back and the fund has spent nothing
    assert balance(shop_a, buyer) == 1000
    fund = CoinFund.objects.get(shop=shop_a)
    assert (fund.reserved, fund.spent) == (1000, 0)
    assert CoinRedemption.objects.get(order_number=order.number).returned == 500
    no_failures()
    assert_reconciled()
    # and the event handled again (a replay) changes nothing
    cancelled = OrderEvent.objects.get(order=order, type="order.cancelled")
    assert ConsumedEvent.objects.filter(consumer="coins", event=cancelled).count() == 1
    moves = CoinMovement.objects.count()
    handle_event(cancelled)
    assert (balance(shop_a, buyer), CoinMovement.objects.count()) == (1000, moves)
    assert_reconciled()


def test_c8_paid_coin_order_cancelled_then_refunded_in_full_returns_the_coins_once(shop_a):
    # given a paid coin order that earned 200 cashback
    coin_shop(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 1000)
    rule(shop_a, coins=200)
    order = coin_order(shop_a, buyer, coin_product(shop_a), 1000, status="paid")
    assert balance(shop_a, buyer) == 200
    # when it is cancelled before shipping, then refunded in full by the marketplace
    order_services.order_cancel(order=order, cancelled_at=clock.now())
    assert balance(shop_a, buyer) == 1200
    order = Order.objects.get(pk=order.pk)
    order_services.order_refund(
        order=order,
        refund_id="R-cancelled",
        amount_minor=order.amount_paid_minor,
        refunded_at=clock.now(),
    )
    # then the 1,000 coins came back once, and the cashback was clawed back
    assert balance(shop_a, buyer) == 1000
    assert CoinRedemption.objects.get(order_number=order.number).returned == 1000
    assert CoinMovement.objects.filter(kind=MovementKind.REFUND_RETURN).count() == 1
    assert CoinFund.objects.get(shop=shop_a).spent == 0
    assert CoinGrant.objects.get(order=order).clawbacks.get().recovered == 200
    no_failures()
    assert_reconciled()


def test_c8_paid_coin_order_refunded_then_cancelled_returns_the_coins_once(shop_a):
    # given a paid coin order (¥90 paid, 1,000 coins) refunded by half
    coin_shop(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 1000)
    order = coin_order(shop_a, buyer, coin_product(shop_a), 1000, status="paid")
    order_services.order_refund(
        order=order, refund_id="R-half", amount_minor=45_00, refunded_at=clock.now()
    )
    assert balance(shop_a, buyer) == 500
    # when it is cancelled, then the rest of the money is refunded
    order_services.order_cancel(order=Order.objects.get(pk=order.pk), cancelled_at=clock.now())
    assert balance(shop_a, buyer) == 1000
    order_services.order_refund(
        order=Order.objects.get(pk=order.pk),
        refund_id="R-rest",
        amount_minor=45_00,
        refunded_at=clock.now(),
    )
    # then no coin came back twice
    assert balance(shop_a, buyer) == 1000
    assert (
        sum(
            CoinMovement.objects.filter(kind=MovementKind.REFUND_RETURN).values_list(
                "coins", flat=True
            )
        )
        == 1000
    )
    assert CoinFund.objects.get(shop=shop_a).spent == 0
    no_failures()
    assert_reconciled()


def test_c7_a_rule_stops_when_its_budget_cannot_cover_another_grant(shop_a, owner):
    # given 300 coins a grant from a budget of 1,000
    coin_shop(shop_a)
    r = rule(shop_a, coins=300, budget=1000)
    # when three orders are paid, then a fourth
    orders = [make_order(shop_a, status="paid") for _ in range(3)]
    r.refresh_from_db()
    stopped = (r.granted_coins, r.status)
    orders.append(make_order(shop_a, status="paid"))
    # then three are granted and the third stops the rule (100 left), its owner told
    assert [grants(o) for o in orders] == [{"instant_cashback": 300}] * 3 + [{}]
    assert stopped == (900, RuleStatus.STOPPED)
    assert (
        Notification.objects.filter(
            recipient=owner, shop=shop_a, message="coins.rule_budget_spent"
        ).count()
        == 1
    )
    no_failures()
    assert_reconciled()


# --- the ingestion API path -----------------------------------------------------------------


@pytest.fixture
def sender():
    integration, secret = integration_create(name="Marketplace")
    return Sender(integration, secret)


def test_c3_api_order_created_carrying_coins_is_checked_by_the_guard(sender, shop_a):
    coin_shop(shop_a)
    make_member(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 2000)
    sku = coin_product(shop_a)  # ¥100: at most 3000 coins

    def created(number, coins):
        return ev(
            "order.created",
            order_created_data(
                shop_a,
                buyer,
                sku,
                number=number,
                coin_deduction_coins=coins,
                coin_deduction_minor=coins,
            ),
        )

    results = sender.results(
        [
            created("API-1", 1500),
            created("API-2", 501),  # 500 left
            created("API-3", 3001),
            created("API-4", 500),
        ]
    )
    assert [r.get("code") for r in results] == [
        None,
        "coins_insufficient",
        "coins_insufficient",
        None,
    ]
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "applied"]
    assert balance(shop_a, buyer) == 0
    assert set(
        Order.objects.filter(shop=shop_a, number__startswith="API-").values_list(
            "number", flat=True
        )
    ) == {"API-1", "API-4"}
    assert set(CoinRedemption.objects.values_list("order_number", "order__number")) == {
        ("API-1", "API-1"),
        ("API-4", "API-4"),
    }
    # paying it through the API: a cashback rule grants on order.paid
    rule(shop_a, coins=100)
    api1 = Order.objects.get(shop=shop_a, number="API-1")
    (paid,) = sender.results(
        [ev("order.paid", order_paid_data(shop_a, number="API-1", amount=amount_due(api1)))]
    )
    assert paid["status"] == "applied"
    assert balance(shop_a, buyer) == 100
    no_failures()
    assert_reconciled()


def test_c3_api_cap_and_paused_account_codes(sender, shop_a):
    coin_shop(shop_a)
    buyer = make_buyer()
    give(shop_a, buyer, 10_000)
    sku = coin_product(shop_a)
    data = order_created_data(
        shop_a, buyer, sku, number="CAP-1", coin_deduction_coins=3001, coin_deduction_minor=3001
    )
    assert sender.one(ev("order.created", data))["code"] == "coins_cap_exceeded"
    services.account_pause(shop=shop_a)
    data = order_created_data(
        shop_a, buyer, sku, number="P-1", coin_deduction_coins=100, coin_deduction_minor=100
    )
    assert sender.one(ev("order.created", data))["code"] == "coins_account_paused"
    assert balance(shop_a, buyer) == 10_000
