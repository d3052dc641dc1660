"""The platform admin's risk-review queue and registration-abuse monitor (SPEC B-4, B-5, B-6)."""

from datetime import timedelta

import time_machine
from django.urls import reverse

from buyers import services
from buyers.models import Buyer, BuyerRiskDecision, RiskStatus, VerificationCode
from buyers.selectors import abuse_monitor, ip_prefix
from buyers.services import accounts
from core import clock

QUEUE = reverse("admin:buyers_buyerriskreview_changelist")


def _reg(email, **kw):
    fields = {"password": "Tr1cky-pass", "country": "US", "ip": "203.0.113.5"}
    fields.update(kw)
    return accounts.buyer_register(contact=services.parse_contact(email), **fields).buyer


def test_b4_queue_lists_flagged_buyers_with_their_signals(admin_client):
    # given
    mismatch = _reg("m@example.com", ip_country="RU")
    fine = _reg("ok@example.com", ip_country="US")
    for i in range(4):
        _reg(f"d{i}@example.com", device_id="dev-x")

    # when
    page = admin_client.get(QUEUE)

    # then
    assert page.status_code == 200
    text = page.text
    assert mismatch.external_id in text
    assert fine.external_id not in text
    assert "RU ≠ US" in text
    assert "<strong>4</strong>" in text  # device reuse count over the limit, highlighted
    detail = admin_client.get(reverse("admin:buyers_buyerriskreview_change", args=[mismatch.pk]))
    assert "velocity" in detail.text
    assert "IP country RU, declared US" in detail.text


def test_b4_approve_with_a_reason_through_the_service(admin_client, admin_user):
    buyer = _reg("m@example.com", ip_country="RU")
    data = {"action": "approve", "_selected_action": [buyer.pk]}

    # without a reason: the form asks for one, nothing changes
    prompt = admin_client.post(QUEUE, data)
    assert prompt.status_code == 200
    assert "Reason" in prompt.text
    assert Buyer.objects.get(pk=buyer.pk).risk_status == RiskStatus.RISK_REVIEW

    # with a reason
    admin_client.post(QUEUE, {**data, "apply": "1", "reason": "called the buyer, travelling"})
    assert Buyer.objects.get(pk=buyer.pk).risk_status == RiskStatus.OK
    decision = BuyerRiskDecision.objects.filter(buyer=buyer).first()
    assert decision.decided_by == admin_user
    assert decision.reason == "called the buyer, travelling"


def test_b5_reject_marks_suspected_fraud(admin_client):
    buyer = _reg("m@example.com", ip_country="RU")
    admin_client.post(
        QUEUE,
        {"action": "reject", "_selected_action": [buyer.pk], "apply": "1", "reason": "bot"},
    )
    assert Buyer.objects.get(pk=buyer.pk).risk_status == RiskStatus.SUSPECTED_FRAUD


def test_b2_abuse_monitor_highlights_a_spike(admin_client):
    now = clock.now()
    # a steady trickle from one prefix over the day, then a burst from another
    for h in range(2, 22, 4):
        with time_machine.travel(now - timedelta(hours=h), tick=False):
            _reg(f"t{h}@example.com", ip="198.51.100.7")
    for i in range(12):
        VerificationCode.objects.create(
            channel="sms",
            contact=f"+8613800138{i:03d}",
            purpose="register",
            code_hash="x" * 64,
            created_at=now - timedelta(minutes=5),
            ip=f"192.0.2.{i}",
            country="ID",
        )

    monitor = abuse_monitor(now=now)
    by_title = {t.title: t.rows for t in monitor.tables}
    sms_prefix = by_title["code sends by IP prefix"][0]
    assert (sms_prefix.key, sms_prefix.last_hour, sms_prefix.spike) == ("192.0.2.0/24", 12, True)
    steady = by_title["registrations by IP prefix"][0]
    assert steady.spike is False
    assert sum(monitor.codes_per_hour) == 12

    page = admin_client.get(reverse("admin:buyers_abuse_monitor"))
    assert page.status_code == 200
    assert "192.0.2.0/24" in page.text
    assert "<strong>spike</strong>" in page.text


def test_b2_ip_prefix():
    assert ip_prefix("203.0.113.77") == "203.0.113.0/24"
    assert ip_prefix("2001:db8:1:2::5") == "2001:db8:1::/48"
    assert ip_prefix(None) == "—"
    assert ip_prefix("junk") == "—"


def test_b2_code_admin_never_shows_the_hash(admin_client):
    _reg("m@example.com")
    services.code_request(
        contact=services.parse_contact("m@example.com"), purpose="reset", ip="203.0.113.5"
    )
    row = VerificationCode.objects.first()
    page = admin_client.get(reverse("admin:buyers_verificationcode_change", args=[row.pk]))
    assert page.status_code == 200
    assert row.code_hash not in page.text
