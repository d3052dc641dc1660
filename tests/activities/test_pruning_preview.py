"""Snapshot pruning (exits' snapshots kept for ever) and the admin threshold preview page."""

import pytest
from actkit import DAY1_10H, D, Seller
from constance.test import override_config
from django.urls import reverse

from activities import services, tasks
from activities.models import ActivityExit, Evaluation, MetricSnapshot

pytestmark = pytest.mark.django_db


def _exited_seller(activity, at):
    from test_consistency import enrol

    seller = Seller()
    enrol(seller, activity, at=at - 3 * D)
    seller.orders(20, at - 3 * D, cancelled=4)  # 20% cancel rate
    return seller


# --- pruning ------------------------------------------------------------------------------------


@override_config(ACTIVITIES_SNAPSHOT_RETENTION_DAYS=10)
def test_e5_prune_keeps_the_retention_days_and_every_exit_snapshot(activity):
    # given: an exit on day 2 (snapshots of day 1 and day 2), and one snapshot a day after
    seller = _exited_seller(activity, DAY1_10H)
    services.metrics_evaluate(now=DAY1_10H)
    services.metrics_evaluate(now=DAY1_10H + D)
    exit_ = ActivityExit.objects.get()
    for day in range(2, 14):
        services.metrics_evaluate(now=DAY1_10H + day * D)
    per_eval = MetricSnapshot.objects.filter(evaluation__day=exit_.day).count()
    assert per_eval >= 1
    # when: 13 days later (natural day DAY1 + 13): keep DAY1+3 … DAY1+13
    result = services.snapshots_prune(now=DAY1_10H + 13 * D, batch=1)
    # then
    days = sorted(set(MetricSnapshot.objects.values_list("day", flat=True)))
    first_kept = (DAY1_10H + 3 * D).date()
    assert result.before == first_kept
    assert days[0] == exit_.previous.day  # the exit's evidence stays
    assert set(days) - {exit_.day, exit_.previous.day} == {
        (DAY1_10H + n * D).date() for n in range(3, 14)
    }
    assert MetricSnapshot.objects.filter(pk__in=[exit_.snapshot_id, exit_.previous_id]).count() == 2
    # the evaluations of pruned days go, the exit's stay (replay needs their numbers)
    assert Evaluation.objects.filter(day=(DAY1_10H + 2 * D).date()).count() == 0
    assert Evaluation.objects.filter(pk=exit_.snapshot.evaluation_id).exists()
    assert result.evaluations == 1
    # idempotent
    assert services.snapshots_prune(now=DAY1_10H + 13 * D).snapshots == 0
    assert seller.shop.metric_snapshots.filter(day=first_kept).exists()


@override_config(ACTIVITIES_SNAPSHOT_RETENTION_DAYS=1, ACTIVITIES_REENROL_DAYS=5)
def test_e8_retention_never_shorter_than_the_reenrolment_streak(db):
    from activities import rules

    assert rules.snapshot_retention_days() == 7


def test_e5_prune_task_through_json(db):
    Seller()
    services.metrics_evaluate(now=DAY1_10H - 40 * D)
    import time_machine

    with time_machine.travel(DAY1_10H, tick=False):
        assert tasks.snapshots_prune_task.delay().get() == {"snapshots": 1, "evaluations": 1}


# --- the admin threshold preview ----------------------------------------------------------------


@pytest.fixture
def staff_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "x" * 12)
    client.force_login(admin)
    return client


URL = "admin:activities_threshold_preview"


def _params(**over):
    base = {
        "preview": "1",
        "cancel": "15",
        "late_shipment": "20",
        "logistics_anomaly": "12",
        "negative_review": "3.5",
        "min_orders": "20",
        "min_reviews": "10",
        "relaxed_categories": ["home_garden", "auto_moto", "digital_accessories"],
        "relaxation_factor": "1.1",
        "official_weight": "0.7",
    }
    base.update(over)
    return base


def test_e5_preview_page_prefilled_with_the_registry(staff_client):
    r = staff_client.get(reverse(URL))
    body = r.content.decode()
    assert r.status_code == 200
    assert 'name="cancel" value="15"' in body
    assert "No evaluation yet" in body


def test_e5_preview_page_lists_shops_that_would_exit(staff_client, django_assert_max_num_queries):
    # given: a shop at 15% cancellations on two natural days (no breach at 15%)
    seller = Seller(name="Fifteen Percent")
    seller.orders(20, DAY1_10H - 2 * D, cancelled=3)
    services.metrics_evaluate(now=DAY1_10H)
    services.metrics_evaluate(now=DAY1_10H + D)
    # when: the same numbers, then 14%
    same = staff_client.get(reverse(URL), _params()).content.decode()
    with django_assert_max_num_queries(25):
        r = staff_client.get(reverse(URL), _params(cancel="14"))
    body = r.content.decode()
    # then
    assert "0 shops would exit" in same
    assert "1 shop would exit" in body
    assert "Fifteen Percent" in body
    assert "Cancel rate" in body
    assert ActivityExit.objects.count() == 0
    # the registry is untouched
    from activities import rules

    assert rules.cancel_rate_max() == 15


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cancel", "-1"),
        ("cancel", "101"),
        ("cancel", "abc"),
        ("late_shipment", ""),
        ("min_orders", "0"),
        ("min_orders", "9" * 30),
        ("relaxation_factor", "0.5"),
        ("official_weight", "1.5"),
        ("relaxed_categories", ["nope"]),
    ],
)
def test_e5_preview_bad_input_is_a_form_error_not_a_500(staff_client, field, value):
    r = staff_client.get(reverse(URL), _params(**{field: value}))
    assert r.status_code == 200
    body = r.content.decode()
    assert "Please correct the errors below." in body
    assert "would exit" not in body


def test_e5_preview_needs_admin(client, owner_client):
    assert owner_client.get(reverse(URL)).status_code == 302  # to the admin login
    assert client.get(reverse(URL)).status_code == 302
