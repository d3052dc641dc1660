"""SPEC A-5 … A-8: attribution and the commission lifecycle, every transition and the races.

The order events are handed to the affiliate handler by ``affkit.apply_events`` here (these
tests' transactions never commit); ``test_consumer.py`` runs the same through the event log."""

from datetime import timedelta

import affkit
import pytest
from constance.test import override_config
from django.db import IntegrityError, transaction
from factories import first_sku, make_order, make_product

from affiliate import services
from affiliate.models import Commission, PidStatus, PromoterBalance, PromoterEntry
from core import clock
from core.errors import DomainError
from core.money import Money
from orders import services as orders
from orders.models import Order
from shops.models import BalanceEntry, Notification
from shops.services import balance_credit

PAID = 100_00  # sku_a: ¥100.00; base 95.00 after the 5% platform fee; 10% → 9.50
EXPECTED = 9_50


@pytest.fixture
def setup(shop_a, owner):
    affkit.enable(shop_a, rate_bp=1000)
    link = affkit.link(shop_a)
    click = affkit.click(link, at=clock.now() - timedelta(hours=1))
    sku = first_sku(make_product(shop_a, price_minor=PAID))
    return {"shop": shop_a, "link": link, "click": click, "sku": sku}


def order_for(setup, status="pending_payment", **kw):
    kw.setdefault("affiliate_click_id", setup["click"].click_id)
    return make_order(setup["shop"], sku=setup["sku"], status=status, **kw)


def run(order, seen=None):
    affkit.apply_events(order, seen)
    return Commission.objects.filter(order=order).first()


def refund(order, amount, rid):
    order = Order.objects.get(pk=order.pk)
    orders.order_refund(order=order, refund_id=rid, amount_minor=amount, refunded_at=clock.now())


def fund(shop, minor=1000_00):
    balance_credit(
        shop=shop,
        amount=Money(minor, shop.currency),
        reason="top-up",
        idempotency_key=f"top-{shop.pk}",
    )


def test_a6_locked_on_created_with_rate_fixed(setup):
    # given / when: an order placed after the click, not paid yet
    order = order_for(setup)
    c = run(order)

    # then: locked, the rate fixed now
    assert c.status == "locked"
    assert c.lines == [[setup["sku"].product_id, PAID, 1000]]
    assert (c.base_minor, c.amount_minor) == (95_00, EXPECTED)
    assert (c.promoter_id, c.pid_id, c.click_id) == (
        setup["link"].pid.promoter_id,
        setup["link"].pid_id,
        setup["click"].pk,
    )

    # a rate changed after the lock does not change this commission
    services.rate_set(shop=setup["shop"], scope="shop", rate_bp=2000)
    seen = set()
    affkit.apply_events(order, seen)
    orders.order_pay(
        order=order, payment_id="p1", amount_minor=PAID, method="card", paid_at=clock.now()
    )
    c = run(order, seen)
    assert c.amount_minor == EXPECTED


def test_a6_paid_then_pre_issued_by_the_job_with_latency_and_trial_ends(setup):
    order = order_for(setup, status="paid")
    c = run(order)
    assert c.status == "locked"
    assert c.paid_at is not None
    assert c.promoter.trial is False  # the first attributed paid order ends the trial

    later = c.paid_at + timedelta(minutes=4)
    assert services.commissions_pre_issue(now=later) == 1
    assert services.commissions_pre_issue(now=later) == 0  # twice: once
    c.refresh_from_db()
    assert c.status == "pre_issued"
    assert c.pre_issue_latency_ms == 4 * 60 * 1000


def test_a6_unpaid_lock_is_not_pre_issued(setup):
    run(order_for(setup))
    assert services.commissions_pre_issue() == 0


def test_a6_cancel_before_payment_voids(setup):
    c = run(order_for(setup, status="cancelled"))
    assert c.status == "void"
    assert services.commissions_pre_issue() == 0


def test_a6_partial_refund_reverses_proportionally_then_full_reverses(setup):
    order = order_for(setup, status="paid")
    seen = set()
    run(order, seen)
    services.commissions_pre_issue()

    refund(order, PAID // 2, "r1")
    c = run(order, seen)
    assert (c.status, c.reversed_minor, c.net_minor) == ("pre_issued", 4_75, 4_75)

    refund(order, PAID // 2, "r2")
    c = run(order, seen)
    assert (c.status, c.reversed_minor, c.net_minor) == ("reversed", EXPECTED, 0)


def test_a6_duplicate_refund_event_reverses_once(setup):
    order = order_for(setup, status="paid")
    seen = set()
    run(order, seen)
    refund(order, 30_00, "r1")
    run(order, seen)
    # the same refund event handed over again
    from affiliate.consumers import handle_event
    from orders.models import OrderEvent

    handle_event(OrderEvent.objects.get(order=order, type="order.refunded"))
    c = Commission.objects.get(order=order)
    assert c.reversed_minor == 2_85  # 30% of 9.50, once


def test_a6_refund_before_pre_issue_pre_issues_the_net(setup):
    order = order_for(setup, status="paid")
    seen = set()
    run(order, seen)
    refund(order, 20_00, "r1")
    run(order, seen)
    services.commissions_pre_issue()
    c = Commission.objects.get(order=order)
    assert (c.status, c.net_minor) == ("pre_issued", 7_60)


def test_a6_dispute_holds_then_refund_decides_the_outcome(setup):
    order = order_for(setup, status="paid")
    seen = set()
    run(order, seen)
    services.commissions_pre_issue()
    orders.dispute_open(order=order, dispute_id="d1", opened_at=clock.now())
    c = run(order, seen)
    assert (c.status, c.held_from) == ("on_hold", "pre_issued")

    refund(order, PAID, "r1")
    c = run(order, seen)
    assert c.status == "on_hold"  # still held while the dispute is open
    assert c.reversed_minor == EXPECTED

    orders.dispute_close(
        order=Order.objects.get(pk=order.pk),
        dispute_id="d1",
        closed_at=clock.now(),
        outcome="buyer_won",
    )
    c = run(order, seen)
    assert (c.status, c.held_from, c.net_minor) == ("reversed", "", 0)


def test_a6_dispute_won_by_seller_returns_to_the_interrupted_state(setup):
    order = order_for(setup, status="paid")
    seen = set()
    run(order, seen)
    orders.dispute_open(order=order, dispute_id="d1", opened_at=clock.now())
    assert run(order, seen).status == "on_hold"
    assert services.commissions_pre_issue() == 0  # held: not pre-issued
    orders.dispute_close(
        order=Order.objects.get(pk=order.pk),
        dispute_id="d1",
        closed_at=clock.now(),
        outcome="seller_won",
    )
    assert run(order, seen).status == "locked"
    assert services.commissions_pre_issue() == 1


def _completed(setup):
    order = order_for(setup, status="completed")
    seen = set()
    c = run(order, seen)
    services.commissions_pre_issue()
    c.refresh_from_db()
    return order, seen, c


def test_a6_a7_settles_after_return_window_debiting_the_shop_once(setup):
    fund(setup["shop"])
    _order, _seen, c = _completed(setup)
    assert c.settle_due_at == c.completed_at + timedelta(days=15)

    # not before the return window ends
    assert services.commissions_settle(now=c.settle_due_at - timedelta(seconds=1))["settled"] == 0
    assert services.commissions_settle(now=c.settle_due_at) == {"settled": 1, "blocked": 0}
    assert services.commissions_settle(now=c.settle_due_at) == {"settled": 0, "blocked": 0}

    c.refresh_from_db()
    assert (c.status, c.settled_minor) == ("settled", EXPECTED)
    debit = BalanceEntry.objects.get(idempotency_key=f"affiliate:settle:{c.pk}")
    assert (debit.kind, debit.amount_minor) == ("debit", EXPECTED)
    assert PromoterBalance.objects.get(promoter=c.promoter).balance_minor == EXPECTED


def test_a7_settlement_waits_for_the_balance_and_tells_the_shop_once(setup):
    _order, _seen, c = _completed(setup)
    due = c.settle_due_at
    assert services.commissions_settle(now=due) == {"settled": 0, "blocked": 1}
    assert services.commissions_settle(now=due) == {"settled": 0, "blocked": 1}
    assert Notification.objects.filter(shop=setup["shop"], kind="balance").count() == 1
    c.refresh_from_db()
    assert c.status == "pre_issued"
    assert not PromoterEntry.objects.exists()

    fund(setup["shop"])
    assert services.commissions_settle(now=due) == {"settled": 1, "blocked": 0}


def test_a6_reversal_after_payout_claws_back_to_a_negative_promoter_balance(setup):
    fund(setup["shop"])
    order, seen, c = _completed(setup)
    services.commissions_settle(now=c.settle_due_at)
    with override_config(AFFILIATE_PAYOUT_MIN_MINOR=1):
        batch = services.payout_batch_create(currency=c.currency)
    services.payout_batch_mark_paid(batch_id=batch.pk)
    c.refresh_from_db()
    assert c.status == "paid_out"
    balance = PromoterBalance.objects.get(promoter=c.promoter)
    assert balance.balance_minor == 0

    refund(order, PAID, "late")
    c = run(order, seen)
    assert c.status == "reversed"
    balance.refresh_from_db()
    assert balance.balance_minor == -EXPECTED  # clawback
    credit = BalanceEntry.objects.get(idempotency_key__startswith=f"affiliate:reverse:{c.pk}:")
    assert (credit.kind, credit.amount_minor) == ("credit", EXPECTED)


def test_a1_trial_promoter_is_not_paid_out(setup):
    fund(setup["shop"])
    _order, _seen, c = _completed(setup)
    services.commissions_settle(now=c.settle_due_at)
    type(c.promoter).objects.filter(pk=c.promoter_id).update(trial=True)
    with override_config(AFFILIATE_PAYOUT_MIN_MINOR=1), pytest.raises(DomainError) as exc:
        services.payout_batch_create(currency=c.currency)
    assert exc.value.code == "payout_nobody_due"
    c.refresh_from_db()
    assert c.status == "settled"
    assert PromoterBalance.objects.get(promoter=c.promoter).balance_minor == c.settled_minor


def test_a2_below_minimum_order_amount_earns_nothing(setup):
    services.programme_enable(shop=setup["shop"], rate_bp=1000, min_order_minor=PAID + 1)
    c = run(order_for(setup, status="paid"))
    assert (c.below_minimum, c.amount_minor) == (True, 0)


def test_a2_most_specific_rate_wins(setup):
    product = setup["sku"].product
    services.rate_set(shop=setup["shop"], scope="category", category=product.category, rate_bp=1500)
    assert run(order_for(setup, status="paid")).lines[0][2] == 1500
    services.rate_set(shop=setup["shop"], scope="product", product=product, rate_bp=300)
    assert run(order_for(setup, status="paid")).lines[0][2] == 300


def test_a8_cent_minimum_switch_keeps_small_commissions(setup):
    # ¥0.90 paid: base 86 fen after the fee; 10% is 8.6 fen → 9, under the 10 fen floor
    sku = first_sku(make_product(setup["shop"], price_minor=90))
    make = lambda: make_order(  # noqa: E731
        setup["shop"], sku=sku, status="paid", affiliate_click_id=setup["click"].click_id
    )
    assert run(make()).amount_minor == 0
    services.cent_minimum_set(promoter=setup["link"].pid.promoter, enabled=True)
    assert run(make()).amount_minor == 9


def test_a5_no_commission_without_a_valid_click(setup, shop_b):
    shop = setup["shop"]
    # an unknown click id, a frozen PID's click, a click from another shop's link
    frozen_link = affkit.link(shop)
    type(frozen_link.pid).objects.filter(pk=frozen_link.pid_id).update(status=PidStatus.FROZEN)
    frozen_click = affkit.click(frozen_link)
    other_click = affkit.click(affkit.link(shop_b))
    for click_id in ("0" * 32, frozen_click.click_id, other_click.click_id):
        order = make_order(shop, sku=setup["sku"], status="paid", affiliate_click_id=click_id)
        assert run(order) is None


def test_a5_click_outside_the_window_does_not_attribute(setup):
    old = affkit.click(setup["link"], at=clock.now() - timedelta(days=7, minutes=1))
    order = make_order(
        setup["shop"], sku=setup["sku"], status="paid", affiliate_click_id=old.click_id
    )
    assert run(order) is None


def test_a2_disabled_programme_earns_nothing(setup):
    services.programme_disable(shop=setup["shop"])
    assert run(order_for(setup, status="paid")) is None


def test_a6_database_refuses_a_reversal_above_the_commission(setup):
    c = run(order_for(setup, status="paid"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Commission.objects.filter(pk=c.pk).update(reversed_minor=c.amount_minor + 1)


def test_a5_later_postback_click_wins_over_the_cookie(setup):
    from integrations.services import integration_create

    integration, _ = integration_create(name="Partner")
    order = order_for(setup)
    c = run(order)
    # another promoter's click, later than the cookie's but still before the order
    later_click = affkit.click(affkit.link(setup["shop"]), at=clock.now() - timedelta(minutes=30))
    duplicate, c2 = services.postback_receive(
        integration=integration,
        postback_id="pb-1",
        shop_external_id=setup["shop"].external_id,
        order_number=order.number,
        click_id=later_click.click_id,
    )
    assert duplicate is False
    assert c2.pk == c.pk
    assert c2.click_id == later_click.pk
    assert c2.promoter_id == later_click.pid.promoter_id


# --- a commission locked late: the order is already completed or disputed (A-6) --------------


def _late_postback(setup, order, postback_id="pb-late"):
    """The network's postback for ``order``, naming the setup's click, after every order event
    was handled (the order had no cookie: nothing was attributed then)."""
    from integrations.services import integration_create

    integration, _ = integration_create(name="Partner")
    _duplicate, commission = services.postback_receive(
        integration=integration,
        postback_id=postback_id,
        shop_external_id=setup["shop"].external_id,
        order_number=order.number,
        click_id=setup["click"].click_id,
    )
    return commission


def test_a6_commission_locked_after_completion_settles_after_the_return_window(setup):
    # given: a completed order without cookie, every event handled: nothing attributed
    order = make_order(setup["shop"], sku=setup["sku"], status="completed")
    assert run(order) is None

    # when: the postback arrives after the completion
    c = _late_postback(setup, order)

    # then: the return window runs from the completion, as order.completed would have set it
    assert c.completed_at == order.completed_at
    assert c.settle_due_at == order.completed_at + timedelta(days=15)
    fund(setup["shop"])
    assert services.commissions_pre_issue() == 1
    assert services.commissions_settle(now=c.settle_due_at - timedelta(seconds=1))["settled"] == 0
    assert services.commissions_settle(now=c.settle_due_at) == {"settled": 1, "blocked": 0}
    c.refresh_from_db()
    assert (c.status, c.settled_minor) == ("settled", EXPECTED)


def test_a6_commission_locked_during_an_open_dispute_is_held_until_the_dispute_closes(setup):
    # given: a paid order with a dispute open, every event handled: nothing attributed
    order = make_order(setup["shop"], sku=setup["sku"], status="paid", disputed=True)
    seen = set()
    assert run(order, seen) is None

    # when: the postback arrives during the dispute
    c = _late_postback(setup, order)

    # then: on hold for the dispute, as dispute.opened would have held it; not pre-issued
    assert (c.status, c.held_from, c.hold_reason) == ("on_hold", "locked", "dispute")
    assert services.commissions_pre_issue() == 0

    # and the dispute's close returns it to where it was
    dispute_id = Order.objects.get(pk=order.pk).disputes.get().external_id
    orders.dispute_close(
        order=Order.objects.get(pk=order.pk),
        dispute_id=dispute_id,
        closed_at=clock.now(),
        outcome="seller_won",
    )
    c = run(order, seen)
    assert (c.status, c.held_from, c.hold_reason) == ("locked", "", "")
    assert services.commissions_pre_issue() == 1


# --- locked once a payment method is chosen (A-6) --------------------------------------------


def test_a6_no_commission_locked_before_a_payment_method_then_locked_at_payment(setup):
    # given: an order placed without a payment method, its click 6 days 23 h before it
    placed = clock.now() - timedelta(hours=3)
    click = affkit.click(setup["link"], at=placed - timedelta(days=6, hours=23))
    order = make_order(
        setup["shop"],
        sku=setup["sku"],
        status="pending_payment",
        payment_method="",
        placed_at=placed,
        affiliate_click_id=click.click_id,
    )
    seen = set()
    assert run(order, seen) is None  # no method chosen: nothing locked yet
    assert not Commission.objects.exists()
    services.rate_set(shop=setup["shop"], scope="shop", rate_bp=2000)  # the rate changes

    # when: paid (the method chosen) 2 h after the placement: the click is now past 7 days old
    paid_at = placed + timedelta(hours=2)
    orders.order_pay(
        order=order, payment_id="p1", amount_minor=PAID, method="alipay", paid_at=paid_at
    )
    c = run(order, seen)

    # then: locked now at today's rate, by the click within the window of the placement
    assert (c.status, c.click_id, c.paid_at) == ("locked", click.pk, paid_at)
    assert c.lines == [[setup["sku"].product_id, PAID, 2000]]
    assert c.amount_minor == 2 * EXPECTED
    assert c.promoter.trial is False
    assert services.commissions_pre_issue() == 1
    assert run(order, seen).status == "pre_issued"
    assert Commission.objects.count() == 1


def test_a6_payment_method_chosen_at_creation_locks_at_once(setup):
    order = order_for(setup, payment_method="paypal")
    c = run(order)
    assert (c.status, c.paid_at) == ("locked", None)
    assert c.lines == [[setup["sku"].product_id, PAID, 1000]]


def test_a6_cancelled_before_a_payment_method_was_chosen_locks_nothing(setup):
    order = order_for(setup, status="cancelled", payment_method="")
    assert run(order) is None
    assert not Commission.objects.exists()


# --- a click still in the buffer when its order is handled (A-5) -----------------------------


def _buffered_click(setup) -> str:
    """A click answered now and left in the Redis buffer (not flushed)."""
    from affiliate.services import clicks

    target = clicks.link_target(setup["link"].code)
    click_id = clicks.click_record(target=target, ip="203.0.113.9", user_agent="UA", referrer="")
    assert clicks.buffered() == 1
    return click_id


def test_a5_order_handled_while_its_click_is_buffered_is_attributed_by_the_flush(setup):
    from affiliate.services import clicks

    # given: the click still buffered when the order (placed a minute later) is handled
    click_id = _buffered_click(setup)
    order = order_for(
        setup, placed_at=clock.now() + timedelta(minutes=1), affiliate_click_id=click_id
    )
    seen = set()
    assert run(order, seen) is None

    # when: the flusher writes the click
    clicks.flush()

    # then: the order's commission is locked with that click
    c = Commission.objects.get(order=order)
    assert (c.status, c.click.click_id, c.amount_minor) == ("locked", click_id, EXPECTED)

    # and it runs its course: paid → pre-issued
    orders.order_pay(
        order=Order.objects.get(pk=order.pk),
        payment_id="p1",
        amount_minor=PAID,
        method="card",
        paid_at=clock.now() + timedelta(minutes=2),
    )
    run(order, seen)
    assert services.commissions_pre_issue(now=clock.now() + timedelta(minutes=5)) == 1
    c.refresh_from_db()
    assert c.status == "pre_issued"


def test_a5_flush_attribution_is_idempotent(setup):
    from affiliate.services import clicks
    from affiliate.services.commissions import orders_attribute_for_clicks

    # given: a buffered click, its order handled, the batch flushed
    click_id = _buffered_click(setup)
    raw = clicks.redis_client().lrange(clicks.QUEUE, 0, -1)
    order = order_for(
        setup, placed_at=clock.now() + timedelta(minutes=1), affiliate_click_id=click_id
    )
    run(order)
    clicks.flush()

    # when: the same batch flushed again (a flusher killed before deleting it) and attributed
    clicks.redis_client().rpush(clicks.PROCESSING, *raw)
    clicks.flush()
    from affiliate.models import Click

    orders_attribute_for_clicks(clicks=list(Click.objects.filter(click_id=click_id)))

    # then: one commission
    assert Commission.objects.filter(order=order).count() == 1


def test_a5_postback_naming_a_buffered_click_is_attributed_by_the_flush(setup):
    from affiliate.services import clicks
    from integrations.services import integration_create

    # given: an order without cookie, its postback naming a click still buffered
    click_id = _buffered_click(setup)
    order = order_for(setup, placed_at=clock.now() + timedelta(minutes=1), affiliate_click_id="")
    run(order)
    integration, _ = integration_create(name="Partner")
    _dup, commission = services.postback_receive(
        integration=integration,
        postback_id="pb-1",
        shop_external_id=setup["shop"].external_id,
        order_number=order.number,
        click_id=click_id,
    )
    assert commission is None

    # when
    clicks.flush()

    # then
    assert Commission.objects.get(order=order).click.click_id == click_id


def test_a5_flush_leaves_orders_of_other_shops_and_earlier_orders_alone(setup, shop_b):
    from affiliate.services import clicks

    # given: a buffered click of shop A's link, named by an order of shop B and by an order of
    # shop A placed before the click
    click_id = _buffered_click(setup)
    affkit.enable(shop_b, rate_bp=1000)
    theirs = make_order(
        shop_b,
        sku=first_sku(make_product(shop_b, price_minor=PAID)),
        status="pending_payment",
        placed_at=clock.now() + timedelta(minutes=1),
        affiliate_click_id=click_id,
    )
    earlier = order_for(
        setup, placed_at=clock.now() - timedelta(minutes=1), affiliate_click_id=click_id
    )
    run(theirs)
    run(earlier)

    # when
    clicks.flush()

    # then
    assert not Commission.objects.exists()


@pytest.mark.parametrize(("units_per_usd", "expected"), [("7.1", 0), ("4.0", 48)])
def test_a8_s0_a_yuan_commission_under_ten_us_cents_rounds_to_zero(setup, units_per_usd, expected):
    # given: 0.5% of the ¥95.00 base = ¥0.475 → ¥0.48; $0.10 is ¥0.71 at 7.1, ¥0.40 at 4.0
    from decimal import Decimal

    from core.models import FxRate

    FxRate.objects.create(
        currency="CNY",
        day=clock.natural_day() - timedelta(days=1),
        units_per_usd=Decimal(units_per_usd),
    )
    services.rate_set(shop=setup["shop"], scope="shop", rate_bp=50)
    # when
    c = run(order_for(setup, status="paid"))
    # then
    assert (c.base_minor, c.amount_minor) == (95_00, expected)
