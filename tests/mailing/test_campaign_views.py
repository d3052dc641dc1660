"""Campaign pages (SPEC M-5 to M-10): compose from a template, preview, test send, checklist,
confirm, progress, pause/resume/cancel, the send log with "diagnose"; tenant isolation, query
counts, pagination and translations."""

from collections import Counter

import dispatchkit as kit
import pytest
from django.core import mail
from django.test import override_settings
from django.utils import translation

from mailing.models import Campaign, CampaignStatus, Message
from mailing.services import campaigns, dispatch
from mailing.services import setup as setup_services


@pytest.fixture
def template_a(brand_a, shop_a):
    return setup_services.template_copy(shop=shop_a, builtin_key="seasonal_promotion")


@pytest.fixture
def draft(template_a, shop_a):
    return campaigns.campaign_create_from_template(shop=shop_a, name="Spring", template=template_a)


def test_m2_a_campaign_is_composed_from_a_template_with_each_language(owner_client, template_a):
    response = owner_client.post(
        "/mailing/campaigns/new/", {"name": "Spring sale", "template": template_a.pk}
    )
    c = Campaign.objects.get(name="Spring sale")
    assert response.status_code == 302
    assert response["Location"] == f"/mailing/campaigns/{c.pk}/"
    langs = set(c.contents.values_list("language", flat=True))
    assert {"en", "es", "fr", "ru", "pt"} <= langs
    assert c.status == CampaignStatus.DRAFT


def test_m2_another_shops_template_or_segment_is_refused(
    owner_client, template_a, enabled_b, shop_b
):
    from mailing.models import Segment

    other = Segment.objects.create(shop=shop_b, name="B's", definition={})
    response = owner_client.post(
        "/mailing/campaigns/new/", {"name": "x", "template": template_a.pk, "segment": other.pk}
    )
    assert response.status_code == 200
    assert not Campaign.objects.filter(name="x").exists()


def test_m5_campaign_pages_are_tenant_isolated(other_client, draft):
    for url in (
        f"/mailing/campaigns/{draft.pk}/",
        f"/mailing/campaigns/{draft.pk}/preview/",
        f"/mailing/campaigns/{draft.pk}/log/",
        f"/mailing/campaigns/{draft.pk}/progress",
    ):
        assert other_client.get(url).status_code == 404, url
    for action in ("confirm", "pause", "cancel", "content", "schedule", "ab", "test-send"):
        assert other_client.post(f"/mailing/campaigns/{draft.pk}/{action}").status_code in (
            403,
            404,
        )
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.DRAFT


def test_m7_analyst_reads_but_cannot_send(analyst_client, draft):
    assert analyst_client.get(f"/mailing/campaigns/{draft.pk}/").status_code == 200
    assert analyst_client.post(f"/mailing/campaigns/{draft.pk}/confirm").status_code == 403


def test_m7_m8_m9_checklist_shows_recipients_quota_days_and_cost_before_confirming(
    owner_client, draft, monkeypatch, django_assert_max_num_queries
):
    from mailing import segments

    monkeypatch.setattr(segments, "count", lambda segment, *, shop, at=None: 12_001)
    # bounded whatever the number of languages (5 here); 16 are the registry's first reads
    with django_assert_max_num_queries(60):
        response = owner_client.get(f"/mailing/campaigns/{draft.pk}/")
    assert response.status_code == 200
    cl = response.context["checklist"]
    # 12,001 recipients, full day ahead at 5,000 (account older than 30 days? no: new: 2,000)
    assert cl.recipients == 12_001
    assert cl.daily_quota == 2000
    assert cl.quota_days == 7  # 2,000 today + 5 more full days + 1
    assert cl.free_left == 5000
    assert cl.charged == 7001
    assert cl.can_send
    body = response.content.decode()
    assert "12001" in body.replace(",", "")
    assert f'action="/mailing/campaigns/{draft.pk}/confirm"' in body


def test_m7_confirm_is_blocked_without_the_footer_and_says_how_to_fix(owner_client, draft, shop_a):
    from mailing.models import BrandProfile

    BrandProfile.objects.filter(shop=shop_a).update(physical_address="")
    response = owner_client.post(f"/mailing/campaigns/{draft.pk}/confirm", follow=True)
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.DRAFT
    assert "physical address" in response.content.decode()


def test_m2_confirm_is_blocked_without_the_brand_logo_and_says_how_to_fix(
    owner_client, draft, shop_a, monkeypatch
):
    from mailing import segments
    from mailing.models import BrandProfile

    monkeypatch.setattr(segments, "count", lambda segment, *, shop, at=None: 3)
    BrandProfile.objects.filter(shop=shop_a).update(logo=None)
    page = owner_client.get(f"/mailing/campaigns/{draft.pk}/")
    assert not page.context["checklist"].can_send
    assert "The logo is missing." in page.content.decode()
    assert 'href="/mailing/setup/brand/"' in page.content.decode()

    response = owner_client.post(f"/mailing/campaigns/{draft.pk}/confirm", follow=True)
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.DRAFT
    assert "Upload your brand logo" in response.content.decode()


def test_m5_confirm_streams_recipients_sends_and_shows_progress(
    owner_client, draft, audience, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    audience += list(kit.recipients(3))
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/mailing/campaigns/{draft.pk}/confirm")
    assert response.status_code == 302
    draft.refresh_from_db()
    # tasks run eagerly in tests: streamed, sent, finished
    assert draft.status == CampaignStatus.SENT
    assert len(mail.outbox) == 3
    with django_assert_max_num_queries(12):
        progress = owner_client.get(
            f"/mailing/campaigns/{draft.pk}/progress", HTTP_HX_REQUEST="true"
        )
    assert progress.status_code == 200
    assert 'aria-valuenow="100"' in progress.content.decode()
    assert "hx-trigger" not in progress.content.decode()  # finished: polling stops


def test_m5_progress_polls_while_sending(owner_client, draft, audience):
    audience += list(kit.recipients(2))
    kit.start(draft)
    body = owner_client.get(f"/mailing/campaigns/{draft.pk}/progress").content.decode()
    assert 'hx-trigger="every 2s"' in body
    assert 'aria-valuenow="0"' in body


def test_m5_pause_resume_and_cancel(
    owner_client, draft, audience, django_capture_on_commit_callbacks
):
    audience += list(kit.recipients(3))
    kit.start(draft)
    owner_client.post(f"/mailing/campaigns/{draft.pk}/pause")
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.PAUSED
    assert dispatch.batch_send(campaign_id=draft.pk).claimed == 0  # paused: nothing leaves
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(f"/mailing/campaigns/{draft.pk}/resume")
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.SENT  # resumed → the batch task sent the rest
    assert Message.objects.filter(campaign=draft, state="sent").count() == 3
    response = owner_client.post(f"/mailing/campaigns/{draft.pk}/cancel", follow=True)
    assert "already finished" in response.content.decode()


def test_m5_cancel_stops_what_has_not_left(owner_client, draft, audience):
    audience += list(kit.recipients(3))
    kit.start(draft)
    owner_client.post(f"/mailing/campaigns/{draft.pk}/cancel")
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.CANCELLED
    assert Message.objects.filter(campaign=draft, state="cancelled").count() == 3
    assert dispatch.batch_send(campaign_id=draft.pk).claimed == 0


def test_m5_preview_desktop_and_phone_per_language(owner_client, draft):
    response = owner_client.get(f"/mailing/campaigns/{draft.pk}/preview/?lang=fr")
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["content"].language == "fr"
    assert body.count("<iframe") == 2
    assert "12 Harbour Road" in response.context["built"].html  # the footer


def test_m5_test_send_goes_to_the_given_address_in_its_language(owner_client, draft):
    mail.outbox = []
    owner_client.post(
        f"/mailing/campaigns/{draft.pk}/test-send", {"to": "me@example.com", "language": "es"}
    )
    [m] = mail.outbox
    assert m.to == ["me@example.com"]
    assert m.subject.startswith("[TEST] ")
    assert m.subject != "[TEST] " + draft.contents.get(language="en").subject
    assert not Message.objects.exists()  # no row, no quota, no billing


def test_m10_header_injection_in_a_saved_subject_is_refused(owner_client, draft):
    en = draft.contents.get(language="en")
    response = owner_client.post(
        f"/mailing/campaigns/{draft.pk}/content",
        {
            "prefix": "A-en",
            "A-en-language": "en",
            "A-en-variant": "A",
            "A-en-subject": "Hi\r\nBcc: all@example.com",
            "A-en-body": en.body,
        },
        follow=True,
    )
    en.refresh_from_db()
    assert "Bcc" not in en.subject
    assert "line breaks" in response.content.decode()


def test_m10_send_log_filters_failures_and_diagnoses_each(
    owner_client, brand_a, shop_a, sink, audience, django_assert_max_num_queries
):
    sink.handler.refuse["gone@example.com"] = "550 5.1.1 User unknown"
    audience += [dispatch.Recipient(None, "gone@example.com", "en", "us", "UTC")]
    audience += list(kit.recipients(30))
    c = kit.start(kit.campaign(shop_a))
    dispatch.batch_send(campaign_id=c.pk)
    with django_assert_max_num_queries(10):
        everything = owner_client.get(f"/mailing/campaigns/{c.pk}/log/")
    assert len(everything.context["page_obj"]) == 25  # paginated
    assert everything["Cache-Control"] == "private, no-store"
    failed = owner_client.get(f"/mailing/campaigns/{c.pk}/log/?code=550")
    [row] = list(failed.context["page_obj"])
    assert row.email == "gone@example.com"
    page2 = owner_client.get(
        f"/mailing/campaigns/{c.pk}/log/?after={everything.context['page_obj'].next_cursor}"
    )
    assert len(page2.context["page_obj"]) == 6
    diagnosis = owner_client.get(f"/mailing/campaigns/{c.pk}/log/{row.pk}/")
    assert "quarantined for 30 days" in diagnosis.content.decode()
    # worded in the reader's language when the page renders
    owner_client.cookies["django_language"] = "zh-hans"
    chinese = owner_client.get(
        f"/mailing/campaigns/{c.pk}/log/{row.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "quarantined for 30 days" not in chinese
    assert "30 天" in chinese


def test_m10_diagnosis_of_refused_content_says_the_address_is_not_quarantined(
    owner_client, brand_a, shop_a, sink, audience
):
    async def refuse_data(server, session, envelope):
        return "554 5.7.1 Message content rejected"

    sink.handler.handle_DATA = refuse_data
    audience.append(dispatch.Recipient(None, "anna@example.com", "en", "us", "UTC"))
    c = kit.start(kit.campaign(shop_a))
    dispatch.batch_send(campaign_id=c.pk)
    m = Message.objects.get(campaign=c)
    assert (m.state, m.error_code) == ("failed", 554)

    body = owner_client.get(f"/mailing/campaigns/{c.pk}/log/{m.pk}/").content.decode()

    assert "not quarantined" in body
    assert "quarantined for 30 days" not in body


def test_m6_ab_winner_by_opens_goes_to_the_rest(brand_a, shop_a, monkeypatch):
    from datetime import timedelta

    import time_machine

    from core import clock

    c = kit.campaign(
        shop_a,
        contents=[
            campaigns.ContentInput(language="en", subject="20% off", body=kit.BODY),
            campaigns.ContentInput(
                language="en", subject="New: 20% off", body=kit.BODY, variant="B"
            ),
        ],
    )
    campaigns.campaign_ab_set(
        campaign=c, enabled=True, test_percent=50, metric="open", wait_hours=4
    )
    monkeypatch.setattr(dispatch, "recipients_for", lambda _c: kit.recipients(200))
    c = kit.start(c)
    counts = Counter(Message.objects.filter(campaign=c).values_list("variant", flat=True))
    assert min(counts[""], counts["A"], counts["B"]) > 0
    while dispatch.batch_send(campaign_id=c.pk).claimed:
        pass
    assert not Message.objects.filter(campaign=c, variant="").exclude(state="held").exists()
    # B's messages are opened more
    Message.objects.filter(campaign=c, variant="B").update(opened_at=clock.now())
    assert dispatch.ab_decide(campaign_id=c.pk) == ""  # not yet: 4 hours
    with time_machine.travel(clock.now() + timedelta(hours=4, seconds=1), tick=False):
        assert dispatch.ab_decide(campaign_id=c.pk) == "B"
        while dispatch.batch_send(campaign_id=c.pk).claimed:
            pass
    held_then = Message.objects.filter(campaign=c, variant="B").count()
    assert held_then == 200 - counts["A"]
    c.refresh_from_db()
    assert c.status == CampaignStatus.SENT


def test_campaign_list_is_paginated_filtered_and_query_counted(
    owner_client, brand_a, shop_a, django_assert_max_num_queries
):
    for i in range(27):
        kit.campaign(shop_a, name=f"C{i:02d}")
    with django_assert_max_num_queries(10):
        response = owner_client.get("/mailing/campaigns/")
    assert len(response.context["page_obj"]) == 25
    assert owner_client.get("/mailing/campaigns/?status=sent").context["page_obj"].object_list == []


@override_settings(LANGUAGE_CODE="zh-hans")
def test_campaign_pages_in_chinese(owner_client, draft):
    with translation.override("zh-hans"):
        response = owner_client.get(
            f"/mailing/campaigns/{draft.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
    assert "发送前" in response.content.decode()
