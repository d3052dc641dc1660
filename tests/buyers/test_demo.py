"""The buyers demo hook (``buyers/demo.py``): the review queue and the abuse monitor get data,
the same ``rng`` gives the same accounts (B-4, B-5, B-6)."""

from datetime import UTC, datetime
from random import Random

import pytest
import time_machine

from buyers import demo
from buyers.models import Buyer, RiskStatus, Source
from buyers.services import accounts

NOW = datetime(2026, 3, 16, 6, 30, tzinfo=UTC)


def _accounts() -> list[tuple]:
    return sorted(
        Buyer.objects.filter(source=Source.SIGNUP).values_list(
            "external_id", "email", "phone", "risk_status", "low_activity", "device_id"
        )
    )


@pytest.mark.django_db
def test_b4_b5_b6_demo_seed_fills_the_review_queue_and_is_deterministic():
    # when
    with time_machine.travel(NOW, tick=False):
        demo.seed(shops=[], rng=Random("42-buyers"), now=NOW)
    first = _accounts()

    # then: a mismatch in review, the shared device flagged, low activity, verified contacts
    status = {row[1] or row[2]: row[3] for row in first}
    assert status[demo.MISMATCH[0]] == RiskStatus.RISK_REVIEW
    assert all(status[e] == RiskStatus.SUSPECTED_FRAUD for e in demo.SHARED_DEVICE)
    low = {row[1] or row[2] for row in first if row[4]}
    assert low == {raw for raw, _c, _s in demo.LOW_ACTIVITY}
    lina = Buyer.objects.get(email="lina.moreau@example.com")
    assert lina.email_verified_at is not None
    assert lina.risk_status == RiskStatus.OK
    contact = accounts.parse_contact("lina.moreau@example.com")
    assert accounts.buyer_authenticate(contact=contact, password=demo.DEMO_PASSWORD, ip=None)

    # when: the same seed again on an empty table
    Buyer.objects.filter(source=Source.SIGNUP).delete()
    with time_machine.travel(NOW, tick=False):
        demo.seed(shops=[], rng=Random("42-buyers"), now=NOW)

    # then: the same accounts, ids included
    assert _accounts() == first
