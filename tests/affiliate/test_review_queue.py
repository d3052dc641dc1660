"""SPEC A-1, the admins' review queue: age of a submission in working days (Monday-Friday in the
platform time zone), overdue past the SLA (1.8 working days; exactly at it: not yet), approve and
reject through admin actions (reject with a reason), documents readable by staff only."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from affiliate import rules, services
from affiliate.models import Promoter, PromoterDocument
from affiliate.portal.selectors import review_age

SH = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def at(y, mo, d, h=0, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


# 2026-12-04 is a Friday, 12-05/06 the weekend, 12-07 a Monday.
@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (at(2026, 12, 1, 9), at(2026, 12, 1, 9), Decimal("0")),
        (at(2026, 12, 1, 9), at(2026, 12, 1, 8), Decimal("0")),  # backwards
        (at(2026, 12, 1, 0), at(2026, 12, 2, 0), Decimal("1")),
        (at(2026, 12, 1, 12), at(2026, 12, 2, 0), Decimal("0.5")),
        (at(2026, 12, 4, 12), at(2026, 12, 7, 0), Decimal("0.5")),  # Fri noon → Mon 00:00
        (at(2026, 12, 5, 10), at(2026, 12, 6, 23), Decimal("0")),  # only the weekend
        (at(2026, 12, 4, 0), at(2026, 12, 8, 0), Decimal("2")),  # Fri + Mon
        (at(2026, 12, 1, 0), at(2026, 12, 8, 0), Decimal("5")),  # a whole week
        (at(2026, 12, 1, 0), at(2026, 12, 1, 0, 1), Decimal("0")),  # 1 min rounds down
    ],
)
def test_a1_working_days_between(start, end, days):
    assert rules.working_days_between(start, end, tz=SH) == days


def test_a1_working_days_count_in_the_platform_time_zone():
    # Saturday 00:30 in Shanghai is Friday 16:30 UTC: not a working minute there.
    start = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)
    assert rules.working_days_between(start, start + timedelta(hours=10), tz=SH) == 0


@pytest.mark.parametrize(
    ("age", "overdue"),
    [(Decimal("1.79"), False), (Decimal("1.8"), False), (Decimal("1.81"), True)],
)
def test_a1_review_overdue_boundary(age, overdue):
    assert rules.review_overdue(age_working_days=age, sla_working_days=Decimal("1.8")) is overdue


@pytest.mark.parametrize(
    ("balance", "minimum", "due"),
    [(4999, 5000, False), (5000, 5000, True), (0, 0, False), (-5, 0, False), (1, 0, True)],
)
def test_payout_due_boundary(balance, minimum, due):
    assert rules.payout_due(balance_minor=balance, minimum_minor=minimum) is due


def _submitted(email, when) -> Promoter:
    with time_machine.travel(when, tick=False):
        p = services.promoter_sign_up(name=email, email=email, password="Long-pass-1234")
        for kind in ("licence", "id_front", "id_back", "bank", "tax"):
            services.document_upload(
                promoter=p, kind=kind, uploaded=SimpleUploadedFile("a.pdf", PDF)
            )
        return services.promoter_submit(promoter=p)


def test_a1_review_age_and_overdue_of_a_waiting_promoter(db):
    p = _submitted("a@promo.example.com", at(2026, 12, 3, 0))  # Thursday 00:00
    # Friday 19:12 = 1.8 working days: not overdue yet; one minute later: overdue
    edge = review_age(promoter=p, now=at(2026, 12, 4, 19, 12))
    assert (edge.working_days, edge.overdue) == (Decimal("1.80"), False)
    late = review_age(promoter=p, now=at(2026, 12, 4, 19, 27))
    assert (late.working_days, late.overdue) == (Decimal("1.81"), True)
    # the weekend does not age it
    weekend = review_age(promoter=p, now=at(2026, 12, 6, 23, 0))
    assert (weekend.working_days, weekend.overdue) == (Decimal("2.00"), True)
    monday = review_age(promoter=p, now=at(2026, 12, 7, 0, 0))
    assert monday.working_days == Decimal("2.00")


def test_a1_admin_queue_shows_age_and_overdue_then_approves_and_rejects(admin_client, db):
    old = _submitted("old@promo.example.com", at(2026, 11, 23, 9))
    new = _submitted("new@promo.example.com", at(2026, 12, 1, 9))
    with time_machine.travel(at(2026, 12, 2, 9), tick=False):
        page = admin_client.get("/admin/affiliate/promoter/?status__exact=pending")
        text = page.content.decode()
    assert page.status_code == 200
    assert "1 past the SLA" in text
    assert "1.00" in text  # the new one: one working day
    # reject needs a reason: the intermediate page first, nothing written
    step = admin_client.post(
        "/admin/affiliate/promoter/", {"action": "reject", "_selected_action": [old.pk]}
    )
    assert step.status_code == 200
    old.refresh_from_db()
    assert old.status == "pending"
    admin_client.post(
        "/admin/affiliate/promoter/",
        {
            "action": "reject",
            "_selected_action": [old.pk],
            "apply": "1",
            "reason": "The tax certificates are older than 3 months.",
        },
    )
    admin_client.post(
        "/admin/affiliate/promoter/", {"action": "approve", "_selected_action": [new.pk]}
    )
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, old.rejection_reason) == (
        "rejected",
        "The tax certificates are older than 3 months.",
    )
    assert new.status == "approved"
    assert new.reviewed_by is not None
    assert new.notices.filter(kind="approved").exists()


def test_a1_documents_readable_by_staff_only(admin_client, owner_client, db):
    p = _submitted("d@promo.example.com", at(2026, 12, 1, 9))
    doc = PromoterDocument.objects.filter(promoter=p).first()
    url = f"/files/{doc.file_id}/"
    assert admin_client.get(url).status_code == 200
    assert owner_client.get(url).status_code == 404  # a seller never reads them
    assert Client().get(url).status_code == 302  # not signed in
    # the admin's promoter page links each document
    change = admin_client.get(f"/admin/affiliate/promoter/{p.pk}/change/").content.decode()
    assert url in change


def test_a1_approve_refuses_a_promoter_who_did_not_submit(db):
    p = services.promoter_sign_up(name="Early", email="e@promo.example.com", password="Long-pass-1")
    from core.errors import DomainError

    with pytest.raises(DomainError):
        services.promoter_approve(promoter=p)
    p.refresh_from_db()
    assert p.status == "onboarding"


def test_a1_review_queue_page_has_a_constant_query_count(admin_client, db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client.get("/admin/affiliate/promoter/?status__exact=pending")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    _submitted("q0@promo.example.com", at(2026, 11, 30, 9))
    few = count()
    for i in range(1, 12):
        _submitted(f"q{i}@promo.example.com", at(2026, 11, 30, 9))
    assert count() <= few
