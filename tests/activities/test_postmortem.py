"""SPEC E-7 post-mortem and appeal, and their place in E-8 re-enrolment: deadlines at their
exact boundary (time-machine), the pre-filled form, bad input writing nothing, tenant
isolation, query counts, the admin decision with its reason and the staff told."""

from datetime import date, timedelta

import pytest
import time_machine
from actkit import DAY1_10H, D, H, make_activity
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pmkit import EXIT_AT, late_shipper

from activities import selectors, services
from activities.models import Appeal, PostMortem
from activities.selectors_postmortem import PmState, filings
from core.errors import DomainError
from core.models import PrivateFile
from orders import services as orders
from shops.models import Notification, Sku

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200 + b"PE\x00\x00"
US = timedelta(microseconds=1)


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "core.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }


@pytest.fixture
def exited(shop_a, owner):
    _seller, _activity, _enrolment, exit_, _made = late_shipper(shop=shop_a)
    return exit_


def _pdf(name="carrier-statement.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _input(**overrides):
    fields = dict(
        metric="late_shipment",
        root_cause="The ERP stopped pushing tracking numbers for two days.",
        affected_orders="1-00016, 1-00017",
        carrier="yanwen",
        erp_sync_status="broken",
        timeline="06-07 sync down; 06-09 fixed",
        corrective_actions="Re-pushed every tracking number by hand.",
        owner="Li Wei, operations",
        prevention="An alert when no tracking is pushed for 6 hours.",
        expected_fix_date=date(2025, 6, 20),
        stock_status="in_stock",
    )
    fields.update(overrides)
    return services.PostMortemInput(**fields)


def _post_data(**overrides):
    data = {
        "metric": "late_shipment",
        "root_cause": "The ERP stopped pushing tracking numbers.",
        "affected_orders": "1-00016",
        "carrier": "yanwen",
        "erp_sync_status": "broken",
        "timeline": "06-07 sync down",
        "corrective_actions": "Re-pushed by hand.",
        "owner": "Li Wei",
        "prevention": "An alert.",
        "expected_fix_date": "2025-06-20",
        "stock_status": "in_stock",
        "stock_notes": "",
    }
    data.update(overrides)
    return data


# --- deadlines at their exact boundary ------------------------------------------------------------


def test_e7_postmortem_filed_exactly_48_hours_after_the_exit_is_in_time(exited):
    pm = services.postmortem_file(
        shop=exited.shop,
        exit_id=exited.pk,
        data=_input(),
        files=[_pdf()],
        now=exited.exited_at + 48 * H,
    )
    assert pm.status == "submitted"
    assert pm.revision == 1
    assert services.evidence_files(owner=pm).count() == 1


def test_e7_postmortem_a_microsecond_after_48_hours_is_refused_and_writes_nothing(exited):
    with pytest.raises(DomainError) as exc:
        services.postmortem_file(
            shop=exited.shop,
            exit_id=exited.pk,
            data=_input(),
            files=[_pdf()],
            now=exited.exited_at + 48 * H + US,
        )
    assert exc.value.code == "postmortem_deadline_passed"
    assert not PostMortem.objects.exists()
    assert not PrivateFile.objects.exists()


def test_e7_appeal_opened_at_72_hours_is_in_time_and_a_microsecond_later_is_not(exited, shop_b):
    # a microsecond late: refused
    with pytest.raises(DomainError) as exc:
        services.appeal_open(
            shop=exited.shop,
            exit_id=exited.pk,
            statement="Yanwen lost its scans in Shenzhen.",
            files=[_pdf()],
            now=exited.exited_at + 72 * H + US,
        )
    assert exc.value.code == "appeal_deadline_passed"
    assert not Appeal.objects.exists()
    # exactly 72 h: accepted (after the post-mortem's 48 h closed)
    appeal = services.appeal_open(
        shop=exited.shop,
        exit_id=exited.pk,
        statement="Yanwen lost its scans in Shenzhen.",
        files=[_pdf()],
        now=exited.exited_at + 72 * H,
    )
    assert appeal.status == "open"
    # once per exit
    with pytest.raises(DomainError, match="appealed already"):
        services.appeal_open(
            shop=exited.shop,
            exit_id=exited.pk,
            statement="again",
            files=[_pdf()],
            now=exited.exited_at + 72 * H,
        )


def test_e7_the_page_shows_the_deadline_and_refuses_at_its_boundary(owner_client, exited):
    url = reverse("activities:postmortem_file", args=[exited.pk])
    page_url = reverse("activities:postmortem", args=[exited.pk])
    # 47 h 59 min after the exit: the countdown says 0 h 1 min… well, 1 min left
    with time_machine.travel(exited.exited_at + 48 * H - timedelta(minutes=1), tick=False):
        body = owner_client.get(page_url).content.decode()
    assert "1 min left" in body
    assert "2025-06-13 10:00" in body  # the deadline, China Standard Time
    # one microsecond after the deadline: the page says missed, a POST is refused
    with time_machine.travel(exited.exited_at + 48 * H + US, tick=False):
        body = owner_client.get(page_url).content.decode()
        assert "Deadline missed" in body
        assert reverse("activities:postmortem_file", args=[exited.pk]) not in body
        page = owner_client.post(url, {**_post_data(), "evidence": _pdf()})
    assert page.status_code == 302  # back to the page, with the reason as a message
    assert not PostMortem.objects.exists()


# --- the form: pre-filled, bad input, isolation, roles, query counts -----------------------------


def test_e7_form_is_prefilled_with_the_orders_skus_and_logistics_lines(
    owner_client, exited, django_assert_max_num_queries
):
    url = reverse("activities:postmortem", args=[exited.pk])
    with time_machine.travel(EXIT_AT + H, tick=False):
        owner_client.get(url)  # the rule numbers get their rows once
        with django_assert_max_num_queries(20):
            page = owner_client.get(url)
    body = page.content.decode()
    assert page.status_code == 200
    # the 5 late orders, their SKU, and for the two shipped late: carrier and tracking number
    for n in range(16, 21):
        assert f"-000{n}" in body
    assert "ACT-1" in body
    assert "Yanwen" in body
    assert "TN" in body
    assert "not shipped" in body
    # the carrier most of them used, the timeline of the metric, the SKU's stock
    assert '<option value="yanwen" selected>' in body
    assert "Late-shipment rate 25.00% (limit 20%)" in body
    assert "ACT-1: " in body
    assert "activity stock 100" in body
    assert "47 h 0 min left" in body


def test_e7_filing_through_the_page_stores_the_12_fields_and_the_files(owner_client, exited, owner):
    with time_machine.travel(EXIT_AT + H, tick=False):
        page = owner_client.post(
            reverse("activities:postmortem_file", args=[exited.pk]),
            {**_post_data(), "evidence": [_pdf("a.pdf"), _pdf("b.pdf")]},
        )
    assert page.status_code == 302
    pm = PostMortem.objects.get()
    assert (pm.metric, pm.carrier, pm.erp_sync_status, pm.stock_status) == (
        "late_shipment",
        "yanwen",
        "broken",
        "in_stock",
    )
    assert pm.expected_fix_date == date(2025, 6, 20)
    assert pm.submitted_by == owner
    assert sorted(f.original_name for f in services.evidence_files(owner=pm)) == ["a.pdf", "b.pdf"]
    # the page now shows what was filed, under review, and the file to its shop
    body = owner_client.get(reverse("activities:postmortem", args=[exited.pk])).content.decode()
    assert "Under review" in body
    file = services.evidence_files(owner=pm).first()
    assert owner_client.get(reverse("private_file", args=[file.pk])).status_code == 200


@pytest.mark.parametrize(
    "bad",
    [
        {"root_cause": ""},
        {"metric": "cancel"},  # not a metric of this exit
        {"carrier": "pigeon"},
        {"expected_fix_date": "2025-06-01"},  # in the past
        {"expected_fix_date": "2030-01-01"},  # too far
        {"expected_fix_date": "99999-01-01"},
        {"evidence": "exe"},
        {"evidence": "none"},
    ],
    ids=lambda b: next(iter(b)) + "=" + str(next(iter(b.values())))[:12],
)
def test_e7_bad_input_is_a_form_error_and_writes_nothing(owner_client, exited, bad):
    data = {**_post_data(), **bad}
    if bad.get("evidence") == "exe":
        data["evidence"] = SimpleUploadedFile("statement.pdf", EXE)
    elif bad.get("evidence") == "none":
        data.pop("evidence")
    else:
        data["evidence"] = _pdf()
    with time_machine.travel(EXIT_AT + H, tick=False):
        page = owner_client.post(reverse("activities:postmortem_file", args=[exited.pk]), data)
    assert page.status_code == 400
    assert "invalid-feedback" in page.content.decode()
    assert not PostMortem.objects.exists()
    assert not PrivateFile.objects.exists()


def test_e7_too_many_files_is_a_form_error(owner_client, exited):
    files = [_pdf(f"{i}.pdf") for i in range(6)]
    with time_machine.travel(EXIT_AT + H, tick=False):
        page = owner_client.post(
            reverse("activities:postmortem_file", args=[exited.pk]),
            {**_post_data(), "evidence": files},
        )
    assert page.status_code == 400
    assert "at most 5 files" in page.content.decode()
    assert not PostMortem.objects.exists()


def test_e7_another_shops_exit_is_404_everywhere(other_client, exited):
    for name in ("postmortem", "appeal"):
        assert other_client.get(reverse(f"activities:{name}", args=[exited.pk])).status_code == 404
    for name in ("postmortem_file", "appeal_open"):
        page = other_client.post(
            reverse(f"activities:{name}", args=[exited.pk]),
            {**_post_data(), "statement": "x", "evidence": _pdf()},
        )
        assert page.status_code == 404
    assert "1-000" not in other_client.get(reverse("activities:appeals")).content.decode()
    assert not PostMortem.objects.exists()
    assert not Appeal.objects.exists()


def test_e7_another_shop_cannot_read_the_evidence_files(other_client, exited):
    pm = services.postmortem_file(
        shop=exited.shop, exit_id=exited.pk, data=_input(), files=[_pdf()], now=EXIT_AT + H
    )
    file = services.evidence_files(owner=pm).get()
    assert other_client.get(reverse("private_file", args=[file.pk])).status_code == 404


def test_e7_read_only_role_cannot_file(analyst_client, exited):
    with time_machine.travel(EXIT_AT + H, tick=False):
        page = analyst_client.post(
            reverse("activities:postmortem_file", args=[exited.pk]),
            {**_post_data(), "evidence": _pdf()},
        )
    assert page.status_code == 403
    assert not PostMortem.objects.exists()


def test_e7_appeal_page_prefilled_then_opened_with_logistics_evidence(
    owner_client, exited, django_assert_max_num_queries
):
    url = reverse("activities:appeal", args=[exited.pk])
    with time_machine.travel(EXIT_AT + 2 * H, tick=False):
        owner_client.get(url)
        with django_assert_max_num_queries(18):
            body = owner_client.get(url).content.decode()
        assert "70 h 0 min left" in body
        assert "TN" in body
        assert "-00016" in body
        # no evidence: a form error, nothing written
        bad = owner_client.post(
            reverse("activities:appeal_open", args=[exited.pk]), {"statement": "Lost scans."}
        )
        assert bad.status_code == 400
        assert not Appeal.objects.exists()
        ok = owner_client.post(
            reverse("activities:appeal_open", args=[exited.pk]),
            {"statement": "Lost scans.", "logistics_lines": "x", "evidence": _pdf()},
        )
    assert ok.status_code == 302
    assert Appeal.objects.get().statement == "Lost scans."


def test_e7_appeals_list_is_paginated_with_each_state(
    owner_client, exited, settings, django_assert_max_num_queries
):
    settings.SC_PAGE_SIZE = 1
    # a second, older exit of the same shop
    from activities.models import ActivityExit

    ActivityExit.objects.create(
        shop=exited.shop,
        day=exited.day - timedelta(days=40),
        exited_at=exited.exited_at - timedelta(days=40),
        snapshot=exited.snapshot,
        previous=exited.previous,
        metrics=["late_shipment"],
    )
    url = reverse("activities:appeals")
    with time_machine.travel(EXIT_AT + H, tick=False):
        owner_client.get(url)
        with django_assert_max_num_queries(14):
            first = owner_client.get(url).content.decode()
        second = owner_client.get(url, {"page": 2}).content.decode()
    assert "To file" in first
    assert "Page 1 of 2" in first
    assert "Deadline missed" in second


# --- the admin decision -------------------------------------------------------------------------


def _filed(exited, at=EXIT_AT + H):
    return services.postmortem_file(
        shop=exited.shop, exit_id=exited.pk, data=_input(), files=[_pdf()], now=at
    )


def test_e7_admin_approves_with_a_reason_and_the_staff_are_told(exited, owner, admin_user):
    pm = _filed(exited)
    services.postmortem_decide(
        postmortem_id=pm.pk, approve=True, reason="Root cause and fix are credible.", by=admin_user
    )
    pm.refresh_from_db()
    assert (pm.status, pm.decided_by, pm.decision_reason) == (
        "approved",
        admin_user,
        "Root cause and fix are credible.",
    )
    note = Notification.objects.filter(recipient=owner).latest("created_at")
    assert note.title == "Your post-mortem was approved"
    assert "Root cause and fix are credible." in note.body
    assert note.link == reverse("activities:postmortem", args=[exited.pk])
    # decided once
    with pytest.raises(DomainError):
        services.postmortem_decide(postmortem_id=pm.pk, approve=False, reason="x", by=admin_user)


def test_e7_a_decision_needs_a_reason(exited, admin_user):
    pm = _filed(exited)
    with pytest.raises(DomainError) as exc:
        services.postmortem_decide(postmortem_id=pm.pk, approve=True, reason="  ", by=admin_user)
    assert exc.value.code == "invalid_reason"
    pm.refresh_from_db()
    assert pm.status == "submitted"


def test_e7_rejection_opens_48_hours_for_a_revision_to_the_microsecond(exited, admin_user):
    pm = _filed(exited)
    decided = EXIT_AT + 30 * H
    services.postmortem_decide(
        postmortem_id=pm.pk,
        approve=False,
        reason="The timeline misses the carrier's dates.",
        by=admin_user,
        now=decided,
    )
    late = decided + 48 * H + US
    with pytest.raises(DomainError, match="deadline"):
        services.postmortem_file(
            shop=exited.shop, exit_id=exited.pk, data=_input(), files=[], now=late
        )
    # in time, without new files (the first filing's are kept)
    pm = services.postmortem_file(
        shop=exited.shop, exit_id=exited.pk, data=_input(), files=[], now=decided + 48 * H
    )
    assert (pm.status, pm.revision) == ("submitted", 2)
    assert [h["status"] for h in pm.history] == ["rejected"]


def test_e7_missed_deadline_is_reopened_by_an_admin_for_48_hours(exited, admin_user, owner):
    late = exited.exited_at + 50 * H
    f = filings(exit_=exited, now=late)
    assert f.pm_state == PmState.MISSED
    pm = services.postmortem_reopen(
        exit_id=exited.pk, by=admin_user, reason="Carrier outage week.", now=late
    )
    assert pm.status == "due"
    assert pm.due_at == late + 48 * H
    assert Notification.objects.filter(recipient=owner, title__contains="again").exists()
    pm = services.postmortem_file(
        shop=exited.shop, exit_id=exited.pk, data=_input(), files=[_pdf()], now=late + 48 * H
    )
    assert pm.status == "submitted"


def test_e7_admin_actions_decide_through_the_service(admin_client, exited, owner):
    pm = _filed(exited)
    url = reverse("admin:activities_postmortem_changelist")
    # the changelist and the change page (with its files) open
    assert admin_client.get(url).status_code == 200
    change = admin_client.get(reverse("admin:activities_postmortem_change", args=[pm.pk]))
    assert "carrier-statement.pdf" in change.content.decode()
    # the action asks for a reason first, then decides
    ask = admin_client.post(url, {"action": "reject", "_selected_action": [pm.pk]})
    assert ask.status_code == 200
    assert "Reason" in ask.content.decode()
    admin_client.post(
        url,
        {
            "action": "reject",
            "_selected_action": [pm.pk],
            "apply": "1",
            "reason": "Attach the carrier's statement.",
        },
    )
    pm.refresh_from_db()
    assert (pm.status, pm.decision_reason) == ("rejected", "Attach the carrier's statement.")
    assert Notification.objects.filter(recipient=owner, title__contains="rejected").exists()


def test_e7_admin_upholds_an_appeal_and_the_exit_no_longer_counts(
    exited, admin_user, owner, owner_client
):
    appeal = services.appeal_open(
        shop=exited.shop,
        exit_id=exited.pk,
        statement="Yanwen lost its scans.",
        files=[_pdf()],
        now=EXIT_AT + H,
    )
    assert selectors.reenrolment_blocked(shop=exited.shop, at=EXIT_AT + 2 * H)
    services.appeal_decide(
        appeal_id=appeal.pk, uphold=True, reason="Carrier outage confirmed.", by=admin_user
    )
    assert selectors.reenrolment_conditions(shop=exited.shop, at=EXIT_AT + 2 * H) == []
    assert not selectors.reenrolment_blocked(shop=exited.shop, at=EXIT_AT + 2 * H)
    assert Notification.objects.filter(recipient=owner, title__contains="upheld").exists()
    # and: the activities page no longer shows the removal banner
    body = owner_client.get(reverse("activities:index")).content.decode()
    assert "alert-danger" not in body


def test_e7_the_activities_page_shows_the_removal_banner_while_the_exit_counts(
    exited, owner_client
):
    body = owner_client.get(reverse("activities:index")).content.decode()
    assert "alert-danger" in body
    assert reverse("activities:exit", args=[exited.pk]) in body


# --- E-8: the post-mortem condition, then every condition passing --------------------------------


def _condition(shop, at):
    conditions = selectors.reenrolment_conditions(shop=shop, at=at)
    return next(c for c in conditions if c.check.code == "e8_postmortem_approved")


def test_e8_postmortem_condition_shows_its_state_and_earliest_date(exited, admin_user):
    at = EXIT_AT + H  # 2025-06-11 11:00 CST
    c = _condition(exited.shop, at)
    assert (c.check.passed, c.check.measured) == (False, "not filed yet")
    assert "2025-06-13 10:00" in c.check.detail
    assert c.earliest == date(2025, 6, 13)  # filed now and decided within the 48-hour target
    pm = _filed(exited, at=at)
    c = _condition(exited.shop, at + H)
    assert (c.check.passed, c.check.measured) == (False, "under review")
    assert c.earliest == date(2025, 6, 13)
    services.postmortem_decide(postmortem_id=pm.pk, approve=True, reason="ok", by=admin_user)
    c = _condition(exited.shop, at + 2 * H)
    assert (c.check.passed, c.earliest) == (True, None)
    # and past the deadline without filing it says so, with how to fix
    pm.delete()
    c = _condition(exited.shop, exited.exited_at + 49 * H)
    assert c.check.measured == "deadline missed"
    assert "reopen" in c.check.fix


def test_e8_reenrolment_page_lists_the_postmortem_with_its_link(owner_client, exited):
    with time_machine.travel(EXIT_AT + H, tick=False):
        body = owner_client.get(reverse("activities:reenrol")).content.decode()
    assert "Post-mortem approved" in body
    assert "not filed yet" in body
    assert reverse("activities:postmortem", args=[exited.pk]) in body


def test_e8_every_condition_passes_after_recovery_approval_and_dsr(exited, admin_user):
    shop = exited.shop
    from actkit import Seller

    seller = Seller.__new__(Seller)
    seller.shop, seller.n = shop, 100
    seller.sku = Sku.objects.get(shop=shop, code="ACT-1")
    seller.buyer = exited.shop.orders.first().buyer
    pm = _filed(exited)
    services.postmortem_decide(postmortem_id=pm.pk, approve=True, reason="ok", by=admin_user)
    # 30 days on, the late orders have left the window; 20 new orders ship on time, 3 reviewed
    start = EXIT_AT + 28 * D
    for o in seller.orders(20, start):
        o = seller.ship(o, o.placed_at + H)
        o = orders.order_deliver(order=o, delivered_at=o.placed_at + D)
        if o.number.endswith(("01", "02", "03")):
            orders.review_post(
                order=o,
                sku=seller.sku,
                rating=5,
                dsr_item_as_described=5,
                dsr_communication=5,
                dsr_shipping=5,
                posted_at=o.placed_at + D + H,
            )
    # four recovered days: not yet, earliest the fifth
    for day in range(30, 34):
        services.metrics_evaluate(now=EXIT_AT + day * D)
    at = EXIT_AT + 33 * D + H
    conditions = {c.check.code: c for c in selectors.reenrolment_conditions(shop=shop, at=at)}
    late = conditions["e8_late_shipment_recovered"]
    assert (late.check.passed, late.check.measured) == (False, "4 days so far")
    assert late.earliest == (EXIT_AT + 34 * D).date()
    assert selectors.reenrolment_blocked(shop=shop, at=at)
    # the fifth day: every condition passes, and the shop enrols again
    services.metrics_evaluate(now=EXIT_AT + 34 * D)
    at = EXIT_AT + 34 * D + H
    conditions = selectors.reenrolment_conditions(shop=shop, at=at)
    assert all(c.check.passed for c in conditions), [
        (c.check.code, c.check.measured) for c in conditions if not c.check.passed
    ]
    activity = make_activity(
        name="Back to school",
        starts_at=at - D,
        ends_at=at + 10 * D,
        enrol_until=at + 5 * D,
    )
    with time_machine.travel(at, tick=False):
        services.enrolment_create(
            shop=shop,
            activity=activity,
            sku=seller.sku,
            activity_price_minor=40_00,
            stock=10,
            now=at,
        )


def test_e8_an_exited_shop_without_an_approved_postmortem_stays_out(exited):
    assert selectors.reenrolment_blocked(shop=exited.shop, at=DAY1_10H + 3 * D)


def test_e7_pages_speak_chinese(owner_client, exited):
    owner_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    with time_machine.travel(EXIT_AT + H, tick=False):
        form = owner_client.get(reverse("activities:postmortem", args=[exited.pk])).content.decode()
        appeal = owner_client.get(reverse("activities:appeal", args=[exited.pk])).content.decode()
        listing = owner_client.get(reverse("activities:appeals")).content.decode()
        reenrol = owner_client.get(reverse("activities:reenrol")).content.decode()
    assert "提交复盘报告" in form
    assert "剩余 47 小时 0 分钟" in form
    assert "根本原因" in form
    assert "提出申诉" in appeal
    assert "活动表现申诉" in listing
    assert "尚未提交" in reenrol


# --- concurrency: two submissions of one exit, two decisions of one post-mortem ------------------


def _at_once(fn, n=2):
    import threading

    from django.db import connections

    results, errors = [], []
    barrier = threading.Barrier(n)

    def run():
        try:
            barrier.wait()
            results.append(fn())
        except DomainError as exc:
            errors.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_e7_two_filings_at_once_file_once_and_two_decisions_decide_once(
    private_dir, django_user_model
):
    _seller, _activity, _enrolment, exit_, _made = late_shipper()
    results, errors = _at_once(
        lambda: services.postmortem_file(
            shop=exit_.shop, exit_id=exit_.pk, data=_input(), files=[_pdf()], now=EXIT_AT + H
        )
    )
    assert (len(results), errors) == (1, ["postmortem_under_review"])
    pm = PostMortem.objects.get()
    assert pm.revision == 1
    assert services.evidence_files(owner=pm).count() == 1

    staff = django_user_model.objects.create_user("reviewer", is_staff=True)
    decided, refused = _at_once(
        lambda: services.postmortem_decide(
            postmortem_id=pm.pk, approve=True, reason="ok", by=staff, now=EXIT_AT + 2 * H
        )
    )
    assert (len(decided), refused) == (1, ["postmortem_not_under_review"])
    pm.refresh_from_db()
    assert len(pm.history) == 1
