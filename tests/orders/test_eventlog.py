"""The order event log delivered to its consumers exactly once (DESIGN §1b), through lost tasks,
failing handlers, out-of-order commits, concurrent deliverers and a killed worker.

The consumer is ``tests/eventprobe``: it records each handling that commits, so "exactly once"
is ``Handling`` count == 1 for every event.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection, connections, transaction
from factories import amount_due, make_buyer, make_order, make_shop

from core import clock
from orders import eventlog, events
from orders import services as svc
from orders.models import ConsumedEvent, ConsumerCursor, ConsumerFailure, OrderEvent
from tests.eventprobe import consumer as probe_consumer
from tests.eventprobe.models import Handling

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def probe(no_module_consumers):
    c = probe_consumer.register()
    yield c
    events.unregister(c.name)


def handled() -> Counter:
    return Counter(Handling.objects.values_list("event_id", flat=True))


def all_ids() -> list[int]:
    return list(OrderEvent.objects.order_by("id").values_list("id", flat=True))


def assert_each_handled_once() -> None:
    ids = all_ids()
    assert ids, "no events were written"
    counts = handled()
    assert {i: counts[i] for i in ids} == dict.fromkeys(ids, 1)
    assert set(
        ConsumedEvent.objects.filter(consumer="probe").values_list("event_id", flat=True)
    ) == set(ids)


def settle() -> timedelta:
    return timedelta(seconds=settings.SC_ORDER_EVENTS_SETTLE_SECONDS + 1)


# --- registry --------------------------------------------------------------------------------


def test_registry_refuses_unknown_types_bad_names_and_a_second_handler_under_one_name():
    def h(event):
        pass

    with pytest.raises(ValueError, match="unknown order event types"):
        events.consumer("x", {"order.teleported"}, h)
    with pytest.raises(ValueError, match="1 to 64"):
        events.consumer("", {"order.paid"}, h)
    events.consumer("dup", {"order.paid"}, h)
    try:
        with pytest.raises(ValueError, match="already registered"):
            events.consumer("dup", {"order.paid"}, lambda e: None)
    finally:
        events.unregister("dup")


def test_a_payload_must_match_its_documented_keys():
    with pytest.raises(ValueError, match="payload needs"):
        events.new("order.paid", shop_id=1, order_id=1, occurred_at=clock.now(), amount=5)
    with pytest.raises(ValueError, match="unknown order event type"):
        events.new("order.lost", shop_id=1, order_id=1, occurred_at=clock.now())


# --- delivery --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_events_are_delivered_once_soon_after_commit(probe):
    # when: facts committed through the services (the task runs eagerly on commit)
    shop, buyer = make_shop(), make_buyer()
    order = make_order(shop, buyer, status="delivered")

    # then: every event of the order handled exactly once, in order
    assert [e.type for e in OrderEvent.objects.filter(order=order)] == [
        "order.created",
        "order.paid",
        "order.shipped",
        "order.delivered",
    ]
    assert_each_handled_once()
    order_ids = list(Handling.objects.order_by("id").values_list("event_id", flat=True))
    assert order_ids == sorted(order_ids)


@pytest.mark.django_db(transaction=True)
def test_no_delivery_for_a_rolled_back_fact(probe):
    shop, buyer = make_shop(), make_buyer()
    order = make_order(shop, buyer, status="pending_payment")
    before = handled()

    def cancel_then_fail():
        with transaction.atomic():
            svc.order_cancel(order=order, cancelled_at=clock.now())
            raise RuntimeError("caller fails after the fact")

    with pytest.raises(RuntimeError):
        cancel_then_fail()

    assert not OrderEvent.objects.filter(type="order.cancelled").exists()
    assert handled() == before


@pytest.mark.django_db(transaction=True)
def test_a_dropped_task_is_delivered_by_the_catch_up(probe, monkeypatch):
    # given: the broker loses every delivery task
    monkeypatch.setattr(events, "enqueue", lambda ids: None)
    shop, buyer = make_shop(), make_buyer()
    make_order(shop, buyer, status="shipped")
    make_order(shop, buyer, status="cancelled")
    assert handled() == Counter()

    # when
    report = eventlog.catch_up()
    again = eventlog.catch_up()

    # then: everything once, and a second pass finds nothing
    assert_each_handled_once()
    assert report["handled"] == len(all_ids())
    assert again["handled"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_broker_refusing_the_task_loses_nothing(probe, monkeypatch):
    # given: publishing raises (broker down)
    from orders import tasks

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.order_events_deliver_task, "delay", refuse)

    # when: the fact still commits
    shop, buyer = make_shop(), make_buyer()
    make_order(shop, buyer, status="paid")
    assert handled() == Counter()
    eventlog.catch_up()

    # then
    assert_each_handled_once()


@pytest.mark.django_db(transaction=True)
def test_a_handler_failing_once_is_retried_after_its_backoff(probe, monkeypatch):
    # given: events written while delivery is off, the probe set to fail once on the payment
    monkeypatch.setattr(events, "enqueue", lambda ids: None)
    shop, buyer = make_shop(), make_buyer()
    order = make_order(shop, buyer, status="paid")
    paid = OrderEvent.objects.get(order=order, type="order.paid")
    probe_consumer.fail_once(paid.pk)

    # when: the first pass fails on it
    first = eventlog.catch_up()

    # then: recorded, not handled, retried only after the backoff
    assert first["failed"] == 1
    failure = ConsumerFailure.objects.get(consumer="probe", event=paid)
    assert failure.attempts == 1
    assert "fails once" in failure.last_error
    assert handled()[paid.pk] == 0
    assert eventlog.catch_up()["handled"] == 0
    with time_machine.travel(failure.retry_at + timedelta(seconds=1)):
        assert eventlog.deliver([paid.pk])["handled"] == 1
    assert_each_handled_once()
    assert not ConsumerFailure.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failing_handler_blocks_neither_other_orders_nor_other_consumers(probe, monkeypatch):
    # given: a second consumer, and the probe failing for good on one order's creation
    monkeypatch.setattr(events, "enqueue", lambda ids: None)
    seen = []
    events.consumer("second", {"order.created"}, lambda e: seen.append(e.pk))
    try:
        shop, buyer = make_shop(), make_buyer()
        bad = make_order(shop, buyer, status="paid")
        good = make_order(shop, buyer, status="paid")
        bad_created = OrderEvent.objects.get(order=bad, type="order.created")
        probe_consumer.fail_always(bad_created.pk)

        # when
        report = eventlog.catch_up()
    finally:
        events.unregister("second")

    # then: the other order went through; the failing order's later event waits for it
    counts = handled()
    assert all(counts[e.pk] == 1 for e in OrderEvent.objects.filter(order=good))
    assert counts[bad_created.pk] == 0
    assert counts[OrderEvent.objects.get(order=bad, type="order.paid").pk] == 0
    assert report["deferred"] == 1
    assert sorted(seen) == sorted(
        OrderEvent.objects.filter(type="order.created").values_list("id", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_events_of_one_order_reach_a_consumer_in_order(probe, monkeypatch):
    # given
    monkeypatch.setattr(events, "enqueue", lambda ids: None)
    shop, buyer = make_shop(), make_buyer()
    order = make_order(shop, buyer, status="paid")
    created, paid = OrderEvent.objects.filter(order=order).order_by("id")

    # when: the payment's task runs before the creation's
    early = eventlog.deliver([paid.pk])
    assert early["deferred"] == 1
    eventlog.deliver([created.pk])
    eventlog.deliver([paid.pk])

    # then
    assert list(Handling.objects.order_by("id").values_list("event_id", flat=True)) == [
        created.pk,
        paid.pk,
    ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliverers_handle_each_event_once(probe, monkeypatch):
    # given: 30 events nobody has delivered
    monkeypatch.setattr(events, "enqueue", lambda ids: None)
    shop, buyer = make_shop(), make_buyer()
    for _ in range(6):
        make_order(shop, buyer, status="delivered")
    ids = all_ids()
    errors = []
    barrier = threading.Barrier(6)

    def run(kind):
        try:
            barrier.wait()
            if kind == "deliver":
                eventlog.deliver(ids)
            else:
                eventlog.catch_up()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    # when: three task copies and three catch-ups at once
    threads = [threading.Thread(target=run, args=(k,)) for k in ["deliver", "catch_up"] * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    eventlog.catch_up()  # whatever a deferral left

    # then
    assert errors == []
    assert_each_handled_once()


# --- the cursor ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_cursor_never_passes_an_event_committed_late_with_a_lower_id(probe, monkeypatch):
    # given: transaction A writes an event (lower id) and stays open; B writes and commits
    monkeypatch.setattr(events, "enqueue", lambda ids: None)
    shop, buyer = make_shop(), make_buyer()
    order_a = make_order(shop, buyer, status="pending_payment")
    order_b = make_order(shop, buyer, status="pending_payment")
    eventlog.catch_up()
    a_open, a_go, a_done = threading.Event(), threading.Event(), threading.Event()

    def transaction_a():
        try:
            with transaction.atomic():
                svc.order_cancel(order=order_a, cancelled_at=clock.now())
                a_open.set()
                a_go.wait(30)
        finally:
            connections.close_all()
            a_done.set()

    t = threading.Thread(target=transaction_a)
    t.start()
    assert a_open.wait(30)
    svc.order_cancel(order=order_b, cancelled_at=clock.now())
    late_b = OrderEvent.objects.get(order=order_b, type="order.cancelled")

    # when: the catch-up runs while A is still open — even long after
    with time_machine.travel(clock.now() + timedelta(seconds=5)):
        eventlog.catch_up()
    position = ConsumerCursor.objects.get(consumer="probe").position
    a_go.set()
    assert a_done.wait(30)
    t.join()
    late_a = OrderEvent.objects.get(order=order_a, type="order.cancelled")
    assert late_a.pk < late_b.pk  # A's id is lower, yet it committed after B was handled

    # then: the cursor stayed below A's event, so the next pass still finds it
    assert position < late_a.pk
    eventlog.catch_up()
    assert_each_handled_once()


@pytest.mark.django_db(transaction=True)
def test_the_cursor_advances_past_settled_handled_events_only(probe, monkeypatch):
    # given: three events, the middle one unhandled
    monkeypatch.setattr(events, "enqueue", lambda ids: None)
    shop, buyer = make_shop(), make_buyer()
    o1, o2, o3 = (make_order(shop, buyer, status="pending_payment") for _ in range(3))
    e1, e2, e3 = (OrderEvent.objects.get(order=o) for o in (o1, o2, o3))
    eventlog.deliver([e1.pk, e3.pk])
    c = next(x for x in events.consumers() if x.name == "probe")

    # then: nothing settled yet; once settled, it stops before the unhandled one
    assert eventlog.advance_cursor(c) == 0
    with time_machine.travel(clock.now() + settle()):
        assert eventlog.advance_cursor(c) == e2.pk - 1
        eventlog.deliver([e2.pk])
        assert eventlog.advance_cursor(c) == e3.pk


@pytest.mark.django_db(transaction=True)
def test_prune_deletes_only_old_events_every_consumer_has_passed(probe, monkeypatch, settings):
    # given: old events, all handled and passed; and one recent event
    monkeypatch.setattr(events, "enqueue", lambda ids: None)
    settings.SC_ORDER_EVENTS_RETENTION_DAYS = 30
    shop, buyer = make_shop(), make_buyer()
    with time_machine.travel(clock.now() - timedelta(days=40)):
        make_order(shop, buyer, status="paid")
    eventlog.catch_up()
    fresh = make_order(shop, buyer, status="pending_payment")
    unhandled = OrderEvent.objects.get(order=fresh)

    # when
    deleted = eventlog.prune()

    # then
    assert deleted == 2
    assert all_ids() == [unhandled.pk]
    assert not ConsumedEvent.objects.exclude(event=unhandled).exists()


@pytest.mark.django_db(transaction=True)
def test_prune_keeps_old_events_a_consumer_has_not_passed(probe, monkeypatch, settings):
    monkeypatch.setattr(events, "enqueue", lambda ids: None)
    shop, buyer = make_shop(), make_buyer()
    with time_machine.travel(clock.now() - timedelta(days=40)):
        make_order(shop, buyer, status="paid")
    assert eventlog.prune() == 0
    assert len(all_ids()) == 2


# --- a real worker, killed mid-delivery ---------------------------------------------------------


def _worker(env) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "sellercenter",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-Q",
            "celery",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait(predicate, timeout=60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_loses_nothing_and_repeats_nothing(probe, tmp_path):
    # given: a real worker process consuming the test's Redis, on the test database
    from sellercenter.celery import app

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sellercenter.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.REDIS_URL,
        "SC_EVENT_PROBE": "1",
    }
    saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=settings.REDIS_URL)
    app.control.purge()
    marker = tmp_path / "stalled"
    shop, buyer = make_shop(), make_buyer()
    worker = _worker(env)
    try:
        # when: an order's events are handed to it, and it stalls on the payment ...
        with transaction.atomic():
            order = make_order(shop, buyer, status="pending_payment")
        created = OrderEvent.objects.get(order=order)
        assert _wait(lambda: handled()[created.pk] == 1), "the worker handled nothing"
        with transaction.atomic():
            svc.order_pay(
                order=order,
                payment_id="pay-kill",
                amount_minor=amount_due(order),
                method="card",
                paid_at=clock.now(),
            )
            paid = OrderEvent.objects.get(order=order, type="order.paid")
            probe_consumer.stall(paid.pk, marker)
        assert _wait(marker.exists), "the worker never reached the handler"
        # ... and is killed there, its transaction open
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        app.control.purge()
        app.conf.update(saved)

    # then: nothing of the killed handling committed; the catch-up handles it exactly once
    assert handled()[paid.pk] == 0
    # (the worker process also runs the modules' own consumers: count the probe's only)
    assert not ConsumedEvent.objects.filter(consumer="probe", event=paid).exists()
    from django.core.cache import cache

    cache.delete(f"probe:stall:{paid.pk}")
    assert _wait(lambda: eventlog.catch_up()["handled"] >= 0 and handled()[paid.pk] == 1, 30)
    assert_each_handled_once()


# --- admin ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_admin_lists_failures_and_retry_now_ends_the_back_off(probe, monkeypatch, admin_client):
    # given: a failure in back-off
    monkeypatch.setattr(events, "enqueue", lambda ids: None)
    shop, buyer = make_shop(), make_buyer()
    order = make_order(shop, buyer, status="pending_payment")
    created = OrderEvent.objects.get(order=order)
    probe_consumer.fail_once(created.pk)
    eventlog.catch_up()
    failure = ConsumerFailure.objects.get()
    assert failure.retry_at > clock.now()

    # when: the list is shown, then "retry now" runs (delivery back on)
    page = admin_client.get("/admin/orders/consumerfailure/")
    monkeypatch.setattr(events, "enqueue", eventlog.deliver)
    response = admin_client.post(
        "/admin/orders/consumerfailure/",
        {"action": "retry_now", "_selected_action": [failure.pk]},
        follow=True,
    )

    # then
    assert page.status_code == 200
    assert "probe fails once" in page.content.decode()
    assert "1 failed event handed to its consumer again." in response.content.decode()
    assert_each_handled_once()
    assert not ConsumerFailure.objects.exists()
    cursors = admin_client.get("/admin/orders/consumercursor/")
    assert cursors.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_seeded_history_is_not_replayed_to_consumers(probe, monkeypatch):
    # given: a seeded past nobody delivered
    monkeypatch.setattr(events, "enqueue", lambda ids: None)
    shop, buyer = make_shop(), make_buyer()
    make_order(shop, buyer, status="delivered")
    newest = all_ids()[-1]

    # when: the seed hands the log over as history
    position = eventlog.start_consumers_after_history()

    # then: the catch-up finds nothing old; a new fact is still delivered
    assert position == newest
    assert ConsumerCursor.objects.get(consumer="probe").position == newest
    assert eventlog.catch_up()["handled"] == 0
    make_order(shop, buyer, status="pending_payment")
    assert eventlog.catch_up()["handled"] == 1
    assert eventlog.start_consumers_after_history() >= newest  # never moves a cursor back
