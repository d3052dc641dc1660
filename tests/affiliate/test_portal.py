"""The promoter portal (SPEC A-1, A-3, A-8, A-10): its own session both ways apart from the
seller staff's, sign-up / sign-in / password reset, onboarding documents as private uploads,
the trial's one PID, the link generator, reports, diagnostics and payouts pages — each
promoter sees only its own (another promoter's ids → 404), constant query counts."""

import re
from datetime import timedelta

import affkit
import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from factories import first_sku, make_order, make_product

from affiliate import services
from affiliate.models import Link, Pid, Promoter, PromoterDocument
from affiliate.portal.session import COOKIE
from core import clock

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PASSWORD = "Promo-pass-42"


def signed_up(name="Acme Media", email="acme@promo.example.com") -> tuple[Client, Promoter]:
    client = Client()
    response = client.post(
        "/promoter/signup/", {"name": name, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == "/promoter/onboarding/"
    return client, Promoter.objects.get(email=email)


def approved(name="Acme Media", email="acme@promo.example.com") -> tuple[Client, Promoter]:
    client, promoter = signed_up(name, email)
    for kind in ("licence", "id_front", "id_back", "bank", "tax"):
        services.document_upload(
            promoter=promoter, kind=kind, uploaded=SimpleUploadedFile(f"{kind}.pdf", PDF)
        )
    services.promoter_submit(promoter=promoter)
    services.promoter_approve(promoter=promoter)
    promoter.refresh_from_db()
    return client, promoter


# --- the two sessions never cross ---------------------------------------------------------


def test_a1_promoter_session_never_reaches_seller_pages(db):
    client, _ = approved()
    for url in ("/", "/affiliate/", "/orders/", "/shops/balance/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_a1_seller_session_never_reaches_promoter_pages(owner_client):
    for url in ("/promoter/", "/promoter/pids/", "/promoter/links/", "/promoter/payouts/"):
        response = owner_client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/promoter/login/"), url


def test_a1_forged_or_stale_promoter_cookie_is_no_session(db):
    client, promoter = approved()
    assert client.get("/promoter/").status_code == 200
    forged = Client()
    forged.cookies[COOKIE] = f"{promoter.pk}:0000000000000000"
    assert forged.get("/promoter/").status_code == 302
    # a password change signs out every other browser
    services.promoter_password_set(promoter=promoter, password="Another-pass-77")
    assert client.get("/promoter/").status_code == 302


def test_a1_signed_promoter_cookie_with_a_non_ascii_digit_is_no_session_not_a_500(db):
    # given: a cookie signed as the portal signs it, whose id "²" passes str.isdigit()
    from django.http import HttpResponse

    from affiliate.portal import session

    _, promoter = approved()
    client = Client(raise_request_exception=False)
    for pk in ("²", "1²", "³9"):
        signed = HttpResponse()
        signed.set_signed_cookie(
            COOKIE, f"{pk}:{session._fingerprint(promoter)}", salt=session._SALT
        )
        client.cookies[COOKIE] = signed.cookies[COOKIE].value

        # when
        response = client.get("/promoter/")

        # then: signed out, sent to the sign-in page
        assert response.status_code == 302, pk
        assert response["Location"].startswith("/promoter/login/"), pk


# --- sign-up, sign-in, reset --------------------------------------------------------------


def test_a1_sign_up_refusals_write_nothing(db):
    signed_up()
    client = Client()
    taken = client.post(
        "/promoter/signup/",
        {"name": "Copy", "email": "ACME@promo.example.com", "password": PASSWORD},
    )
    assert taken.status_code == 400
    assert "already uses this email" in taken.content.decode()
    weak = client.post(
        "/promoter/signup/", {"name": "Weak", "email": "w@promo.example.com", "password": "123"}
    )
    assert weak.status_code == 400
    assert Promoter.objects.count() == 1


def test_a1_login_wrong_password_then_right_one(db, settings):
    signed_up()
    client = Client()
    wrong = client.post(
        "/promoter/login/", {"email": "acme@promo.example.com", "password": "nope-nope"}
    )
    assert wrong.status_code == 400
    assert "Wrong email or password." in wrong.content.decode()
    ok = client.post(
        "/promoter/login/?next=//evil.example/",
        {"email": "Acme@promo.example.com", "password": PASSWORD},
    )
    assert ok.status_code == 302
    assert ok["Location"] == "/promoter/"  # never an off-site "next"
    assert client.get("/promoter/onboarding/").status_code == 200
    client.post("/promoter/logout/")
    assert client.get("/promoter/onboarding/").status_code == 302


def test_a1_login_throttled_after_failures(db, settings):
    settings.SC_LOGIN_FAILURES_PER_ACCOUNT = "3/15m"
    from django.core.cache import cache

    cache.clear()
    signed_up()
    client = Client()
    for _ in range(3):
        client.post("/promoter/login/", {"email": "acme@promo.example.com", "password": "bad"})
    right = client.post(
        "/promoter/login/", {"email": "acme@promo.example.com", "password": PASSWORD}
    )
    assert right.status_code == 429
    assert COOKIE not in right.cookies


def test_a1_password_reset_link_works_once(db, django_capture_on_commit_callbacks):
    signed_up()
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/promoter/password/forgot/", {"email": "acme@promo.example.com"})
        unknown = client.post("/promoter/password/forgot/", {"email": "nobody@example.com"})
    assert response.status_code == unknown.status_code == 302  # the same answer
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/promoter/password/reset/\S+/)", mail.outbox[0].body)
    assert link
    page = client.post(link.group(1), {"password": "Brand-new-pass-9"})
    assert page.status_code == 302
    assert page["Location"] == "/promoter/"
    again = client.post(link.group(1), {"password": "Third-pass-99x"})
    assert again["Location"] == "/promoter/password/forgot/"
    assert services.promoter_authenticate(
        email="acme@promo.example.com", password="Brand-new-pass-9"
    )


# --- onboarding (A-1) ---------------------------------------------------------------------


def test_a1_documents_are_private_uploads_and_submission_needs_all(db):
    client, promoter = signed_up()
    # a file that is not a PDF or picture is refused, nothing stored
    bad = client.post(
        "/promoter/onboarding/documents/",
        {"kind": "licence", "file": SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf")},
    )
    assert bad.status_code == 400
    assert not PromoterDocument.objects.exists()
    ok = client.post(
        "/promoter/onboarding/documents/",
        {"kind": "licence", "file": SimpleUploadedFile("licence.pdf", PDF)},
    )
    assert ok.status_code == 302
    # submission with documents missing is refused, naming them
    response = client.post("/promoter/onboarding/submit/", follow=True)
    assert "Missing" in response.content.decode()
    promoter.refresh_from_db()
    assert promoter.status == "onboarding"
    # the promoter reads its own document; another promoter gets 404; a seller too
    doc = PromoterDocument.objects.get()
    own = client.get(f"/promoter/onboarding/documents/{doc.pk}/")
    assert own.status_code == 200
    assert b"".join(own.streaming_content) == PDF
    other, _ = signed_up("Other", "other@promo.example.com")
    assert other.get(f"/promoter/onboarding/documents/{doc.pk}/").status_code == 404
    for kind in ("id_front", "id_back", "bank", "tax"):
        services.document_upload(
            promoter=promoter, kind=kind, uploaded=SimpleUploadedFile("d.png", PNG)
        )
    client.post("/promoter/onboarding/submit/")
    promoter.refresh_from_db()
    assert promoter.status == "pending"
    assert promoter.submitted_at is not None
    # under review: documents can no longer change
    locked = client.post(
        "/promoter/onboarding/documents/",
        {"kind": "tax", "file": SimpleUploadedFile("t.pdf", PDF)},
    )
    assert locked.status_code == 400


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def test_a1_reject_needs_a_reason_and_the_promoter_reads_it(db):
    approved("R", "r@promo.example.com")
    fresh, p2 = signed_up("Fresh", "fresh@promo.example.com")
    for kind in ("licence", "id_front", "id_back", "bank", "tax"):
        services.document_upload(promoter=p2, kind=kind, uploaded=SimpleUploadedFile("a.pdf", PDF))
    services.promoter_submit(promoter=p2)
    from core.errors import DomainError

    with pytest.raises(DomainError):
        services.promoter_reject(promoter=p2, reason="  ")
    services.promoter_reject(promoter=p2, reason="The licence scan is unreadable.")
    page = fresh.get("/promoter/onboarding/").content.decode()
    assert "The licence scan is unreadable." in page
    # approved-only pages send a promoter under review / rejected to onboarding
    assert fresh.get("/promoter/pids/")["Location"] == "/promoter/onboarding/"


# --- PIDs, links, trial (A-1, A-3) ----------------------------------------------------------


def test_a1_trial_promoter_gets_one_pid_and_the_page_says_why(db):
    client, promoter = approved()
    assert client.post("/promoter/pids/", {"channel": "social", "name": "Weibo"}).status_code == 302
    second = client.post("/promoter/pids/", {"channel": "video"})
    assert second.status_code == 400
    assert "one PID" in second.content.decode()
    assert Pid.objects.filter(promoter=promoter).count() == 1


def test_a3_link_generator_builds_utm_and_sub_id_and_refuses_off_site_destinations(db, shop_a):
    affkit.enable(shop_a)
    client, promoter = approved()
    pid = services.pid_create(promoter=promoter, channel="website")
    product = make_product(shop_a)
    response = client.post(
        "/promoter/links/",
        {
            "pid": pid.pk,
            "shop": shop_a.external_id,
            "product": product.external_id,
            "utm_campaign": "spring",
            "sub_id": "post-17",
        },
    )
    assert response.status_code == 302
    link = Link.objects.get()
    assert link.product == product
    assert f"/item/{product.external_id}.html?" in link.destination
    for part in ("utm_source=affiliate", "utm_campaign=spring", f"aff_pid={pid.code}"):
        assert part in link.destination
    assert link.sub_id == "post-17"
    for evil in ("https://evil.example/x", "//evil.example", "javascript:alert(1)"):
        bad = client.post(
            "/promoter/links/", {"pid": pid.pk, "shop": shop_a.external_id, "destination": evil}
        )
        assert bad.status_code == 400
    # a shop without a programme, another promoter's PID
    _, other = approved("Other", "other@promo.example.com")
    other_pid = services.pid_create(promoter=other, channel="social")
    stolen = client.post("/promoter/links/", {"pid": other_pid.pk, "shop": shop_a.external_id})
    assert stolen.status_code == 400
    assert Link.objects.count() == 1
    # the new link redirects through /t/
    assert Client().get(f"/t/{link.code}").status_code == 302


def test_a3_reactivating_another_promoters_pid_is_404(db):
    _, promoter = approved()
    other_client, _ = approved("Other", "other@promo.example.com")
    pid = services.pid_create(promoter=promoter, channel="social")
    assert other_client.post(f"/promoter/pids/{pid.pk}/reactivate/").status_code == 404


def test_a8_cent_minimum_switch(db):
    client, promoter = approved()
    client.post("/promoter/account/", {"cent_minimum": "on"})
    promoter.refresh_from_db()
    assert promoter.cent_minimum is True
    client.post("/promoter/account/", {})
    promoter.refresh_from_db()
    assert promoter.cent_minimum is False


# --- reports and diagnostics (A-10) ---------------------------------------------------------


def _attributed(shop, promoter):
    affkit.enable(shop)
    pid = promoter.pids.first() or services.pid_create(promoter=promoter, channel="social")
    link = affkit.link(shop, pid)
    click = affkit.click(link, at=clock.now() - timedelta(hours=1))
    order = make_order(
        shop, sku=first_sku(make_product(shop)), status="paid", affiliate_click_id=click.click_id
    )
    services.order_attribute(order_id=order.pk)
    return order


def test_a10_promoter_diagnoses_its_own_orders_only(db, shop_a):
    client, promoter = approved()
    other_client, _ = approved("Other", "other@promo.example.com")
    order = _attributed(shop_a, promoter)
    page = client.get(f"/promoter/diagnose/?number={order.number}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Attribution path of order" in text
    assert 'id="diag-break"' not in text
    assert "/affiliate/orders/" not in text  # a seller page: never linked to a promoter
    theirs = other_client.get(f"/promoter/diagnose/?number={order.number}").content.decode()
    assert "None of your clicks led to an order" in theirs
    assert "Attribution path of order" not in theirs


def test_a9_reports_show_commissions_by_state(db, shop_a):
    client, promoter = approved()
    order = _attributed(shop_a, promoter)
    page = client.get("/promoter/reports/").content.decode()
    assert order.number in page
    assert 'data-state="locked"' in page or 'data-state="pre_issued"' in page
    other_client, _ = approved("Other", "other@promo.example.com")
    assert order.number not in other_client.get("/promoter/reports/").content.decode()


# --- query counts -------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        "/promoter/",
        "/promoter/pids/",
        "/promoter/links/",
        "/promoter/shops/",
        "/promoter/reports/",
        "/promoter/reports/?status=pre_issued",
        "/promoter/payouts/",
        "/promoter/account/",
        "/promoter/onboarding/",
    ],
)
def test_a9_promoter_pages_have_constant_query_counts(db, url, shop_a, shop_b):
    small_client, small = approved("Small", "small@promo.example.com")
    big_client, big = approved("Big", "big@promo.example.com")
    Promoter.objects.filter(pk=big.pk).update(trial=False)
    big.refresh_from_db()
    _attributed(shop_a, small)
    for _ in range(27):
        _attributed(shop_b, big)
    for _ in range(3):
        services.pid_create(promoter=big, channel="video")
    small_n = _count(small_client, url)
    big_n = _count(big_client, url)
    assert big_n <= small_n + 1, (url, small_n, big_n)
    assert big_n <= 16, (url, big_n)
