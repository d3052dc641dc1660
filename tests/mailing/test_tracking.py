"""Tracking (SPEC M-11): open pixel, signed click redirects (allow-listed, no open redirect),
RFC 8058 one-click unsubscribe, bounce and complaint intake (ESP webhook, DSN, ARF), and the
orders that follow a click within 7 days."""

import json
import time as _time
from datetime import timedelta

import dispatchkit as kit
import pytest
import time_machine
from django.core import signing
from django.test import Client
from factories import make_buyer, make_order

from core import clock
from core.signing import sign
from mailing.consumers import handle_event
from mailing.models import Message, OrderAttribution, Suppression
from mailing.services import dispatch, tracking
from orders.models import OrderEvent

WEBHOOK_SECRET = "whsec-test"


@pytest.fixture
def message(brand_a, shop_a):
    [m] = kit.sent(shop_a, [dispatch.Recipient(None, "anna@example.com", "fr", "fr", "UTC")])
    assert m.state == "sent"
    return m


def _path(url: str) -> str:
    return url.split("localhost:8000", 1)[-1] if "localhost" in url else url


def test_m11_open_pixel_records_the_first_open_and_counts_the_rest(client, message):
    url = _path(dispatch.open_pixel_url(message))
    first = client.get(url)
    client.get(url)
    assert first.status_code == 200
    assert first["Content-Type"] == "image/gif"
    assert first["Cache-Control"] == "no-store, private"
    message.refresh_from_db()
    assert message.opens == 2
    assert message.opened_at is not None


def test_m11_a_forged_open_pixel_records_nothing(client, message):
    token = dispatch.tracking_token(message, dispatch.OPEN_SALT)
    assert client.get(f"/m/o/{token[:-2]}xx.gif").status_code == 200
    message.refresh_from_db()
    assert message.opens == 0


def test_m11_click_redirects_to_the_signed_destination_and_records_it(client, message):
    url = _path(dispatch.click_url(message, "https://www.aliexpress.com/item/1.html?x=1"))
    response = client.get(url + "?u=https://evil.example/")  # the query string is never read
    assert response.status_code == 302
    assert response["Location"] == "https://www.aliexpress.com/item/1.html?x=1"
    message.refresh_from_db()
    assert (message.clicks, message.clicked_at is not None, message.opened_at is not None) == (
        1,
        True,
        True,
    )


@pytest.mark.parametrize(
    "destination",
    [
        "https://evil.example/",
        "https://www.aliexpress.com.evil.example/",
        "javascript:alert(1)",
        "https://user:pw@www.aliexpress.com/",
        "//evil.example/",
        "https://www.aliexpress.com\\@evil.example/",
    ],
)
def test_m11_click_never_leads_off_the_allow_list_even_when_signed(client, message, destination):
    token = signing.Signer(salt=dispatch.CLICK_SALT).sign_object(
        [message.message_id.hex, destination], compress=True
    )
    assert client.get(f"/m/c/{token}").status_code == 404
    message.refresh_from_db()
    assert message.clicks == 0


def test_m11_a_tampered_click_token_is_refused(client, message):
    token = _path(dispatch.click_url(message, "https://www.aliexpress.com/")).rsplit("/", 1)[1]
    forged = signing.Signer(salt="other").sign_object(
        [message.message_id.hex, "https://evil.example/"]
    )
    assert client.get(f"/m/c/{token[:-3]}abc").status_code == 404
    assert client.get(f"/m/c/{forged}").status_code == 404


def test_m11_unsubscribe_get_never_unsubscribes(client, message, shop_a):
    url = _path(dispatch.unsubscribe_url(message))
    response = client.get(url)
    assert response.status_code == 200
    assert b'method="post"' in response.content
    assert not Suppression.objects.filter(shop=shop_a).exists()
    message.refresh_from_db()
    assert message.unsubscribed_at is None


def test_m11_one_click_post_without_cookie_or_csrf_unsubscribes_at_once(message, shop_a):
    # given: a mail provider's RFC 8058 POST: no cookie, no CSRF token
    provider = Client(enforce_csrf_checks=True)
    url = _path(dispatch.unsubscribe_url(message))

    # when
    response = provider.post(url, {"List-Unsubscribe": "One-Click"})

    # then: suppressed for ever for that shop (SPEC M-3)
    assert response.status_code == 200
    s = Suppression.objects.get(shop=shop_a, email="anna@example.com")
    assert (s.reason, s.expires_at) == ("unsubscribe", None)
    message.refresh_from_db()
    assert message.unsubscribed_at is not None


def test_m11_a_tampered_unsubscribe_token_is_refused_and_changes_nothing(message, shop_a):
    provider = Client(enforce_csrf_checks=True)
    token = dispatch.tracking_token(message, dispatch.UNSUBSCRIBE_SALT)
    other = signing.Signer(salt=dispatch.UNSUBSCRIBE_SALT).sign_object("f" * 32, compress=True)
    for bad in (token[:-4] + "abcd", token.replace(":", ";", 1), other):
        response = provider.post(f"/m/u/{bad}", {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 400
    assert not Suppression.objects.filter(shop=shop_a).exists()


def _hook(client, body: dict, *, secret=WEBHOOK_SECRET, ts=None):
    raw = json.dumps(body).encode()
    ts = str(ts or int(_time.time()))
    return client.post(
        "/m/hooks/esp",
        raw,
        content_type="application/json",
        HTTP_X_SC_TIMESTAMP=ts,
        HTTP_X_SC_SIGNATURE=sign(secret=secret, timestamp=ts, body=raw),
    )


def test_m9_m11_esp_hard_bounce_is_not_billed_and_quarantines_the_address(
    client, settings, message, shop_a
):
    settings.SC_MAILING_WEBHOOK_SECRET = WEBHOOK_SECRET
    assert Message.objects.get(pk=message.pk).billable
    body = {
        "events": [
            {
                "id": "ev-1",
                "type": "bounce",
                "bounce_type": "hard",
                "message_id": message.message_id.hex,
                "description": "5.1.1 unknown user",
            }
        ]
    }
    first = _hook(client, body)
    replay = _hook(client, body)
    assert first.json()["results"] == [{"id": "ev-1", "result": "applied"}]
    assert replay.json()["results"] == [{"id": "ev-1", "result": "ignored"}]
    message.refresh_from_db()
    assert (message.bounce, message.billable, message.error_code) == ("hard", False, 550)
    s = Suppression.objects.get(shop=shop_a, email="anna@example.com")
    assert s.reason == "hard_bounce"
    assert s.expires_at - s.created_at == timedelta(days=30)


def test_m9_m11_esp_soft_bounce_stays_billed_and_complaint_suppresses(
    client, settings, brand_a, shop_a
):
    settings.SC_MAILING_WEBHOOK_SECRET = WEBHOOK_SECRET
    a, b = kit.sent(
        shop_a,
        [
            dispatch.Recipient(None, "soft@example.com", "en", "us", "UTC"),
            dispatch.Recipient(None, "angry@example.com", "en", "us", "UTC"),
        ],
    )
    _hook(
        client,
        {
            "events": [
                {
                    "id": "1",
                    "type": "bounce",
                    "bounce_type": "soft",
                    "message_id": a.message_id.hex,
                },
                {"id": "2", "type": "complaint", "message_id": b.message_id.hex},
            ]
        },
    )
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.bounce, a.billable) == ("soft", True)
    assert b.complained_at is not None
    assert not Suppression.objects.filter(email="soft@example.com").exists()
    assert Suppression.objects.get(email="angry@example.com").reason == "complaint"


def test_m11_webhook_with_a_bad_or_stale_signature_changes_nothing(client, settings, message):
    settings.SC_MAILING_WEBHOOK_SECRET = WEBHOOK_SECRET
    body = {"events": [{"id": "x", "type": "complaint", "message_id": message.message_id.hex}]}
    assert _hook(client, body, secret="wrong").status_code == 401
    assert _hook(client, body, ts=int(_time.time()) - 3600).status_code == 401
    settings.SC_MAILING_WEBHOOK_SECRET = ""
    assert _hook(client, body, secret="").status_code == 401
    message.refresh_from_db()
    assert message.complained_at is None


DSN = """From: MAILER-DAEMON@mx.example.com
To: bounce+{hex}@shop-a.mail.sellercenter.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-{n}@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; anna@example.com
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {code} {text}

--B
Content-Type: text/rfc822-headers

X-SC-Message: {hex}
Subject: 20% off

--B--
"""


@pytest.mark.parametrize(
    ("action", "status", "code", "bounce", "suppressed"),
    [("failed", "5.1.1", 550, "hard", True), ("delayed", "4.2.2", 452, "soft", False)],
)
def test_m11_dsn_intake_hard_vs_soft_bounce(
    message, shop_a, action, status, code, bounce, suppressed
):
    raw = DSN.format(
        hex=message.message_id.hex, n=1, action=action, status=status, code=code, text="x"
    ).encode()
    assert tracking.dsn_intake(raw) == 1
    assert tracking.dsn_intake(raw) == 0  # the same report again changes nothing
    message.refresh_from_db()
    assert message.bounce == bounce
    assert message.billable is (bounce == "soft")  # SPEC M-9: hard bounces are not billed
    assert Suppression.objects.filter(shop=shop_a, email="anna@example.com").exists() is suppressed


def test_m11_arf_abuse_report_is_a_complaint(message, shop_a):
    raw = f"""From: fbl@mail.example
To: fbl@sellercenter.example
Message-ID: <arf-1@mail.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="A"

--A
Content-Type: text/plain

This is an abuse report.

--A
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: FBL/1.0
Version: 1

--A
Content-Type: text/rfc822-headers

X-SC-Message: {message.message_id.hex}

--A--
""".encode()
    assert tracking.dsn_intake(raw) == 1
    message.refresh_from_db()
    assert message.complained_at is not None
    assert Suppression.objects.get(shop=shop_a, email="anna@example.com").reason == "complaint"


def test_m11_orders_within_7_days_of_a_click_are_the_campaigns(brand_a, shop_a):
    # given: a buyer who clicked a campaign's link
    buyer = make_buyer()
    [m] = kit.sent(shop_a, [dispatch.Recipient(buyer.pk, buyer.email, "en", "us", "UTC")])
    t_click = clock.now()
    with time_machine.travel(t_click, tick=False):
        assert tracking.click_record(
            signing.Signer(salt=dispatch.CLICK_SALT).sign_object(
                [m.message_id.hex, "https://www.aliexpress.com/"], compress=True
            )
        )

    # when: orders 7 days after the click (exactly), and 1 second later
    def order_at(at):
        with time_machine.travel(at, tick=False):
            order = make_order(shop_a, buyer, status="pending_payment")
        handle_event(OrderEvent.objects.get(order=order, type="order.created"))
        return order

    inside = order_at(t_click + timedelta(days=7))
    outside = order_at(t_click + timedelta(days=7, seconds=1))
    handle_event(OrderEvent.objects.get(order=inside, type="order.created"))  # delivered again

    # then
    assert list(OrderAttribution.objects.values_list("order_id", "campaign_id")) == [
        (inside.pk, m.campaign_id)
    ]
    assert not OrderAttribution.objects.filter(order_id=outside.pk).exists()


# --- hostile input: a malformed message id never answers 500 --------------------------------


def test_m11_a_webhook_event_naming_a_malformed_message_id_is_rejected_alone(
    client, settings, brand_a, shop_a
):
    settings.SC_MAILING_WEBHOOK_SECRET = WEBHOOK_SECRET
    client.raise_request_exception = False
    a, b = kit.sent(
        shop_a,
        [
            dispatch.Recipient(None, "first@example.com", "en", "us", "UTC"),
            dispatch.Recipient(None, "last@example.com", "en", "us", "UTC"),
        ],
    )
    body = {
        "events": [
            {"id": "1", "type": "complaint", "message_id": a.message_id.hex},
            {"id": "2", "type": "complaint", "message_id": "z" * 32},
            {"id": "3", "type": "bounce", "bounce_type": "hard", "message_id": "Z" * 32},
            {"id": "4", "type": "complaint", "message_id": f"{'0' * 31}\n"},
            {
                "id": "5\x00",
                "type": "bounce",
                "bounce_type": "soft",
                "message_id": b.message_id.hex,
                "description": "4.2.2\x00 full",
            },
        ]
    }

    response = _hook(client, body)

    # then: answered, the bad events rejected one by one, the others applied
    assert response.status_code == 200
    assert response.json()["results"] == [
        {"id": "1", "result": "applied"},
        {"id": "2", "result": "rejected", "code": "invalid_event"},
        {"id": "3", "result": "rejected", "code": "invalid_event"},
        {"id": "4", "result": "rejected", "code": "invalid_event"},
        {"id": "5\x00", "result": "applied"},
    ]
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.complained_at is not None
    assert (b.bounce, b.error_detail) == ("soft", "4.2.2 full")
    # a replay changes nothing and still answers
    assert _hook(client, body).status_code == 200


def test_m11_a_report_naming_a_malformed_message_id_is_ignored(message):
    for bad in ("z" * 32, "", "0" * 33, "g" * 32):
        assert not tracking.report_apply(tracking.Report(bad, "hard", "x"), source="esp")
    message.refresh_from_db()
    assert message.bounce == ""


@pytest.mark.parametrize(
    "token",
    [
        "z" * 32,
        "%00",
        "a:b:c",
        signing.Signer(salt=dispatch.OPEN_SALT).sign_object("z" * 32, compress=True),
        signing.Signer(salt=dispatch.CLICK_SALT).sign_object(
            ["z" * 32, "https://www.aliexpress.com/"], compress=True
        ),
        signing.Signer(salt=dispatch.UNSUBSCRIBE_SALT).sign_object("z" * 32, compress=True),
        signing.Signer(salt=dispatch.UNSUBSCRIBE_SALT).sign_object(["z" * 32], compress=True),
    ],
)
def test_m11_public_links_with_a_malformed_token_answer_without_an_error(client, message, token):
    client.raise_request_exception = False
    pixel = client.get(f"/m/o/{token}.gif")
    assert (pixel.status_code, pixel["Content-Type"]) == (200, "image/gif")
    assert client.get(f"/m/c/{token}").status_code == 404
    assert client.get(f"/m/u/{token}").status_code == 400
    assert client.post(f"/m/u/{token}", {"List-Unsubscribe": "One-Click"}).status_code == 400
    message.refresh_from_db()
    assert (message.opens, message.clicks, message.unsubscribed_at) == (0, 0, None)
