"""Issue 6 fault 10: a buyer's risk status is decided in admin (SPEC B-4..B-6) and recorded with
who decided and why; a later ``buyer.upserted`` from the marketplace never resets it."""

import pytest
from api.support import Sender, ev
from django.db import IntegrityError, transaction
from factories import make_buyer, make_user

from buyers.models import Buyer, BuyerRiskDecision, RiskStatus
from buyers.services import buyer_risk_decide, buyer_upsert
from core import clock
from core.errors import DomainError
from integrations.services import integration_create


@pytest.fixture
def risk_admin(db):
    return make_user("risk-admin", is_staff=True, is_superuser=True)


def _buyer_event(buyer, **extra):
    return ev(
        "buyer.upserted",
        {"buyer_id": buyer.external_id, "email": buyer.email, "country": "US", **extra},
    )


def test_fault10_buyer_upserted_event_keeps_an_admin_risk_decision(db, risk_admin):
    # given: a buyer flagged by a platform admin
    integration, secret = integration_create(name="Marketplace")
    sender = Sender(integration, secret)
    buyer = make_buyer(external_id="b-risky", email="risky@example.com", country="US")
    buyer_risk_decide(
        buyer=buyer, status=RiskStatus.SUSPECTED_FRAUD, decided_by=risk_admin, reason="chargebacks"
    )

    # when: the marketplace re-sends the buyer, with and without an explicit "ok"
    first = sender.one(_buyer_event(buyer, device_id="dev-2"))
    second = sender.one(_buyer_event(buyer, risk_status="ok"))

    # then: both apply (the other fields change) but the decision stands
    assert first["status"] == second["status"] == "applied"
    buyer.refresh_from_db()
    assert buyer.device_id == ""  # the second event carried no device id
    assert buyer.risk_status == RiskStatus.SUSPECTED_FRAUD


def test_fault10_a_new_buyer_takes_the_marketplace_initial_status(db):
    # when
    buyer = buyer_upsert(
        external_id="b-new",
        email="new@example.com",
        country="US",
        registered_at=clock.now(),
        risk_status=RiskStatus.RISK_REVIEW,
    )

    # then
    assert buyer.risk_status == RiskStatus.RISK_REVIEW
    # and an update of that buyer does not touch it
    buyer_upsert(
        external_id="b-new", email="new@example.com", country="FR", registered_at=clock.now()
    )
    buyer.refresh_from_db()
    assert (buyer.country, buyer.risk_status) == ("FR", RiskStatus.RISK_REVIEW)


def test_risk_decision_records_who_why_and_previous_status(db, risk_admin):
    # given
    buyer = make_buyer()

    # when
    first = buyer_risk_decide(
        buyer=buyer, status=RiskStatus.RISK_REVIEW, decided_by=risk_admin, reason="  new device "
    )
    second = buyer_risk_decide(
        buyer=buyer, status=RiskStatus.OK, decided_by=risk_admin, reason="cleared"
    )

    # then
    rows = list(BuyerRiskDecision.objects.filter(buyer=buyer).order_by("id"))
    assert [(r.previous_status, r.status, r.reason) for r in rows] == [
        ("ok", "risk_review", "new device"),
        ("risk_review", "ok", "cleared"),
    ]
    assert {first.decided_by_id, second.decided_by_id} == {risk_admin.pk}
    assert Buyer.objects.get(pk=buyer.pk).risk_status == RiskStatus.OK


@pytest.mark.parametrize(
    ("status", "reason", "code"),
    [
        ("banned", "x", "invalid_risk_status"),
        ("risk_review", "   ", "reason_required"),
        ("ok", "same again", "risk_status_unchanged"),
    ],
)
def test_risk_decision_refuses_bad_input_and_writes_nothing(db, risk_admin, status, reason, code):
    # given
    buyer = make_buyer()

    # when
    with pytest.raises(DomainError) as err:
        buyer_risk_decide(buyer=buyer, status=status, decided_by=risk_admin, reason=reason)

    # then
    assert err.value.code == code
    assert not BuyerRiskDecision.objects.exists()
    assert Buyer.objects.get(pk=buyer.pk).risk_status == RiskStatus.OK


def test_admin_risk_change_needs_a_reason_and_is_recorded(admin_client, db):
    # given
    buyer = make_buyer()
    url = f"/admin/buyers/buyer/{buyer.pk}/change/"

    # when: no reason
    refused = admin_client.post(url, {"risk_status": "suspected_fraud"})
    # then
    assert refused.status_code == 200
    assert "Say why the risk status changes." in refused.text
    assert Buyer.objects.get(pk=buyer.pk).risk_status == "ok"

    # when: with a reason
    done = admin_client.post(
        url, {"risk_status": "suspected_fraud", "risk_reason": "stolen card", "low_activity": "on"}
    )
    # then
    assert done.status_code == 302
    buyer.refresh_from_db()
    assert (buyer.risk_status, buyer.low_activity) == ("suspected_fraud", True)
    decision = BuyerRiskDecision.objects.get(buyer=buyer)
    assert (decision.reason, decision.decided_by.username) == ("stolen card", "admin")
    # and the buyer's page shows the history
    assert "stolen card" in admin_client.get(url).text


def test_db_refuses_a_risk_decision_without_a_reason(db, risk_admin):
    # given
    buyer = make_buyer()
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        BuyerRiskDecision.objects.create(
            buyer=buyer,
            previous_status="ok",
            status="risk_review",
            decided_by=risk_admin,
            reason="",
        )
