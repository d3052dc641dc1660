"""Fraud holds (Issue 9 item 9; SPEC A-6 "on hold"): self-referral (the promoter's own buyer
account or its device), an order too soon after its click, a refund-rate spike per PID → the
commission on hold with its reason for admin and promoter; released or confirmed by an admin.
Each rule at its exact boundary, its numbers from the registry."""

from datetime import timedelta

import affkit
import pytest
from constance import config
from django.urls import reverse
from factories import first_sku, make_buyer, make_order, make_product

from affiliate import fraud, rules, services
from affiliate.models import Commission, CommissionHold, PromoterNotice
from core import clock
from core.errors import InvalidTransition
from orders import services as orders
from orders.models import Order, OrderEvent


def test_a6_fraud_registry_defaults(db):
    assert rules.fraud_min_click_seconds() == 10
    assert rules.fraud_refund_rate_bp() == 3000
    assert rules.fraud_refund_min_orders() == 10
    assert rules.fraud_refund_window() == timedelta(days=30)


# --- the holds through the commission lifecycle ---------------------------------------------


@pytest.fixture
def world(shop_a):
    affkit.enable(shop_a, rate_bp=1000)
    link = affkit.link(shop_a)
    sku = first_sku(make_product(shop_a, price_minor=100_00))
    return {"shop": shop_a, "link": link, "sku": sku, "promoter": link.pid.promoter}


def _order(world, *, click, status="paid", buyer=None, placed_at=None):
    order = make_order(
        world["shop"],
        buyer,
        sku=world["sku"],
        status=status,
        affiliate_click_id=click.click_id,
        placed_at=placed_at or clock.now(),
    )
    affkit.apply_events(order)
    return order, Commission.objects.get(order=order)


def _hour_ago_click(world):
    return affkit.click(world["link"], at=clock.now() - timedelta(hours=1))


@pytest.mark.parametrize(("seconds", "held"), [(9.999, True), (10, False)])
def test_a6_fraud_order_too_soon_after_its_click_is_held_at_the_boundary(world, seconds, held):
    # given: the click, then the order placed `seconds` later (registry minimum 10 s)
    placed = clock.now() - timedelta(minutes=5)
    click = affkit.click(world["link"], at=placed - timedelta(seconds=seconds))

    # when
    order, c = _order(world, click=click, placed_at=placed)

    # then: held (reason for the admin and the promoter), or not at all
    if not held:
        assert (c.status, c.hold_reason) == ("locked", "")
        assert not CommissionHold.objects.exists()
        return
    assert (c.status, c.held_from, c.hold_reason) == ("on_hold", "locked", "fraud")
    hold = CommissionHold.objects.get(commission=c)
    assert (hold.rule, hold.details) == ("too_fast", {"seconds": 10.0, "min_seconds": 10})
    assert fraud.reason_text(hold, language="en") == (
        "Ordered 10.0 s after the click (a human takes at least 10 s)."
    )
    notice = PromoterNotice.objects.get(promoter=world["promoter"], kind="hold")
    assert order.number in notice.text
    assert "after the click" in notice.text


def test_a6_fraud_too_fast_minimum_comes_from_the_registry(world):
    config.AFFILIATE_FRAUD_MIN_CLICK_SECONDS = 120
    placed = clock.now() - timedelta(minutes=5)
    click = affkit.click(world["link"], at=placed - timedelta(seconds=119))

    _, c = _order(world, click=click, placed_at=placed)

    assert c.status == "on_hold"


def test_a6_fraud_self_referral_by_the_promoters_own_buyer_account(world):
    # given: the buyer account with the promoter's email (case aside)
    own = make_buyer(email=world["promoter"].email.upper())

    _, c = _order(world, click=_hour_ago_click(world), buyer=own)

    hold = CommissionHold.objects.get(commission=c)
    assert (c.status, hold.rule, hold.details) == ("on_hold", "self_referral", {"match": "account"})
    assert fraud.reason_text(hold, language="en") == (
        "The order was placed from the promoter's own buyer account."
    )


def test_a6_fraud_self_referral_by_a_device_of_the_promoters_buyer_account(world):
    make_buyer(email=world["promoter"].email, device_id="dev-42")
    other_account = make_buyer(device_id="dev-42")

    _, c = _order(world, click=_hour_ago_click(world), buyer=other_account)

    hold = CommissionHold.objects.get(commission=c)
    assert (hold.rule, hold.details) == ("self_referral", {"match": "device"})


def test_a6_fraud_another_device_or_no_promoter_account_is_not_self_referral(world):
    make_buyer(email=world["promoter"].email, device_id="dev-42")
    stranger = make_buyer(device_id="dev-43")
    no_device = make_buyer(device_id="")

    _, c1 = _order(world, click=_hour_ago_click(world), buyer=stranger)
    _, c2 = _order(world, click=_hour_ago_click(world), buyer=no_device)

    assert (c1.status, c2.status) == ("locked", "locked")
    assert not CommissionHold.objects.exists()


def _refund_in_full(order, rid):
    order = Order.objects.get(pk=order.pk)
    orders.order_refund(
        order=order, refund_id=rid, amount_minor=order.amount_paid_minor, refunded_at=clock.now()
    )


@pytest.fixture
def spike_numbers():
    config.AFFILIATE_FRAUD_REFUND_MIN_ORDERS = 4
    config.AFFILIATE_FRAUD_REFUND_RATE_BP = 5000  # 50%


def test_a6_fraud_refund_spike_holds_the_pids_open_commissions_at_the_exact_rate(
    world, spike_numbers
):
    # given: 4 paid attributed orders of one PID (the minimum), one refunded: 25%
    click = _hour_ago_click(world)
    placed = [_order(world, click=click) for _ in range(4)]
    seen: set[int] = set()
    _refund_in_full(placed[0][0], "r0")
    affkit.apply_events(placed[0][0], seen)
    assert not CommissionHold.objects.exists()

    # when: a second one is refunded: 2 of 4 = exactly 50%
    _refund_in_full(placed[1][0], "r1")
    affkit.apply_events(placed[1][0], seen)

    # then: the two still open are held; the reversed ones are not (no money to hold)
    statuses = {o.pk: Commission.objects.get(order=o).status for o, _ in placed}
    assert [statuses[o.pk] for o, _ in placed] == ["reversed", "reversed", "on_hold", "on_hold"]
    hold = CommissionHold.objects.filter(rule="refund_spike").order_by("pk").first()
    assert hold.details == {
        "pid": world["link"].pid.code,
        "paid": 4,
        "refunded": 2,
        "rate_bp": 5000,
        "min_orders": 4,
        "days": 30,
    }
    assert fraud.reason_text(hold, language="en") == (
        f"PID {world['link'].pid.code}: 2 of 4 paid orders refunded in 30 days "
        "(50%; the limit is 50%)."
    )


def test_a6_fraud_refund_spike_below_the_minimum_orders_holds_nothing(world, spike_numbers):
    click = _hour_ago_click(world)
    placed = [_order(world, click=click) for _ in range(3)]  # one under the minimum
    for i, (o, _) in enumerate(placed[:2]):
        _refund_in_full(o, f"r{i}")
        affkit.apply_events(o)

    assert not CommissionHold.objects.exists()
    assert Commission.objects.get(order=placed[2][0]).status == "locked"


def test_a6_fraud_a_new_order_on_a_spiking_pid_is_held_at_lock(world, spike_numbers):
    click = _hour_ago_click(world)
    placed = [_order(world, click=click) for _ in range(4)]
    for i, (o, _) in enumerate(placed[:2]):
        _refund_in_full(o, f"r{i}")
        affkit.apply_events(o)

    _, c = _order(world, click=click)

    assert c.status == "on_hold"
    assert CommissionHold.objects.filter(commission=c, rule="refund_spike").exists()


# --- the admin's decisions ------------------------------------------------------------------


def _held(world):
    from buyers.models import Buyer

    own = Buyer.objects.filter(email=world["promoter"].email).first() or make_buyer(
        email=world["promoter"].email
    )
    _, c = _order(world, click=_hour_ago_click(world), buyer=own)
    return c, CommissionHold.objects.get(commission=c)


def test_a6_fraud_held_commission_is_neither_pre_issued_nor_ends_the_trial(world):
    c, _ = _held(world)

    services.commissions_pre_issue()

    c.refresh_from_db()
    world["promoter"].refresh_from_db()
    assert (c.status, c.paid_at is not None) == ("on_hold", True)
    assert world["promoter"].trial is True


def test_a6_fraud_release_returns_the_commission_and_ends_the_trial(world, admin_user):
    c, hold = _held(world)

    fraud.hold_release(hold_id=hold.pk, user=admin_user, note="Family member, allowed")

    c.refresh_from_db()
    hold.refresh_from_db()
    world["promoter"].refresh_from_db()
    assert (c.status, c.held_from, c.hold_reason) == ("locked", "", "")
    assert (hold.decision, hold.decided_by, hold.note) == (
        "released",
        admin_user,
        "Family member, allowed",
    )
    assert world["promoter"].trial is False
    assert services.commissions_pre_issue() == 1
    assert PromoterNotice.objects.filter(kind="hold_released").count() == 1


def test_a6_fraud_confirm_voids_the_commission_and_closes_its_other_holds(world, admin_user):
    # given: held by two rules (own account, and ordered at once after the click)
    own = make_buyer(email=world["promoter"].email)
    placed = clock.now() - timedelta(minutes=5)
    click = affkit.click(world["link"], at=placed - timedelta(seconds=2))
    _, c = _order(world, click=click, buyer=own, placed_at=placed)
    holds = list(CommissionHold.objects.filter(commission=c).order_by("rule"))
    assert [h.rule for h in holds] == ["self_referral", "too_fast"]

    fraud.hold_confirm(hold_id=holds[0].pk, user=admin_user)

    c.refresh_from_db()
    assert (c.status, c.voided_at is not None) == ("void", True)
    assert set(CommissionHold.objects.values_list("decision", flat=True)) == {"confirmed"}


def test_a6_fraud_release_of_one_hold_keeps_the_commission_held_by_another(world, admin_user):
    own = make_buyer(email=world["promoter"].email)
    placed = clock.now() - timedelta(minutes=5)
    click = affkit.click(world["link"], at=placed - timedelta(seconds=2))
    _, c = _order(world, click=click, buyer=own, placed_at=placed)
    first, second = CommissionHold.objects.filter(commission=c).order_by("rule")

    fraud.hold_release(hold_id=first.pk, user=admin_user)
    c.refresh_from_db()
    assert c.status == "on_hold"

    fraud.hold_release(hold_id=second.pk, user=admin_user)
    c.refresh_from_db()
    assert c.status == "locked"


def test_a6_fraud_a_decided_hold_cannot_be_decided_again(world, admin_user):
    _, hold = _held(world)
    fraud.hold_release(hold_id=hold.pk, user=admin_user)

    with pytest.raises(InvalidTransition):
        fraud.hold_confirm(hold_id=hold.pk, user=admin_user)
    assert CommissionHold.objects.get(pk=hold.pk).decision == "released"


def test_a6_fraud_a_released_refund_spike_hold_is_not_raised_again(
    world, spike_numbers, admin_user
):
    click = _hour_ago_click(world)
    placed = [_order(world, click=click) for _ in range(4)]
    for i, (o, _) in enumerate(placed[:2]):  # 2 of 4: the spike holds the two open ones
        _refund_in_full(o, f"r{i}")
        affkit.apply_events(o)
    open_one = Commission.objects.get(order=placed[2][0])
    hold = CommissionHold.objects.get(commission=open_one)
    fraud.hold_release(hold_id=hold.pk, user=admin_user)

    # when: a third refund on the PID (3 of 4: still a spike)
    _refund_in_full(placed[3][0], "r3")
    affkit.apply_events(placed[3][0])

    # then: the released one stays released and running
    open_one.refresh_from_db()
    assert open_one.status == "locked"
    assert CommissionHold.objects.filter(commission=open_one).count() == 1


def test_a6_fraud_hold_is_not_released_by_a_dispute_closing(world):
    c, _ = _held(world)
    order = Order.objects.get(pk=c.order_id)
    services.order_event_apply(
        event_type="dispute.closed",
        order_id=order.pk,
        payload={"dispute_id": 1, "outcome": "seller_won"},
        occurred_at=clock.now(),
    )

    c.refresh_from_db()
    assert (c.status, c.hold_reason) == ("on_hold", "fraud")


def test_a6_fraud_release_during_an_open_dispute_keeps_it_held_for_the_dispute(world, admin_user):
    # given: a commission held for fraud, then a dispute opened on its order (handled)
    c, hold = _held(world)
    order = Order.objects.get(pk=c.order_id)
    seen = set(OrderEvent.objects.filter(order=order).values_list("pk", flat=True))
    orders.dispute_open(order=order, dispute_id="d1", opened_at=clock.now())
    affkit.apply_events(order, seen)

    # when: the admin releases the fraud hold while the dispute is open
    fraud.hold_release(hold_id=hold.pk, user=admin_user)

    # then: still on hold, now for the dispute; not pre-issued; the paid order ends the trial
    c.refresh_from_db()
    world["promoter"].refresh_from_db()
    assert (c.status, c.held_from, c.hold_reason) == ("on_hold", "locked", "dispute")
    assert services.commissions_pre_issue() == 0
    assert world["promoter"].trial is False

    # and the dispute's close returns it to where it was
    orders.dispute_close(
        order=Order.objects.get(pk=order.pk),
        dispute_id="d1",
        closed_at=clock.now(),
        outcome="seller_won",
    )
    affkit.apply_events(order, seen)
    c.refresh_from_db()
    assert (c.status, c.held_from, c.hold_reason) == ("locked", "", "")
    assert services.commissions_pre_issue() == 1


def test_a6_fraud_release_after_the_dispute_closed_returns_the_commission(world, admin_user):
    # given: held for fraud; a dispute opened and closed (won by the seller) meanwhile
    c, hold = _held(world)
    order = Order.objects.get(pk=c.order_id)
    seen = set(OrderEvent.objects.filter(order=order).values_list("pk", flat=True))
    orders.dispute_open(order=order, dispute_id="d1", opened_at=clock.now())
    orders.dispute_close(
        order=Order.objects.get(pk=order.pk),
        dispute_id="d1",
        closed_at=clock.now(),
        outcome="seller_won",
    )
    affkit.apply_events(order, seen)

    # when
    fraud.hold_release(hold_id=hold.pk, user=admin_user)

    # then
    c.refresh_from_db()
    assert (c.status, c.held_from, c.hold_reason) == ("locked", "", "")
    assert services.commissions_pre_issue() == 1


def test_a6_fraud_promoter_selector_lists_holds_with_their_reason(world, admin_user):
    _, hold = _held(world)
    other = affkit.promoter()

    assert list(fraud.holds_for_promoter(world["promoter"])) == [hold]
    assert list(fraud.holds_for_promoter(world["promoter"], open_only=True)) == [hold]
    assert list(fraud.holds_for_promoter(other)) == []
    fraud.hold_release(hold_id=hold.pk, user=admin_user)
    assert list(fraud.holds_for_promoter(world["promoter"], open_only=True)) == []
    assert list(fraud.holds_open()) == []


def test_a6_fraud_reason_in_chinese(world):
    _, hold = _held(world)
    assert fraud.reason_text(hold, language="zh-hans") != fraud.reason_text(hold, language="en")


# --- the admin page -------------------------------------------------------------------------


def test_a6_fraud_admin_lists_holds_with_reasons_in_few_queries(
    admin_client, world, django_assert_max_num_queries
):
    for _ in range(3):
        _held(world)
    url = reverse("admin:affiliate_commissionhold_changelist")

    with django_assert_max_num_queries(12):
        response = admin_client.get(url)

    assert response.status_code == 200
    assert response.content.count(b"own buyer account") == 3


def test_a6_fraud_admin_release_action(admin_client, world):
    c, hold = _held(world)
    url = reverse("admin:affiliate_commissionhold_changelist")

    response = admin_client.post(
        url, {"action": "release", "_selected_action": [hold.pk]}, follow=True
    )

    assert response.status_code == 200
    assert b"1 hold(s) released." in response.content
    c.refresh_from_db()
    assert c.status == "locked"


def test_a6_fraud_admin_second_decision_is_a_message_not_an_error(admin_client, world, admin_user):
    _, hold = _held(world)
    fraud.hold_release(hold_id=hold.pk, user=admin_user)

    response = admin_client.post(
        reverse("admin:affiliate_commissionhold_changelist"),
        {"action": "confirm", "_selected_action": [hold.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert b"already decided" in response.content
    assert CommissionHold.objects.get(pk=hold.pk).decision == "released"
