"""SPEC B-8 (seller CRM), M-3 (consent, suppression) and M-4 (segments): the Audience pages."""

import csv
import io
from datetime import timedelta

import pytest
from audiencekit import confirm, person, subscriber
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from factories import make_order

from core import clock
from core.csvexport import csv_safe
from mailing.models import Consent, ConsentStatus, Segment, Suppression, SuppressionReason
from mailing.services import audience

pytestmark = pytest.mark.django_db
AUDIENCE = reverse("mailing:audience")


def body(response) -> str:
    return response.content.decode()


def test_b8_audience_lists_buyers_with_orders_spend_and_consent(owner, owner_client, shop_a):
    # given: two paid orders of 100.00 each, one buyer
    b = subscriber(shop_a)
    make_order(shop_a, b)
    # when
    page = body(owner_client.get(AUDIENCE))
    # then
    assert b.external_id in page
    assert b.email in page
    assert "Subscribed" in page
    assert "repeat" in page


def test_b8_analyst_sees_contacts_masked(analyst_client, shop_a):
    subscriber(shop_a, email="secret.person@example.com")
    response = analyst_client.get(AUDIENCE)
    assert "secret.person@example.com" not in body(response)
    assert "s***@example.com" in body(response)
    assert "no-store" in response["Cache-Control"]


def test_b8_analyst_cannot_search_by_contact(analyst_client, owner_client, shop_a):
    subscriber(shop_a, email="findme@example.com")
    assert "f***@example.com" not in body(analyst_client.get(AUDIENCE, {"q": "findme"}))
    assert "findme@example.com" in body(owner_client.get(AUDIENCE, {"q": "findme"}))


def test_b8_another_shops_buyer_is_404(owner_client, shop_b):
    b = subscriber(shop_b)
    assert owner_client.get(reverse("mailing:audience_buyer", args=[b.pk])).status_code == 404
    url = reverse("mailing:audience_buyer_confirm_request", args=[b.pk])
    assert owner_client.post(url).status_code == 404


def test_b8_other_shop_sees_none_of_shop_a(other_client, shop_a):
    b = subscriber(shop_a)
    assert b.external_id not in body(other_client.get(AUDIENCE))


def test_b8_audience_filters_by_consent_and_paginates(owner_client, shop_a, settings):
    settings.SC_PAGE_SIZE = 2
    subs = [subscriber(shop_a) for _ in range(3)]
    nope = subscriber(shop_a, opt_in=False)
    page1 = body(owner_client.get(AUDIENCE, {"consent": "subscribed"}))
    page2 = body(owner_client.get(AUDIENCE, {"consent": "subscribed", "page": 2}))
    assert nope.external_id not in page1 + page2
    assert sum(b.external_id in page1 + page2 for b in subs) == 3
    assert "Page 1 of 2" in page1


def test_b8_audience_query_count_is_constant(owner_client, shop_a):
    subscriber(shop_a)
    owner_client.get(AUDIENCE)
    with CaptureQueriesContext(connection) as few:
        owner_client.get(AUDIENCE)
    for _ in range(8):
        make_order(shop_a, subscriber(shop_a))
    with CaptureQueriesContext(connection) as many:
        owner_client.get(AUDIENCE)
    assert len(many.captured_queries) == len(few.captured_queries) <= 12


def test_b8_bad_filter_values_never_500(owner_client):
    response = owner_client.get(AUDIENCE, {"spend_min": "abc", "countries": "France", "page": "x"})
    assert response.status_code == 200


def test_m3_buyer_page_shows_consent_evidence(owner_client, shop_a):
    fr = subscriber(shop_a, country="FR")
    confirm(shop_a, fr)
    page = body(owner_client.get(reverse("mailing:audience_buyer", args=[fr.pk])))
    assert "203.0.113.7" in page
    assert "Confirmation request" in page  # the source


def test_m3_eu_buyer_gets_a_confirmation_request(
    owner_client, shop_a, mailoutbox, django_capture_on_commit_callbacks
):
    fr = subscriber(shop_a, country="FR")
    url = reverse("mailing:audience_buyer", args=[fr.pk])
    assert "Send confirmation request" in body(owner_client.get(url))
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("mailing:audience_buyer_confirm_request", args=[fr.pk]))
    (mail,) = mailoutbox
    assert mail.to == [fr.email]
    assert "/mailing/confirm/" in mail.body
    consent = Consent.objects.get(shop=shop_a, email=fr.email)
    assert consent.status == ConsentStatus.PENDING
    assert consent.requested_at is not None


def test_m3_confirmation_get_never_confirms_and_post_does(client, shop_a):
    fr = subscriber(shop_a, country="FR")
    req = audience.double_opt_in_request(shop=shop_a, email=fr.email, buyer_id=fr.pk)
    url = reverse("mailing:confirm", args=[req.token])
    assert client.get(url).status_code == 200
    assert Consent.objects.get(pk=req.consent.pk).status == ConsentStatus.PENDING
    response = client.post(url, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 200
    row = Consent.objects.get(pk=req.consent.pk)
    assert row.status == ConsentStatus.CONFIRMED
    assert row.confirmed_ip == "198.51.100.9"


def test_m3_tampered_or_superseded_confirmation_link_is_refused(client, shop_a):
    fr = subscriber(shop_a, country="FR")
    first = audience.double_opt_in_request(shop=shop_a, email=fr.email)
    tampered = first.token[:-2] + ("A" if first.token[-2] != "A" else "B") + first.token[-1]
    assert client.post(reverse("mailing:confirm", args=[tampered])).status_code == 400
    audience.double_opt_in_request(shop=shop_a, email=fr.email)  # a new link
    assert client.post(reverse("mailing:confirm", args=[first.token])).status_code == 400
    assert Consent.objects.get(shop=shop_a, email=fr.email).status == ConsentStatus.PENDING


def test_m3_confirmation_link_expires_after_the_rule_days(client, shop_a, time_machine):
    fr = subscriber(shop_a, country="FR")
    now = clock.now().replace(microsecond=0)  # the link's timestamp is in whole seconds
    time_machine.move_to(now, tick=False)
    req = audience.double_opt_in_request(shop=shop_a, email=fr.email)
    time_machine.move_to(now + timedelta(days=7), tick=False)
    assert client.get(reverse("mailing:confirm", args=[req.token])).status_code == 200
    time_machine.move_to(now + timedelta(days=7, seconds=1), tick=False)
    assert client.post(reverse("mailing:confirm", args=[req.token])).status_code == 400


def test_m3_suppression_page_add_filter_and_remove_manual_only(owner_client, shop_a):
    url = reverse("mailing:suppressions")
    owner_client.post(url, {"email": "Someone@Example.com"})
    manual = Suppression.objects.get(shop=shop_a, email="someone@example.com")
    assert manual.reason == SuppressionReason.MANUAL
    bounce = audience.suppress(shop=shop_a, email="b@example.com", reason="hard_bounce")
    page = body(owner_client.get(url, {"reason": "hard_bounce"}))
    assert "b@example.com" in page
    assert "someone@example.com" not in page
    owner_client.post(reverse("mailing:suppression_remove", args=[bounce.pk]))
    assert Suppression.objects.filter(pk=bounce.pk).exists()  # a bounce is not the shop's to lift
    owner_client.post(reverse("mailing:suppression_remove", args=[manual.pk]))
    assert not Suppression.objects.filter(pk=manual.pk).exists()


def test_m3_suppression_bad_email_is_a_form_error(owner_client, shop_a):
    response = owner_client.post(reverse("mailing:suppressions"), {"email": "not-an-email"})
    assert response.status_code == 400
    assert not Suppression.objects.exists()


def test_m3_analyst_cannot_add_suppressions(analyst_client, shop_a):
    response = analyst_client.post(reverse("mailing:suppressions"), {"email": "a@example.com"})
    assert response.status_code == 403
    assert not Suppression.objects.exists()


def test_m3_another_shops_suppression_is_404(owner_client, shop_b):
    row = audience.suppress(shop=shop_b, email="x@example.com", reason="manual")
    response = owner_client.post(reverse("mailing:suppression_remove", args=[row.pk]))
    assert response.status_code == 404
    assert Suppression.objects.filter(pk=row.pk).exists()


def test_m3_suppression_list_query_count_is_constant(owner_client, shop_a):
    url = reverse("mailing:suppressions")
    audience.suppress(shop=shop_a, email="a0@example.com", reason="complaint")
    owner_client.get(url)
    with CaptureQueriesContext(connection) as few:
        owner_client.get(url)
    for i in range(1, 10):
        audience.suppress(shop=shop_a, email=f"a{i}@example.com", reason="complaint")
    with CaptureQueriesContext(connection) as many:
        owner_client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries) <= 10


# --- segments (M-4) ------------------------------------------------------------------------------


def test_m4_live_count_follows_the_editor_with_htmx_and_without(owner_client, shop_a):
    subscriber(shop_a, days_ago=5)
    subscriber(shop_a, days_ago=50)
    preview = reverse("mailing:segment_preview")
    r = owner_client.get(preview, {"last_order_max_days": "10"}, headers={"HX-Request": "true"})
    assert "1 recipient" in body(r)
    r = owner_client.get(preview, {})
    assert "2 recipients" in body(r)
    # without JavaScript: the "Count" button posts the form back
    r = owner_client.post(
        reverse("mailing:segment_new"), {"name": "", "last_order_min_days": "40", "preview": "1"}
    )
    assert r.status_code == 200
    assert "1 recipient" in body(r)
    assert not Segment.objects.exists()


def test_m4_invalid_conditions_show_how_to_fix(owner_client, shop_a):
    r = owner_client.post(
        reverse("mailing:segment_new"),
        {"name": "X", "last_order_min_days": "60", "last_order_max_days": "30"},
    )
    assert r.status_code == 400
    assert "The upper end must be at least the lower end" in body(r)
    assert not Segment.objects.exists()


def test_m4_save_edit_and_use_a_segment(owner_client, shop_a):
    recent = subscriber(shop_a, days_ago=5)
    old = subscriber(shop_a, days_ago=50)
    owner_client.post(
        reverse("mailing:segment_new"), {"name": "Recent", "last_order_max_days": "10"}
    )
    seg = Segment.objects.get(shop=shop_a, name="Recent")
    assert seg.definition == {"last_order_max_days": 10}
    page = body(owner_client.get(AUDIENCE, {"segment": seg.pk}))
    assert recent.external_id in page
    assert old.external_id not in page
    count = body(owner_client.get(reverse("mailing:segment_count", args=[seg.pk])))
    assert "1 recipient" in count
    owner_client.post(
        reverse("mailing:segment_edit", args=[seg.pk]), {"name": "Recent", "spend_min": "1.50"}
    )
    seg.refresh_from_db()
    assert seg.definition == {"spend_min_minor": 150}


def test_m4_segment_names_are_unique_per_shop(owner_client, shop_a):
    owner_client.post(reverse("mailing:segment_new"), {"name": "VIP"})
    r = owner_client.post(reverse("mailing:segment_new"), {"name": "VIP"})
    assert r.status_code == 400
    assert Segment.objects.filter(shop=shop_a).count() == 1


def test_m4_another_shops_segment_is_404(owner_client, shop_b):
    seg = Segment.objects.create(shop=shop_b, name="B", definition={})
    for name in ("segment_edit", "segment_count"):
        assert owner_client.get(reverse(f"mailing:{name}", args=[seg.pk])).status_code == 404
    assert owner_client.post(reverse("mailing:segment_delete", args=[seg.pk])).status_code == 404
    assert owner_client.get(AUDIENCE, {"segment": seg.pk}).status_code == 404


def test_m4_segment_list_query_count_is_constant(owner_client, shop_a):
    url = reverse("mailing:segments")
    Segment.objects.create(shop=shop_a, name="s0", definition={})
    owner_client.get(url)
    with CaptureQueriesContext(connection) as few:
        owner_client.get(url)
    for i in range(1, 8):
        Segment.objects.create(shop=shop_a, name=f"s{i}", definition={"repeat": True})
    with CaptureQueriesContext(connection) as many:
        owner_client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries) <= 10


def test_m4_analyst_cannot_edit_segments(analyst_client):
    assert analyst_client.post(reverse("mailing:segment_new"), {"name": "x"}).status_code == 403
    assert not Segment.objects.exists()


# --- export (B-8) --------------------------------------------------------------------------------


def _export(client, **params):
    response = client.get(reverse("mailing:audience_export"), params)
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


def test_b8_export_is_streamed_and_formula_safe(owner_client, shop_a):
    b = subscriber(shop_a, email="=cmd@example.com", external_id="=HYPERLINK(1)")
    rows = _export(owner_client)
    assert rows[0][0] == "Buyer id"
    (row,) = rows[1:]
    assert row[0] == "'=HYPERLINK(1)"
    assert row[1] == "'=cmd@example.com"
    assert b.email == "=cmd@example.com"


def test_b8_export_masks_contacts_for_the_analyst(analyst_client, shop_a):
    subscriber(shop_a, email="hidden@example.com")
    rows = _export(analyst_client)
    assert rows[1][1] == "h***@example.com"


def test_b8_export_follows_the_filters_and_the_shop(owner_client, shop_a, shop_b):
    keep = subscriber(shop_a)
    subscriber(shop_a, opt_in=False)
    subscriber(shop_b)
    rows = _export(owner_client, consent="subscribed")
    assert [r[0] for r in rows[1:]] == [keep.external_id]


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("a=b", "a=b"),
        (5, "5"),
    ],
)
def test_b8_csv_cells_never_start_a_formula(value, safe):
    assert csv_safe(value) == safe


def test_b8_people_without_orders_are_not_in_the_audience(owner_client, shop_a):
    p = person()
    assert p.external_id not in body(owner_client.get(AUDIENCE))


def test_b8_buyer_page_shows_segment_membership_in_constant_queries(owner_client, shop_a):
    from mailing.segments import SegmentDefinition
    from mailing.services.segments import segment_save

    b = subscriber(shop_a, days_ago=5)
    segment_save(shop=shop_a, name="Recent", definition=SegmentDefinition(last_order_max_days=10))
    segment_save(shop=shop_a, name="Old", definition=SegmentDefinition(last_order_min_days=100))
    url = reverse("mailing:audience_buyer", args=[b.pk])
    owner_client.get(url)
    with CaptureQueriesContext(connection) as few:
        page = body(owner_client.get(url))
    assert "Recent</a>" in page
    assert "Old</a>" not in page
    for i in range(6):
        segment_save(shop=shop_a, name=f"S{i}", definition=SegmentDefinition(repeat=True))
    with CaptureQueriesContext(connection) as many:
        owner_client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries) <= 15


HUGE = "99999999999999999999999"
JUNK = [HUGE, "-" + HUGE, "1\x00", "\x00", "x" * 5000, "abc", "1e9", "٣", "", " ", "3650"]
FILTER_FIELDS = [
    "q",
    "consent",
    "sort",
    "countries",
    "sites",
    "spend_min",
    "spend_max",
    "last_order_min_days",
    "last_order_max_days",
    "fulfilment",
    "fulfilment_days",
    "abandoned_cart_days",
    "coins_expiring_days",
    "rfm_groups",
    "repeat",
    "page",
]


@pytest.mark.parametrize("field", FILTER_FIELDS)
def test_b8_m4_audience_export_and_preview_survive_junk(owner_client, shop_a, field):
    subscriber(shop_a)
    for value in JUNK:
        for name in ("mailing:audience", "mailing:segment_preview"):
            response = owner_client.get(reverse(name), {field: value})
            assert response.status_code == 200, (name, value)
        export = owner_client.get(reverse("mailing:audience_export"), {field: value})
        assert export.status_code in (200, 400), value
        if export.status_code == 200:
            b"".join(export.streaming_content)  # the stream itself never fails


@pytest.mark.parametrize("value", [HUGE, "abc", "1\x00", "-1"])
def test_b8_junk_segment_ids_are_404(owner_client, value):
    assert owner_client.get(AUDIENCE, {"segment": value}).status_code == 404


def test_m3_ask_every_awaiting_buyer_once(
    owner_client, shop_a, mailoutbox, django_capture_on_commit_callbacks
):
    fr, de = subscriber(shop_a, country="FR"), subscriber(shop_a, country="DE")
    subscriber(shop_a, country="US")  # subscribed already: never asked
    confirmed = subscriber(shop_a, country="ES")
    confirm(shop_a, confirmed)
    page = body(owner_client.get(AUDIENCE, {"consent": "awaiting"}))
    assert "Ask them all to confirm" in page
    url = reverse("mailing:audience_confirm_requests")
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(url)
    assert sorted(m.to[0] for m in mailoutbox) == sorted([fr.email, de.email])
    # a second click while the links still work asks nobody again
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(url)
    assert len(mailoutbox) == 2


def test_m3_analyst_cannot_send_confirmation_requests(analyst_client, shop_a, mailoutbox):
    subscriber(shop_a, country="FR")
    assert analyst_client.post(reverse("mailing:audience_confirm_requests")).status_code == 403
    assert mailoutbox == []


def test_b8_audience_in_chinese(owner_client, shop_a):
    subscriber(shop_a)
    from django.utils import translation

    with translation.override("en"):  # the page's language must not leak into later tests
        page = body(owner_client.get(AUDIENCE, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "已订阅" in page
