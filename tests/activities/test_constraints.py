"""Every database constraint of the activities models refuses what it must (IntegrityError):
the backstop behind the services' checks (DESIGN §2)."""

import pytest
from actkit import DAY1_10H, D, Seller, enrol, make_activity
from django.db import IntegrityError, transaction
from django.db.models import F

from activities import services
from activities.models import (
    Activity,
    ActivityExit,
    Appeal,
    CarrierIncident,
    Enrolment,
    EvaluationLock,
    MetricSnapshot,
    PostMortem,
)


@pytest.fixture
def world(db):
    seller = Seller()
    activity = make_activity()
    enrolment = enrol(seller, activity)
    seller.orders(20, DAY1_10H - 3 * D, cancelled=5)
    services.metrics_evaluate(now=DAY1_10H)
    exits = services.metrics_evaluate(now=DAY1_10H + D).exits
    return {"seller": seller, "activity": activity, "enrolment": enrolment, "exit": exits[0]}


def _update(obj, **fields):
    type(obj).objects.filter(pk=obj.pk).update(**fields)


def _second_live_enrolment(w):
    e = w["enrolment"]
    _update(e, status="enrolled", left_at=None, exit=None)
    Enrolment.objects.create(
        activity=e.activity,
        shop=e.shop,
        sku=e.sku,
        activity_price_minor=1,
        currency=e.currency,
        stock=1,
        enrolled_at=e.enrolled_at,
    )


CASES = {
    "activity_window_ordered": lambda w: _update(
        w["activity"], ends_at=F("starts_at"), enrol_until=F("starts_at")
    ),
    "activity_enrol_before_end": lambda w: _update(w["activity"], enrol_until=F("ends_at") + D),
    "activity_discount_at_most_100": lambda w: _update(w["activity"], min_discount_bp=10001),
    "enrolment_one_live_per_sku": _second_live_enrolment,
    "enrolment_price_positive": lambda w: _update(w["enrolment"], activity_price_minor=0),
    "enrolment_stock_positive": lambda w: _update(w["enrolment"], stock=0),
    "enrolment_left_at_iff_left": lambda w: _update(w["enrolment"], left_at=None),
    "incident_window_ordered": lambda w: CarrierIncident.objects.create(
        carrier="yanwen", starts_at=DAY1_10H, ends_at=DAY1_10H, reason="x"
    ),
    "snapshot_one_per_shop_per_evaluation": lambda w: MetricSnapshot.objects.create(
        evaluation=w["exit"].snapshot.evaluation,
        shop=w["seller"].shop,
        day=w["exit"].day,
        evaluated_at=w["exit"].exited_at,
        category="toys",
    ),
    "exit_once_per_shop_day": lambda w: ActivityExit.objects.create(
        shop=w["seller"].shop,
        day=w["exit"].day,
        exited_at=w["exit"].exited_at,
        snapshot=w["exit"].snapshot,
        previous=w["exit"].previous,
    ),
    "EvaluationLock.name": lambda w: EvaluationLock.objects.create(name="metrics"),
    # SPEC E-7
    "postmortem_filed_has_filing": lambda w: PostMortem.objects.create(
        exit=w["exit"], shop=w["seller"].shop, status="submitted", due_at=DAY1_10H
    ),
    "postmortem_decision_has_reason": lambda w: PostMortem.objects.create(
        exit=w["exit"],
        shop=w["seller"].shop,
        status="approved",
        due_at=DAY1_10H,
        revision=1,
        submitted_at=DAY1_10H,
        decided_at=DAY1_10H,
    ),
    "PostMortem.exit": lambda w: [
        PostMortem.objects.create(exit=w["exit"], shop=w["seller"].shop, due_at=DAY1_10H)
        for _ in range(2)
    ],
    "appeal_decision_has_reason": lambda w: Appeal.objects.create(
        exit=w["exit"], shop=w["seller"].shop, statement="x", opened_at=DAY1_10H, status="upheld"
    ),
    "Appeal.exit": lambda w: [
        Appeal.objects.create(
            exit=w["exit"], shop=w["seller"].shop, statement="x", opened_at=DAY1_10H
        )
        for _ in range(2)
    ],
}


@pytest.mark.parametrize("name", list(CASES))
def test_e1_e5_constraint_refuses_its_violation(world, name):
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        CASES[name](world)
    if "." in name:
        model, field = name.split(".")
        column = (
            {"EvaluationLock": EvaluationLock, "PostMortem": PostMortem, "Appeal": Appeal}[model]
            ._meta.get_field(field)
            .column
        )
        assert f"Key ({column})=" in str(exc.value)
    else:
        assert name in str(exc.value)


def test_the_cases_cover_every_activities_constraint():
    declared = {
        c.name
        for m in (
            Activity,
            Enrolment,
            CarrierIncident,
            MetricSnapshot,
            ActivityExit,
            PostMortem,
            Appeal,
        )
        for c in m._meta.constraints
    }
    assert declared | {"EvaluationLock.name", "PostMortem.exit", "Appeal.exit"} == set(CASES)
