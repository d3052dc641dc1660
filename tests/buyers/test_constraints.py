"""The database holds the buyer accounts' invariants (DESIGN §2 defence in depth): each
constraint refuses a violation with an IntegrityError, whatever the services do."""

import pytest
from django.db import IntegrityError, transaction
from factories import make_buyer

from buyers.models import ContactChange, VerificationCode
from core import clock


def _code(**overrides):
    fields = {
        "channel": "email",
        "contact": "c@example.com",
        "purpose": "register",
        "code_hash": "h" * 64,
        "created_at": clock.now(),
    }
    fields.update(overrides)
    return VerificationCode.objects.create(**fields)


def _change(buyer, **overrides):
    fields = {
        "buyer": buyer,
        "channel": "sms",
        "new_value": "+8613800138000",
        "changed_at": clock.now(),
        "report_token": "token-1",
    }
    fields.update(overrides)
    return ContactChange.objects.create(**fields)


def test_b2_code_has_hash(db):
    with pytest.raises(IntegrityError, match="code_has_hash"), transaction.atomic():
        _code(code_hash="")


def test_b2_code_attempts_never_negative(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        _code(attempts=-1)


def test_b7_contact_change_has_value(db):
    buyer = make_buyer()
    with pytest.raises(IntegrityError, match="contact_change_has_value"), transaction.atomic():
        _change(buyer, new_value="")


def test_b7_report_token_is_unique(db):
    # "ContactChange.report_token": one link, one change
    buyer = make_buyer()
    _change(buyer)
    with pytest.raises(IntegrityError, match="report_token"), transaction.atomic():
        _change(buyer)
