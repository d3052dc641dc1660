"""SPEC E-6 layer 1: the 15-minute stock/price consistency check on activity orders."""

from datetime import timedelta

import pytest
from actkit import DAY1_10H, H, Seller, make_activity
from django.core import mail
from django.urls import reverse
from django.utils import translation
from factories import make_member

from activities import services, tasks
from activities.models import ActivityOrder, ConsistencyIssue, ConsistencyKind
from orders import eventlog
from orders import services as orders
from orders.inputs import LineInput, OrderInput
from orders.models import OrderEvent
from shops.models import Notification

pytestmark = pytest.mark.django_db

M = timedelta(minutes=1)


def deliver():
    """Hand every recorded order event to the consumers (what the delivery task does)."""
    eventlog.deliver(list(OrderEvent.objects.order_by("pk").values_list("pk", flat=True)))


def enrol(seller, activity, *, price=40_00, stock=3, at=DAY1_10H - 2 * H):
    return services.enrolment_create(
        shop=seller.shop,
        activity=activity,
        sku=seller.sku,
        activity_price_minor=price,
        stock=stock,
        now=at,
    )


def activity_order(seller, activity, at, *, price=40_00, quantity=1, number=None):
    seller.n += 1
    return orders.order_create(
        OrderInput(
            shop=seller.shop,
            buyer=seller.buyer,
            number=number or f"{seller.shop.pk}-A{seller.n:05d}",
            lines=[LineInput(sku=seller.sku, quantity=quantity, unit_price_minor=price)],
            placed_at=at,
            payment_method="card",
            activity_id=activity.pk if activity is not None else 999_999,
        )
    )


def kinds(order):
    return sorted(ConsistencyIssue.objects.filter(order=order).values_list("kind", flat=True))


def test_e6_consumer_records_only_activity_orders(seller, activity):
    # given
    enrol(seller, activity)
    plain = seller.order(DAY1_10H)
    through = activity_order(seller, activity, DAY1_10H)
    # when
    deliver()
    deliver()  # handled once
    # then
    assert list(ActivityOrder.objects.values_list("order_id", flat=True)) == [through.pk]
    assert not ActivityOrder.objects.filter(order=plain).exists()


def test_e6_matching_order_has_no_finding(seller, activity):
    enrol(seller, activity)
    order = activity_order(seller, activity, DAY1_10H)
    deliver()
    result = services.consistency_check(now=DAY1_10H + 15 * M)
    assert (result.checked, result.issues) == (1, 0)
    assert kinds(order) == []
    assert ActivityOrder.objects.get().checked_at == DAY1_10H + 15 * M


def test_e6_price_differing_from_activity_price_is_flagged(seller, activity):
    enrol(seller, activity, price=40_00)
    order = activity_order(seller, activity, DAY1_10H, price=40_01)
    deliver()
    services.consistency_check(now=DAY1_10H + 15 * M)
    issue = ConsistencyIssue.objects.get(order=order)
    assert issue.kind == ConsistencyKind.PRICE
    assert issue.sku_id == seller.sku.pk
    assert "40.00" in issue.expected
    assert "40.01" in issue.found


def test_e6_units_exactly_the_activity_stock_pass_one_more_is_oversold(seller, activity):
    # given: 3 units of activity stock
    enrol(seller, activity, stock=3)
    first = activity_order(seller, activity, DAY1_10H, quantity=2)
    second = activity_order(seller, activity, DAY1_10H + M, quantity=1)  # 3 of 3: not oversold
    third = activity_order(seller, activity, DAY1_10H + 2 * M, quantity=1)  # 4 of 3
    deliver()
    # when
    services.consistency_check(now=DAY1_10H + 15 * M)
    # then
    assert kinds(first) == kinds(second) == []
    assert kinds(third) == [ConsistencyKind.OVERSOLD]
    issue = ConsistencyIssue.objects.get(order=third)
    assert (issue.expected, issue.found) == ("3", "4")


def test_e6_cancelled_orders_release_their_units(seller, activity):
    enrol(seller, activity, stock=2)
    first = activity_order(seller, activity, DAY1_10H, quantity=2)
    orders.order_cancel(order=first, cancelled_at=DAY1_10H + M)
    second = activity_order(seller, activity, DAY1_10H + 2 * M, quantity=2)
    deliver()
    services.consistency_check(now=DAY1_10H + 15 * M)
    assert kinds(second) == []


def test_e6_sku_not_enrolled_when_ordered_is_flagged(seller, activity):
    # given: the SKU left the activity (withdrawn) before the order
    e = enrol(seller, activity)
    services.enrolment_withdraw(shop=seller.shop, enrolment_id=e.pk, now=DAY1_10H - H)
    order = activity_order(seller, activity, DAY1_10H)
    deliver()
    services.consistency_check(now=DAY1_10H + 15 * M)
    assert kinds(order) == [ConsistencyKind.NOT_ENROLLED]


def test_e6_order_outside_the_window_and_unknown_activity(seller):
    activity = make_activity(
        starts_at=DAY1_10H + H, ends_at=DAY1_10H + 10 * H, enrol_until=DAY1_10H + 5 * H
    )
    enrol(seller, activity, at=DAY1_10H - 5 * H)
    early = activity_order(seller, activity, DAY1_10H + H - M)  # a minute before it starts
    on_time = activity_order(seller, activity, DAY1_10H + H)  # exactly at the start
    unknown = activity_order(seller, None, DAY1_10H + H)
    deliver()
    services.consistency_check(now=DAY1_10H + 2 * H)
    assert kinds(early) == [ConsistencyKind.OUTSIDE_WINDOW]
    assert kinds(on_time) == []
    assert kinds(unknown) == [ConsistencyKind.UNKNOWN_ACTIVITY]


def test_e6_check_is_idempotent_and_batches(seller, activity):
    enrol(seller, activity, price=40_00, stock=100)
    for i in range(5):
        activity_order(seller, activity, DAY1_10H + i * M, price=41_00)
    deliver()
    # when: batches of 2, then again over everything
    r = services.consistency_check_all(now=DAY1_10H + 15 * M, batch=2)
    assert (r.checked, r.issues) == (5, 5)
    assert services.consistency_check_all(now=DAY1_10H + 16 * M).checked == 0
    ActivityOrder.objects.update(checked_at=None)  # a crash after the issues, before the mark
    services.consistency_check_all(now=DAY1_10H + 17 * M)
    # then: each finding once
    assert ConsistencyIssue.objects.count() == 5


def test_e6_task_runs_through_json(seller, activity):
    enrol(seller, activity, price=40_00)
    activity_order(seller, activity, DAY1_10H, price=39_00)
    deliver()
    result = tasks.consistency_check_task.delay().get()
    assert result == {"checked": 1, "issues": 1}


def test_e6_monitor_and_checks_page_show_findings_tenant_isolated(
    django_assert_max_num_queries,
):
    # given: a finding for shop A and one for shop B
    a, b = Seller(), Seller()
    activity = make_activity()
    for s in (a, b):
        enrol(s, activity)
        activity_order(s, activity, DAY1_10H, price=45_00, number=f"ORD-{s.shop.pk}")
    deliver()
    services.consistency_check(now=DAY1_10H + 15 * M)
    from factories import login_client, make_user

    from shops.services import membership_grant

    user = make_user()
    membership_grant(shop=a.shop, user=user, role="owner")
    client = login_client(user, a.shop)
    # when
    with django_assert_max_num_queries(16):
        monitor = client.get(reverse("activities:monitor"))
    with django_assert_max_num_queries(14):
        page = client.get(reverse("activities:checks"))
    # then
    for r in (monitor, page):
        body = r.content.decode()
        assert r.status_code == 200
        assert f"ORD-{a.shop.pk}" in body
        assert f"ORD-{b.shop.pk}" not in body
        assert "Price differs from the activity price" in body


def test_e6_new_findings_notify_the_shop_staff_once(
    seller, activity, django_capture_on_commit_callbacks
):
    # given: staff in the shop, and two activity orders sold above the activity price
    owner = make_member(seller.shop)
    enrol(seller, activity, price=40_00, stock=100)
    first = activity_order(seller, activity, DAY1_10H, price=41_00)
    activity_order(seller, activity, DAY1_10H + M, price=40_00)  # matches: not a finding
    deliver()

    # when: the check finds it
    with django_capture_on_commit_callbacks(execute=True):
        result = services.consistency_check(now=DAY1_10H + 15 * M)

    # then: one notice, naming the order, the SKU, what differs and both prices, to the checks page
    assert result.issues == 1
    note = Notification.objects.get(shop=seller.shop, recipient=owner)
    assert note.kind == "activity_check"
    assert note.title == "1 finding in your activity orders"
    assert first.number in note.body
    assert seller.sku.code in note.body
    assert "Price differs from the activity price" in note.body
    assert "expected ¥40.00, found ¥41.00" in note.body
    assert note.link == reverse("activities:checks")
    assert [m.subject for m in mail.outbox if owner.email in m.to] == [
        f"{seller.shop.name}: {note.title}"
    ]

    # when: the next passes (every 15 minutes) and a re-check of the same order find it again
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.consistency_check_all(now=DAY1_10H + 30 * M)
        ActivityOrder.objects.update(checked_at=None)
        again = services.consistency_check_all(now=DAY1_10H + 45 * M)

    # then: the same finding is not announced again
    assert again.issues == 0
    assert Notification.objects.filter(shop=seller.shop).count() == 1
    assert mail.outbox == []

    # when: a new order brings a new finding
    activity_order(seller, activity, DAY1_10H + 50 * M, price=39_00)
    deliver()
    services.consistency_check(now=DAY1_10H + 60 * M)
    # then: one more notice, for that finding only
    notes = Notification.objects.filter(shop=seller.shop).order_by("pk")
    assert notes.count() == 2
    assert first.number not in notes.last().body


def test_e6_finding_notice_is_translated_and_names_no_other_shop(activity):
    # given: findings in two shops, staff in each
    a, b = Seller(), Seller()
    staff = {s.shop.pk: make_member(s.shop) for s in (a, b)}
    for s in (a, b):
        enrol(s, activity)
        activity_order(s, activity, DAY1_10H, price=45_00, number=f"ORD-{s.shop.pk}")
    deliver()

    # when: the check runs (a job: whatever language it runs in)
    with translation.override("zh-hans"):
        services.consistency_check(now=DAY1_10H + 15 * M)

    # then: each shop's staff hear about their own order only, worded in the reader's language
    for s, other in ((a, b), (b, a)):
        note = Notification.objects.get(recipient=staff[s.shop.pk])
        assert f"ORD-{s.shop.pk}" in note.body
        assert f"ORD-{other.shop.pk}" not in note.body
        with translation.override("zh-hans"):
            zh = Notification.objects.get(pk=note.pk)
            assert zh.shown_title == translation.ngettext(
                "%(count)d finding in your activity orders",
                "%(count)d findings in your activity orders",
                1,
            ) % {"count": 1}
            assert "finding in your activity orders" not in zh.shown_title
            assert f"ORD-{s.shop.pk}" in zh.shown_body
        with translation.override("en"):
            en = Notification.objects.get(pk=note.pk)
            assert en.shown_title == "1 finding in your activity orders"
        # the stored wording (admin, email) is English
        assert note.title == "1 finding in your activity orders"


@pytest.mark.parametrize("passes", [1, 2])
def test_e6_units_count_against_the_enrolment_live_when_ordered(seller, activity, passes):
    # given: 2 units of activity stock, both sold; the SKU withdrawn and enrolled again with 2
    first = enrol(seller, activity, stock=2)
    sold_out = activity_order(seller, activity, DAY1_10H, quantity=2)
    deliver()
    if passes == 2:
        services.consistency_check(now=DAY1_10H + M)
    services.enrolment_withdraw(shop=seller.shop, enrolment_id=first.pk, now=DAY1_10H + 2 * M)
    enrol(seller, activity, stock=2, at=DAY1_10H + 3 * M)
    # when: one unit under the new enrolment, checked in the same pass or a later one
    again = activity_order(seller, activity, DAY1_10H + 4 * M, quantity=1)
    deliver()
    services.consistency_check_all(now=DAY1_10H + 15 * M)
    # then: 1 of its own 2 units — what the first enrolment sold does not count against it
    assert kinds(sold_out) == kinds(again) == []
    assert ActivityOrder.objects.filter(checked_at__isnull=True).count() == 0


@pytest.mark.parametrize("batch", [1, 5_000])
def test_e6_one_pass_or_several_batches_find_the_same(seller, activity, batch):
    # given: a re-enrolment oversold by one unit of its own stock
    first = enrol(seller, activity, stock=2)
    activity_order(seller, activity, DAY1_10H, quantity=2)
    services.enrolment_withdraw(shop=seller.shop, enrolment_id=first.pk, now=DAY1_10H + M)
    enrol(seller, activity, stock=2, at=DAY1_10H + 2 * M)
    activity_order(seller, activity, DAY1_10H + 3 * M, quantity=2)
    over = activity_order(seller, activity, DAY1_10H + 4 * M, quantity=1)
    deliver()
    # when: checked one order per batch, or all in one
    services.consistency_check_all(now=DAY1_10H + 15 * M, batch=batch)
    # then: the third order is 3 of the re-enrolment's 2 units, nothing else is flagged
    assert list(ConsistencyIssue.objects.values_list("order_id", "kind", "expected", "found")) == [
        (over.pk, ConsistencyKind.OVERSOLD, "2", "3")
    ]
