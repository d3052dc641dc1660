"""The buyer pages (SPEC B-1, B-2, B-7): register → code → verify → account, sign in/out,
forgotten password, contact change; a buyer session apart from the seller session; CSRF; the
buyer's language."""

from datetime import timedelta

import pytest
import time_machine
from buyer_mailbox import last_code
from django.core import mail
from django.test import Client
from django.urls import reverse

from buyers import services
from buyers.models import Buyer, ContactChange
from core import clock

PW = "Tr1cky-pass"


def _register(client, contact="page@example.com", **extra):
    data = {"contact": contact, "password": PW, "country": "CN", "site": "global"}
    data.update(extra)
    return client.post(reverse("buyers:register"), data)


def _signed_in(client, contact="page@example.com"):
    _register(client, contact)
    r = client.post(reverse("buyers:verify"), {"code": last_code(contact)})
    assert r.status_code == 302, r.content
    assert r.url == reverse("buyers:account")
    return Buyer.objects.get(email=contact)


def test_b1_register_verify_and_see_the_account(db, client):
    # when
    r = _register(client)

    # then: a code is mailed and the verify page names the contact
    assert r.status_code == 302
    assert r.url == reverse("buyers:verify")
    page = client.get(reverse("buyers:verify"))
    assert "page@example.com" in page.text
    assert page["Cache-Control"] == "private, no-store"

    # when
    r = client.post(reverse("buyers:verify"), {"code": last_code("page@example.com")})
    account = client.get(reverse("buyers:account"))

    # then
    assert r.status_code == 302
    assert account.status_code == 200
    assert "page@example.com" in account.text
    assert Buyer.objects.get(email="page@example.com").email_verified_at is not None


def test_b1_register_page_refuses_a_weak_password_and_writes_nothing(db, client):
    r = _register(client, password="123456")
    assert r.status_code == 200
    assert "too common" in r.text
    assert not Buyer.objects.exists()


def test_b1_register_page_takes_the_password_as_typed_spaces_included(db, client):
    # when: six characters, the last a space
    r = _register(client, password="Zq8#x ")

    # then: accepted (not "too short" after a strip) and the password is the one typed
    assert r.status_code == 302, r.text
    client.post(reverse("buyers:verify"), {"code": last_code("page@example.com")})
    contact = services.parse_contact("page@example.com")
    assert services.buyer_authenticate(contact=contact, password="Zq8#x ", ip="10.0.0.1")
    with pytest.raises(services.InvalidCredentials):
        services.buyer_authenticate(contact=contact, password="Zq8#x", ip="10.0.0.1")


def test_b1_a_password_with_spaces_set_through_the_api_signs_in_on_the_page(db, client):
    # given: a verified account registered with spaces around its password (as the API does)
    contact = services.parse_contact("spaces@example.com")
    services.accounts.buyer_register_public(
        contact=contact, password=" Tr1cky-pass ", country="CN", ip="10.0.0.1"
    )
    services.buyer_verify_contact(
        contact=contact, code=last_code("spaces@example.com"), ip="10.0.0.1"
    )

    # when / then: the page signs in with the password as typed, and only with it
    bad = client.post(
        reverse("buyers:login"), {"contact": "spaces@example.com", "password": "Tr1cky-pass"}
    )
    assert "not right" in bad.text
    ok = client.post(
        reverse("buyers:login"), {"contact": "spaces@example.com", "password": " Tr1cky-pass "}
    )
    assert (ok.status_code, ok.url) == (302, reverse("buyers:account"))
    assert client.get(reverse("buyers:account")).status_code == 200


def test_b7_reset_and_change_pages_take_passwords_as_typed(db, client):
    # given: a signed-in buyer
    _signed_in(client)
    contact = services.parse_contact("page@example.com")

    # when: a new password ending in a space is set on the reset page
    with time_machine.travel(clock.now() + timedelta(seconds=61), tick=False):
        client.post(reverse("buyers:forgot"), {"contact": "page@example.com"})
        r = client.post(
            reverse("buyers:reset"),
            {"code": last_code("page@example.com"), "new_password": "New-pass-7 "},
        )
    assert r.status_code == 302, r.text
    assert services.buyer_authenticate(contact=contact, password="New-pass-7 ", ip="10.0.0.1")

    # then: the contact change page takes that password as the current one
    client = Client()
    client.post(reverse("buyers:login"), {"contact": "page@example.com", "password": "New-pass-7 "})
    r = client.post(
        reverse("buyers:contact_change"),
        {"new_contact": "+8613800138000", "password": "New-pass-7 "},
    )
    assert "not right" not in r.text
    assert r.status_code == 302, r.text


@pytest.mark.parametrize(
    "contact", ["раypal@example.com", "x@", "13800138000", "a" * 300 + "@example.com"]
)
def test_b1_register_page_hostile_contacts_clear_error_nothing_written(db, client, contact):
    r = _register(client, contact=contact)
    assert r.status_code == 200
    assert "is-invalid" in r.text
    assert not Buyer.objects.exists()
    assert mail.outbox == []


def test_b1_register_without_csrf_is_refused_and_writes_nothing(db):
    client = Client(enforce_csrf_checks=True)
    r = _register(client)
    assert r.status_code == 403
    assert not Buyer.objects.exists()


def test_b2_wrong_code_shows_attempts_left(db, client):
    _register(client)
    code = last_code("page@example.com")
    r = client.post(reverse("buyers:verify"), {"code": f"{(int(code) + 1) % 10**6:06d}"})
    assert r.status_code == 200
    assert "4 attempts left" in r.text


def test_b1_sign_in_and_out(db, client):
    _signed_in(client)
    other = Client()
    bad = other.post(reverse("buyers:login"), {"contact": "page@example.com", "password": "x"})
    assert "not right" in bad.text
    ok = other.post(reverse("buyers:login"), {"contact": "PAGE@example.com", "password": PW})
    assert ok.status_code == 302
    assert other.get(reverse("buyers:account")).status_code == 200
    other.post(reverse("buyers:logout"))
    assert other.get(reverse("buyers:account")).status_code == 302


def test_b1_seller_session_is_not_a_buyer_session(db, owner_client):
    r = owner_client.get(reverse("buyers:account"))
    assert r.status_code == 302
    assert r.url.startswith(reverse("buyers:login"))


def test_b1_buyer_session_never_opens_seller_pages(db, client):
    _signed_in(client)
    r = client.get(reverse("home"))
    assert r.status_code == 302
    assert r.url.startswith(reverse("login"))


def test_b1_a_forged_buyer_cookie_is_ignored(db, client):
    buyer = _signed_in(client)
    other = Client()
    other.cookies["sc_buyer"] = f"{buyer.pk}:forged"
    assert other.get(reverse("buyers:account")).status_code == 302


def test_b7_password_reset_signs_out_other_browsers(db, client):
    _signed_in(client)
    other = Client()
    with time_machine.travel(clock.now() + timedelta(seconds=61), tick=False):
        other.post(reverse("buyers:forgot"), {"contact": "page@example.com"})
        r = other.post(
            reverse("buyers:reset"),
            {"code": last_code("page@example.com"), "new_password": "Fresh-pass-42"},
        )
    assert r.status_code == 302
    assert other.get(reverse("buyers:account")).status_code == 200
    assert client.get(reverse("buyers:account")).status_code == 302


def test_b2_forgot_answers_the_same_for_an_unknown_contact(db, client):
    r = client.post(reverse("buyers:forgot"), {"contact": "ghost@example.com"}, follow=True)
    assert "If an account uses this contact" in r.text
    assert mail.outbox == []


def test_b7_change_phone_then_second_change_within_7_days_refused(db, client):
    buyer = _signed_in(client)
    r = client.post(
        reverse("buyers:contact_change"), {"new_contact": "+86 138 0013 8000", "password": PW}
    )
    assert r.status_code == 302
    from buyers import sms

    code = last_code("+8613800138000")
    assert sms.outbox[-1].to == "+8613800138000"
    r = client.post(reverse("buyers:contact_confirm"), {"code": code})
    assert r.status_code == 302
    change = ContactChange.objects.get(buyer=buyer)

    r = client.post(
        reverse("buyers:contact_change"), {"new_contact": "+86 138 0013 8001", "password": PW}
    )
    assert r.status_code == 200
    allowed = change.changed_at + timedelta(days=7)
    assert f"{allowed:%Y-%m-%d %H:%M}" in r.text
    assert Buyer.objects.get(pk=buyer.pk).phone == "+8613800138000"


def test_b7_contact_change_needs_the_current_password(db, client):
    _signed_in(client)
    r = client.post(
        reverse("buyers:contact_change"), {"new_contact": "new@example.org", "password": "nope"}
    )
    assert r.status_code == 200
    assert "current password is not right" in r.text
    assert not ContactChange.objects.exists()


def test_b7_report_link_puts_the_account_in_review(db, client):
    buyer = _signed_in(client)
    services.contact_change_request(
        buyer=buyer, new_contact=services.parse_contact("+8613800138000"), password=PW, ip=None
    )
    change = services.contact_change_confirm(
        buyer=buyer,
        new_contact=services.parse_contact("+8613800138000"),
        code=last_code("+8613800138000"),
        ip=None,
    )
    page = Client().get(reverse("buyers:report", args=[change.report_token]))
    assert page.status_code == 200
    Client().post(reverse("buyers:report", args=[change.report_token]))
    assert Buyer.objects.get(pk=buyer.pk).risk_status == "risk_review"


def test_b1_marketing_preference_saved(db, client):
    buyer = _signed_in(client)
    client.post(reverse("buyers:marketing"), {"marketing_email_opt_in": "on"})
    assert Buyer.objects.get(pk=buyer.pk).marketing_email_opt_in is True
    client.post(reverse("buyers:marketing"), {})
    assert Buyer.objects.get(pk=buyer.pk).marketing_email_opt_in is False


def test_b1_pages_in_the_buyer_site_language(db, client):
    # anonymous: the chosen language, kept in a cookie
    r = client.get(reverse("buyers:register") + "?lang=zh-hans")
    assert "创建您的账户" in r.text
    assert 'lang="zh-hans"' in r.text
    assert "创建您的账户" in client.get(reverse("buyers:register")).text
    # signed in: the site's language (cn → zh-hans), whatever was chosen before
    fresh = Client()
    _register(fresh, "cn@example.com", site="cn")
    assert "输入验证码" in fresh.get(reverse("buyers:verify")).text
    # the other buyer languages
    assert "Créez votre compte" in Client().get(reverse("buyers:register") + "?lang=fr").text
    # a language that is not a buyer language is ignored: English
    assert "Create your account" in Client().get(reverse("buyers:register") + "?lang=de").text


def test_b1_account_page_query_count(db, client, django_assert_max_num_queries):
    buyer = _signed_in(client)
    for i in range(3):
        ContactChange.objects.create(
            buyer=buyer,
            channel="sms",
            new_value=f"+861380013800{i}",
            changed_at=clock.now(),
            report_token=f"t{i}",
        )
    with django_assert_max_num_queries(6):
        r = client.get(reverse("buyers:account"))
    assert r.status_code == 200


@pytest.mark.parametrize(
    "name", ["register", "login", "forgot", "verify", "reset", "account", "contact_change"]
)
def test_b1_buyer_pages_answer_get_without_errors(db, client, name):
    r = client.get(reverse(f"buyers:{name}"))
    assert r.status_code in (200, 302)


@pytest.mark.parametrize(
    ("site", "subject", "page_text"),
    [
        ("fr", "Votre code de vérification", "Saisissez votre code"),
        ("es", "Tu código de verificación", "Introduce tu código"),
        ("ru", "Ваш код подтверждения", "Введите код"),
        ("br", "Seu código de verificação", "Digite seu código"),
        ("de", "Your verification code", "Enter your code"),  # no German: English
    ],
)
def test_b1_mail_and_pages_in_the_site_language(db, client, site, subject, page_text):
    _register(client, "lang@example.com", site=site)
    assert mail.outbox[-1].subject == subject
    assert page_text in client.get(reverse("buyers:verify")).text
