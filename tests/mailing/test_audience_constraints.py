"""Every database constraint of the audience models refuses what it must (IntegrityError): the
backstop behind the services' checks (DESIGN §2)."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from factories import make_user

from core import clock
from mailing.models import (
    Consent,
    ContactImport,
    ImportAllowance,
    ImportedContact,
    Segment,
    Suppression,
)
from mailing.services import audience


@pytest.fixture
def world(shop_a):
    now = clock.now()
    imp = ContactImport.objects.create(
        shop=shop_a, created_by=make_user(), created_at=now, file_name="a.csv", total_rows=1
    )
    return {
        "shop": shop_a,
        "now": now,
        "imp": imp,
        "consent": audience.consent_record(
            shop=shop_a, email="a@example.com", status="granted", source="import"
        ),
        "suppression": audience.suppress(shop=shop_a, email="s@example.com", reason="manual"),
        "contact": ImportedContact.objects.create(
            shop=shop_a, email="c@example.com", contact_import=imp, created_at=now
        ),
        "segment": Segment.objects.create(shop=shop_a, name="S", builtin=True),
        "allowance": ImportAllowance.objects.create(shop=shop_a),
    }


def _update(obj, **fields):
    type(obj).objects.filter(pk=obj.pk).update(**fields)


CASES = {
    "mailing_consent_shop_email": lambda w: Consent.objects.create(
        shop=w["shop"],
        email="a@example.com",
        status="granted",
        source="import",
        granted_at=w["now"],
    ),
    "mailing_consent_confirmed_has_time": lambda w: _update(w["consent"], status="confirmed"),
    "mailing_suppression_shop_email": lambda w: Suppression.objects.create(
        shop=w["shop"], email="s@example.com", reason="complaint", created_at=w["now"]
    ),
    "mailing_suppression_expires_after_created": lambda w: _update(
        w["suppression"], expires_at=F("created_at")
    ),
    "mailing_segment_shop_name": lambda w: Segment.objects.create(shop=w["shop"], name="S"),
    "mailing_segment_one_builtin": lambda w: Segment.objects.create(
        shop=w["shop"], name="T", builtin=True
    ),
    "mailing_import_progress_bounded": lambda w: _update(w["imp"], processed_rows=2),
    "mailing_imported_shop_email": lambda w: ImportedContact.objects.create(
        shop=w["shop"], email="c@example.com", contact_import=w["imp"], created_at=w["now"]
    ),
    "ImportAllowance.shop": lambda w: ImportAllowance.objects.create(shop=w["shop"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_m3_m4_m13_constraint_refuses_its_violation(world, name):
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        CASES[name](world)
    if "." in name:
        assert "Key (shop_id)=" in str(exc.value)
    else:
        assert name in str(exc.value)


def test_the_cases_cover_every_audience_constraint():
    declared = {
        c.name
        for m in (Consent, Suppression, Segment, ContactImport, ImportedContact)
        for c in m._meta.constraints
    }
    assert declared | {"ImportAllowance.shop"} == set(CASES)


def test_the_valid_world_is_accepted(world):
    assert world["suppression"].expires_at is None
    assert world["now"] - timedelta(seconds=1) < clock.now()
