"""``/api/v1/buyers/…``: the signed buyer API for the storefront (SPEC B-1 … B-4, B-7)."""

import json
from datetime import timedelta

import pytest
import time_machine
from api.support import signed_headers
from buyer_mailbox import last_code
from django.core import mail
from django.test import Client

from buyers import services
from buyers.models import Buyer, RiskStatus, VerificationCode
from core import clock
from integrations.services import integration_create

IP = "198.51.100.20"


@pytest.fixture
def api(db):
    integration, secret = integration_create(name="Storefront")
    client = Client()

    def post(path: str, payload: dict, *, signed: bool = True):
        body = json.dumps(payload).encode()
        headers = (
            signed_headers(key_id=integration.key_id, secret=secret, body=body) if signed else {}
        )
        return client.post(
            f"/api/v1/buyers/{path}", data=body, content_type="application/json", **headers
        )

    return post


def _reg(**kw):
    body = {"contact": "shopper@example.com", "password": "Tr1cky-pass", "country": "CN"}
    body["client_ip"] = IP
    body.update(kw)
    return body


def test_b1_api_register_verify_login(api):
    # when
    r = api("register", _reg(site="cn", device_id="web-1"))

    # then
    assert r.status_code == 202, r.content
    assert r.json() == {
        "status": "verification_sent",
        "channel": "email",
        "resend_after_seconds": 60,
        "risk_review": False,
    }
    buyer = Buyer.objects.get()
    assert (buyer.site, buyer.device_id, str(buyer.registration_ip)) == ("cn", "web-1", IP)
    assert "您的验证码" in mail.outbox[0].subject or "code" in mail.outbox[0].subject.lower()

    # when: verify with the mailed code, then sign in
    v = api(
        "verify",
        {
            "contact": "Shopper@Example.com",
            "code": last_code("shopper@example.com"),
            "client_ip": IP,
        },
    )
    login = api(
        "login", {"contact": "shopper@example.com", "password": "Tr1cky-pass", "client_ip": IP}
    )

    # then
    assert v.status_code == 200, v.content
    assert v.json() == {
        "buyer_id": buyer.external_id,
        "email_verified": True,
        "phone_verified": False,
        "risk_status": "ok",
        "low_activity": False,
        "coupon_priority": "normal",
    }
    assert login.status_code == 200
    assert login.json()["buyer_id"] == buyer.external_id


def test_b6_api_sign_in_tells_the_storefront_a_low_activity_buyers_coupon_priority(api):
    # given: a verified buyer who never paid, flagged by the 72-hour job
    api("register", _reg())
    api(
        "verify",
        {
            "contact": "shopper@example.com",
            "code": last_code("shopper@example.com"),
            "client_ip": IP,
        },
    )
    with time_machine.travel(clock.now() + timedelta(hours=73), tick=False):
        assert services.buyers_flag_low_activity() == 1

    # when
    login = api(
        "login", {"contact": "shopper@example.com", "password": "Tr1cky-pass", "client_ip": IP}
    )

    # then
    assert login.status_code == 200, login.content
    assert (login.json()["low_activity"], login.json()["coupon_priority"]) == (True, "low")


def test_b1_api_code_mail_in_the_site_language(api):
    api("register", _reg(site="cn"))
    assert mail.outbox[0].subject == "您的验证码"


def test_b4_api_country_mismatch_says_risk_review(api):
    r = api("register", _reg(country="US", ip_country="RU"))
    assert r.status_code == 202
    assert r.json()["risk_review"] is True
    assert Buyer.objects.get().risk_status == RiskStatus.RISK_REVIEW


def test_b3_api_register_answers_the_same_for_a_taken_contact(api):
    # given
    first = api("register", _reg())
    with time_machine.travel(clock.now() + timedelta(seconds=61), tick=False):
        # when
        second = api("register", _reg(contact="SHOPPER@example.com", password="Other-pass-9"))

    # then
    assert (first.status_code, first.json()) == (second.status_code, second.json())
    assert Buyer.objects.count() == 1


def test_b2_api_code_request_same_answer_for_unknown_contact(api):
    api("register", _reg())
    known = api("codes", {"contact": "shopper@example.com", "purpose": "reset", "client_ip": IP})
    unknown = api("codes", {"contact": "ghost@example.com", "purpose": "reset", "client_ip": IP})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()


def test_b2_api_resend_too_soon_says_when(api):
    api("register", _reg())
    r = api("codes", {"contact": "shopper@example.com", "purpose": "register", "client_ip": IP})
    assert r.status_code == 429
    assert r.json()["code"] == "resend_too_soon"
    assert 1 <= r.json()["retry_after"] <= 60


def test_b2_api_register_over_the_per_contact_code_limit_is_429_and_writes_nothing(api, settings):
    # given: the contact's code for the hour went out already (a reset request, another network)
    settings.SC_BUYER_CODES_PER_CONTACT = "1/h"
    with time_machine.travel(clock.now(), tick=False):
        api("codes", {"contact": "shopper@example.com", "purpose": "reset", "client_ip": IP})

        # when
        r = api("register", _reg(client_ip="203.0.113.50"))

    # then: refused whole, no account without a code left behind
    assert r.status_code == 429, r.content
    assert r.json() == {
        "code": "rate_limited",
        "message": "Too many codes requested; try again later.",
    }
    assert not Buyer.objects.exists()
    assert not VerificationCode.objects.filter(purpose="register").exists()
    assert mail.outbox == []


def test_b2_api_wrong_code_and_lock(api):
    api("register", _reg())
    right = last_code("shopper@example.com")
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    body = {"contact": "shopper@example.com", "code": wrong, "client_ip": IP}
    for _ in range(5):
        r = api("verify", body)
        assert (r.status_code, r.json()["code"]) == (401, "invalid_code")
    r = api("verify", {**body, "code": right})
    assert (r.status_code, r.json()["code"]) == (429, "code_locked")


def test_b7_api_password_reset(api):
    api("register", _reg())
    with time_machine.travel(clock.now() + timedelta(seconds=61), tick=False):
        api("codes", {"contact": "shopper@example.com", "purpose": "reset", "client_ip": IP})
        r = api(
            "password-reset",
            {
                "contact": "shopper@example.com",
                "code": last_code("shopper@example.com"),
                "new_password": "Brand-new-77",
                "client_ip": IP,
            },
        )
    assert r.status_code == 200, r.content
    ok = api(
        "login", {"contact": "shopper@example.com", "password": "Brand-new-77", "client_ip": IP}
    )
    assert ok.status_code == 200


def test_b1_api_unsigned_request_is_refused_and_writes_nothing(api):
    r = api("register", _reg(), signed=False)
    assert r.status_code == 401
    assert r.json()["code"] == "missing_key"
    assert not Buyer.objects.exists()


@pytest.mark.parametrize(
    ("override", "status", "code"),
    [
        ({"contact": "not-an-email"}, 400, "invalid_contact"),
        ({"contact": "раypal@example.com"}, 400, "invalid_contact"),
        ({"contact": "x" * 255}, 422, "invalid_request"),
        ({"password": "abc"}, 400, "invalid_password"),
        ({"password": "p" * 129}, 422, "invalid_request"),
        ({"country": "ZZ"}, 400, "invalid_input"),
        ({"country": "USA"}, 422, "invalid_request"),
        ({"client_ip": "not-an-ip"}, 422, "invalid_request"),
        ({"device_id": "<script>"}, 422, "invalid_request"),
        ({"site": "moon"}, 422, "invalid_request"),
        ({"is_admin": True}, 422, "invalid_request"),
    ],
)
def test_b1_api_hostile_input_clear_errors_nothing_written(api, override, status, code):
    r = api("register", _reg(**override))
    assert r.status_code == status, r.content
    assert r.json()["code"] == code
    assert r.json()["message"]
    assert not Buyer.objects.exists()
    assert not VerificationCode.objects.exists()
    assert mail.outbox == []


def test_b1_api_login_wrong_password_401(api):
    api("register", _reg())
    r = api("login", {"contact": "shopper@example.com", "password": "nope-nope", "client_ip": IP})
    assert (r.status_code, r.json()["code"]) == (401, "invalid_credentials")
