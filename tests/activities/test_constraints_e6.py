"""The constraints of the E-6 models (activity orders, consistency issues, review reports)
refuse what they must (IntegrityError): the backstop behind the check and the report."""

import pytest
from actkit import DAY1_10H, H, make_activity
from django.db import IntegrityError, transaction
from test_consistency import activity_order, deliver, enrol

from activities import services
from activities.models import ActivityOrder, ActivityReport, ConsistencyIssue


@pytest.fixture
def world(seller, db):
    activity = make_activity(starts_at=DAY1_10H - H, ends_at=DAY1_10H + H, enrol_until=DAY1_10H)
    enrol(seller, activity, price=40_00)
    order = activity_order(seller, activity, DAY1_10H, price=41_00)  # a price finding
    deliver()
    services.consistency_check(now=DAY1_10H)
    services.reports_generate(now=DAY1_10H + 2 * H)
    return {
        "record": ActivityOrder.objects.get(order=order),
        "issue": ConsistencyIssue.objects.get(order=order),
        "report": ActivityReport.objects.get(),
    }


def _copy(obj, **changes):
    fields = {
        f.attname: getattr(obj, f.attname)
        for f in type(obj)._meta.concrete_fields
        if not f.primary_key
    }
    fields.update(changes)
    return type(obj).objects.create(**fields)


CASES = {
    "ActivityOrder.order": lambda w: _copy(w["record"]),
    "consistency_once_per_line_kind": lambda w: _copy(w["issue"]),
    "consistency_once_per_order_kind": lambda w: [
        _copy(w["issue"], sku_id=None, kind="outside_window") for _ in range(2)
    ],
    "report_once_per_shop": lambda w: _copy(w["report"]),
    "report_amounts_non_negative": lambda w: ActivityReport.objects.filter(
        pk=w["report"].pk
    ).update(coins_minor=-1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_e6_constraint_refuses_its_violation(world, name):
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        CASES[name](world)
    if "." in name:
        assert "Key (order_id)=" in str(exc.value)
    else:
        assert name in str(exc.value)


def test_e6_the_cases_cover_every_e6_constraint():
    declared = {c.name for m in (ActivityReport, ConsistencyIssue) for c in m._meta.constraints} | {
        "ActivityOrder.order"
    }
    assert declared == set(CASES)
