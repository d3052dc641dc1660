"""SPEC §0 integration contract: signature, freshness, size, JSON and schema checks.

A refused request answers a JSON error with a stable ``code`` and changes nothing.
"""

import json
import time
from datetime import timedelta

import pytest
from django.test import override_settings

from core import clock
from core.signing import sign
from integrations.services import integration_rotate, integration_set_active
from orders.models import IngestedEvent, Order

from .support import ev, order_created_data, signed_headers


@pytest.fixture
def one_order_batch(shop_a, buyer, sku_a):
    return {"events": [ev("order.created", order_created_data(shop_a, buyer, sku_a, number="T-1"))]}


def _assert_nothing_changed():
    assert not Order.objects.filter(number="T-1").exists()
    assert not IngestedEvent.objects.exists()


def _body(batch) -> bytes:
    return json.dumps(batch).encode()


def test_s0_signed_request_is_applied(sender, one_order_batch):
    # given a correctly signed batch
    # when it is sent
    response = sender.send(one_order_batch)
    # then it is applied
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "applied"
    assert Order.objects.filter(number="T-1").exists()


def test_s0_unsigned_request_is_401(sender, one_order_batch):
    # given no signature headers at all
    # when the batch is posted
    response = sender.post_raw(_body(one_order_batch))
    # then 401 with a stable code, nothing changed
    assert response.status_code == 401
    assert response.json()["code"] == "missing_key"
    assert response.json()["message"]
    _assert_nothing_changed()


def test_s0_key_without_signature_is_401(sender, one_order_batch):
    # given the key but no timestamp/signature
    response = sender.post_raw(_body(one_order_batch), HTTP_X_SC_KEY=sender.key_id)
    # then
    assert response.status_code == 401
    assert response.json()["code"] == "missing_signature"
    _assert_nothing_changed()


@pytest.mark.parametrize("skew", [301, -301, 3600])
def test_s0_stale_or_future_timestamp_is_401(sender, one_order_batch, skew):
    # given a signature made more than 300 s away from server time
    body = _body(one_order_batch)
    headers = signed_headers(
        key_id=sender.key_id, secret=sender.secret, body=body, timestamp=int(time.time()) - skew
    )
    # when
    response = sender.post_raw(body, **headers)
    # then
    assert response.status_code == 401
    assert response.json()["code"] == "stale_timestamp"
    _assert_nothing_changed()


def test_s0_timestamp_within_window_is_accepted(sender, one_order_batch):
    # given a timestamp 290 s old
    response = sender.send(one_order_batch, timestamp=int(time.time()) - 290)
    # then
    assert response.status_code == 200


def test_s0_non_numeric_timestamp_is_401(sender, one_order_batch):
    body = _body(one_order_batch)
    headers = signed_headers(key_id=sender.key_id, secret=sender.secret, body=body)
    headers["HTTP_X_SC_TIMESTAMP"] = "yesterday"
    response = sender.post_raw(body, **headers)
    assert response.status_code == 401
    assert response.json()["code"] == "bad_timestamp"


@pytest.mark.parametrize(
    "timestamp",
    [
        "9" * 400,  # its distance to now overflows a float
        "１２３",  # full-width digits, which int() reads
        "+1700000000",
        "1_700_000_000",
        " 1700000000",
        "1700000000\n",
        "1" * 13,
    ],
)
def test_s0_timestamp_that_is_not_plain_unix_seconds_is_401_never_500(
    sender, one_order_batch, timestamp
):
    # given a batch signed over that very timestamp
    body = _body(one_order_batch)
    headers = signed_headers(key_id=sender.key_id, secret=sender.secret, body=body)
    headers["HTTP_X_SC_TIMESTAMP"] = timestamp
    headers["HTTP_X_SC_SIGNATURE"] = sign(secret=sender.secret, timestamp=timestamp, body=body)
    # when
    response = sender.post_raw(body, **headers)
    # then: a clear 401, nothing changed
    assert response.status_code == 401
    assert response.json() == {
        "code": "bad_timestamp",
        "message": "X-SC-Timestamp must be unix seconds.",
    }
    _assert_nothing_changed()


def test_s0_tampered_body_is_401(sender, one_order_batch):
    # given a signature of the original body, and a body changed after signing
    body = _body(one_order_batch)
    headers = signed_headers(key_id=sender.key_id, secret=sender.secret, body=body)
    tampered = body.replace(b'"quantity": 1', b'"quantity": 9')
    assert tampered != body
    # when
    response = sender.post_raw(tampered, **headers)
    # then
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    _assert_nothing_changed()


def test_s0_signature_with_wrong_secret_is_401(sender, one_order_batch):
    body = _body(one_order_batch)
    headers = signed_headers(key_id=sender.key_id, secret="not-the-secret", body=body)
    response = sender.post_raw(body, **headers)
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    _assert_nothing_changed()


def test_s0_unknown_key_is_401(sender, one_order_batch):
    body = _body(one_order_batch)
    headers = signed_headers(key_id="sck_nope", secret=sender.secret, body=body)
    response = sender.post_raw(body, **headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unknown_key"
    _assert_nothing_changed()


def test_s0_deactivated_integration_is_401(sender, one_order_batch):
    # given the integration was deactivated
    integration_set_active(integration=sender.integration, active=False)
    # when it sends a well-signed batch
    response = sender.send(one_order_batch)
    # then
    assert response.status_code == 401
    assert response.json()["code"] == "unknown_key"
    _assert_nothing_changed()


def test_s0_rotation_keeps_previous_secret_valid_for_grace_period(
    sender, one_order_batch, time_machine
):
    # given a rotated secret
    time_machine.move_to(clock.now(), tick=False)
    old_secret = sender.secret
    new_secret = integration_rotate(integration=sender.integration)
    assert new_secret != old_secret
    # when the sender still signs with the old one within 24 h
    response = sender.send(one_order_batch)
    # then it is accepted; the new one works too
    assert response.status_code == 200
    sender.secret = new_secret
    assert sender.send(one_order_batch).status_code == 200
    # and after the grace period only the new secret works
    time_machine.shift(24 * 3600 + 1)
    sender.secret = old_secret
    assert sender.send(one_order_batch, timestamp=int(clock.now().timestamp())).status_code == 401
    sender.secret = new_secret
    assert sender.send(one_order_batch, timestamp=int(clock.now().timestamp())).status_code == 200


def test_s0_wrong_signature_during_rotation_grace_period_is_401(sender, one_order_batch):
    # given a rotation whose grace period is running (two secrets sign)
    new_secret = integration_rotate(integration=sender.integration)
    # when a request is signed with neither of them
    body = _body(one_order_batch)
    for wrong in ("not-the-secret", new_secret + "x", sender.secret[:-1]):
        response = sender.post_raw(
            body, **signed_headers(key_id=sender.key_id, secret=wrong, body=body)
        )
        # then it is refused like any bad signature, and nothing changes
        assert response.status_code == 401
        assert response.json()["code"] == "bad_signature"
    _assert_nothing_changed()


def test_s0_previous_secret_signs_until_the_exact_end_of_the_grace_period(
    sender, one_order_batch, time_machine
):
    # given a rotation at a frozen instant
    rotated_at = clock.now().replace(microsecond=500_000)
    time_machine.move_to(rotated_at, tick=False)
    old_secret = sender.secret
    new_secret = integration_rotate(integration=sender.integration)
    sender.integration.refresh_from_db()
    grace_end = sender.integration.previous_secret_expires_at
    assert grace_end == rotated_at + timedelta(hours=24)  # SC_INTEGRATION_ROTATION_GRACE_HOURS

    def send_with(secret: str):
        sender.secret = secret
        return sender.send(one_order_batch, timestamp=int(clock.now().timestamp()))

    # when the old secret signs one microsecond before the grace period ends, then it is valid
    time_machine.move_to(grace_end - timedelta(microseconds=1), tick=False)
    response = send_with(old_secret)
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "applied"
    # when it signs at the very end, then it is refused (the end is excluded)
    time_machine.move_to(grace_end, tick=False)
    response = send_with(old_secret)
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    # and the new secret still signs
    assert send_with(new_secret).json()["results"][0]["status"] == "duplicate"


def test_s0_previous_secret_does_not_excuse_a_stale_timestamp(sender, one_order_batch):
    # given a rotation whose grace period is running
    integration_rotate(integration=sender.integration)
    # when the old secret signs a request 301 s old, then the timestamp is refused as such
    response = sender.send(one_order_batch, timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    assert response.json()["code"] == "stale_timestamp"
    _assert_nothing_changed()


def test_s0_secret_survives_a_secret_key_rotation_kept_in_fallbacks(
    sender, one_order_batch, settings
):
    # given Django's SECRET_KEY was rotated, the old one kept in SECRET_KEY_FALLBACKS
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = [old_key]
    # when the integration sends, then its secret is still readable and the request applies
    assert sender.send(one_order_batch).status_code == 200


def test_s0_secret_key_changed_without_fallback_is_a_logged_500(
    sender, one_order_batch, settings, caplog
):
    # given Django's SECRET_KEY was replaced and the old one dropped (the operator's mistake)
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = []
    # when the integration sends, then the server says it failed (not the sender's fault), logs
    # why, and changes nothing
    response = sender.send(one_order_batch)
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "SECRET_KEY_FALLBACKS" in caplog.text
    _assert_nothing_changed()


def test_s0_secret_is_stored_encrypted(sender):
    # given an integration
    sender.integration.refresh_from_db()
    # then its secret is not in the database in clear
    assert sender.secret not in sender.integration.secret_encrypted
    assert (
        sender.secret.encode()
        not in json.dumps(list(type(sender.integration).objects.values()), default=str).encode()
    )


def _padded_to(batch, size: int) -> bytes:
    """The batch as JSON, padded with trailing whitespace (still valid JSON) to ``size`` bytes."""
    body = _body(batch)
    assert len(body) <= size
    return body + b" " * (size - len(body))


def test_s0_body_of_exactly_the_limit_is_accepted_and_one_byte_more_is_413(
    sender, one_order_batch, settings
):
    # given a limit, and a signed batch padded to exactly that many bytes
    limit = len(_body(one_order_batch)) + 64
    settings.SC_EVENTS_MAX_BODY_BYTES = limit
    body = _padded_to(one_order_batch, limit)
    # when it is sent, then it is applied
    response = sender.post_raw(
        body, **signed_headers(key_id=sender.key_id, secret=sender.secret, body=body)
    )
    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["status"] == "applied"
    # when one byte more is sent (signed, valid JSON), then the API's own check refuses it
    Order.objects.all().delete()
    IngestedEvent.objects.all().delete()
    body = _padded_to(one_order_batch, limit + 1)
    response = sender.post_raw(
        body, **signed_headers(key_id=sender.key_id, secret=sender.secret, body=body)
    )
    assert response.status_code == 413
    assert response.json() == {
        "code": "payload_too_large",
        "message": f"The body is over {limit} bytes.",
        "max_bytes": limit,
    }
    _assert_nothing_changed()


def test_s0_api_limit_governs_not_djangos_upload_limit(sender, one_order_batch, settings):
    # given Django's own limit far below the API's
    limit = len(_body(one_order_batch)) + 64
    settings.SC_EVENTS_MAX_BODY_BYTES = limit
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    # when a body of the API's limit is sent, then the API's limit decides: accepted
    body = _padded_to(one_order_batch, limit)
    response = sender.post_raw(
        body, **signed_headers(key_id=sender.key_id, secret=sender.secret, body=body)
    )
    assert response.status_code == 200, response.content
    # and over it, the API's code answers (with its limit), not Django's generic one
    body = _padded_to(one_order_batch, limit + 1)
    response = sender.post_raw(
        body, **signed_headers(key_id=sender.key_id, secret=sender.secret, body=body)
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert response.json()["max_bytes"] == limit


@override_settings(SC_EVENTS_MAX_BODY_BYTES=1000)
def test_s0_huge_body_is_413_before_parsing(sender):
    # given a body over the limit (and not even JSON)
    body = b"x" * 1001
    headers = signed_headers(key_id=sender.key_id, secret=sender.secret, body=body)
    # when
    response = sender.post_raw(body, **headers)
    # then 413, not 400/401: size is checked before anything else
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert response.json()["max_bytes"] == 1000


@override_settings(SC_EVENTS_MAX_BODY_BYTES=1000)
def test_s0_content_length_over_limit_is_413_without_reading(sender):
    # given a declared Content-Length over the limit (the test client's stream would fail any
    # attempt to read that many bytes: the answer must come from the header alone)
    body = b"{}"
    response = sender.post_raw(body, CONTENT_LENGTH="5000000")
    # then
    assert response.status_code == 413
    assert response.json() == {
        "code": "payload_too_large",
        "message": "The body is over 1000 bytes.",
        "max_bytes": 1000,
    }


@pytest.mark.parametrize("declared", ["abc", "-1", "1e3", "+2", "0x10"])
def test_s0_content_length_not_a_number_of_bytes_is_400(sender, one_order_batch, declared):
    # given a signed batch whose Content-Length header is not a plain number of bytes
    body = _body(one_order_batch)
    headers = signed_headers(key_id=sender.key_id, secret=sender.secret, body=body)
    # when
    response = sender.post_raw(body, CONTENT_LENGTH=declared, **headers)
    # then 400 with its own code, before the signature is even looked at
    assert response.status_code == 400
    assert response.json() == {
        "code": "bad_content_length",
        "message": "Content-Length must be a number of bytes.",
    }
    _assert_nothing_changed()


def test_s0_malformed_json_is_400(sender):
    # given a signed body that is not JSON
    body = b'{"events": [ {"event_id": '
    response = sender.post_raw(
        body, **signed_headers(key_id=sender.key_id, secret=sender.secret, body=body)
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"code": "malformed_json", "message": "The body is not valid JSON."}


def test_s0_more_than_500_events_is_422(sender, shop_a, buyer, sku_a):
    # given 501 events
    events = [
        ev("order.created", order_created_data(shop_a, buyer, sku_a, number=f"N-{i}"))
        for i in range(501)
    ]
    # when
    response = sender.send(events)
    # then the whole batch is refused, nothing applied
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert not Order.objects.exists()


def test_s0_empty_batch_is_422(sender):
    response = sender.send([])
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda e: e.update(type="order.teleported"), "events.1"),
        (lambda e: e.pop("event_id"), "event_id"),
        (lambda e: e["data"].pop("lines"), "lines"),
        (lambda e: e["data"]["lines"][0].update(quantity="1"), "quantity"),
        (lambda e: e["data"]["lines"][0].update(quantity=1.5), "quantity"),
        (lambda e: e["data"]["lines"][0].update(unit_price_minor=-1), "unit_price_minor"),
        (lambda e: e["data"]["lines"][0].update(unit_price_minor=10**15), "unit_price_minor"),
        (lambda e: e["data"].update(shipping_fee_minor=12.5), "shipping_fee_minor"),
        (lambda e: e["data"].update(shipping_fee_minor=True), "shipping_fee_minor"),
        (lambda e: e.update(occurred_at="2026-05-01T08:00:00"), "occurred_at"),  # no offset
        (lambda e: e.update(occurred_at=1_770_000_000), "occurred_at"),  # unix seconds
        (lambda e: e["data"].update(order_number=""), "order_number"),
        (lambda e: e["data"].update(order_number=12), "order_number"),
        (lambda e: e["data"].update(surprise="field"), "surprise"),
        (lambda e: e["data"].update(affiliate_click_id="a\x00b"), "affiliate_click_id"),
    ],
    ids=[
        "unknown-type",
        "missing-event-id",
        "missing-lines",
        "string-int",
        "fractional-int",
        "negative",
        "absurd",
        "fractional-amount",
        "bool-amount",
        "naive-datetime",
        "unix-datetime",
        "empty-id",
        "int-id",
        "unknown-field",
        "nul-char",
    ],
)
def test_s0_schema_violations_are_422_and_change_nothing(
    sender, shop_a, buyer, sku_a, mutate, where
):
    # given one valid event and one broken one
    good = ev("order.created", order_created_data(shop_a, buyer, sku_a, number="T-1"))
    bad = ev("order.created", order_created_data(shop_a, buyer, sku_a, number="T-2"))
    mutate(bad)
    # when
    response = sender.send([good, bad])
    # then the batch is refused as a whole with the pydantic errors, nothing written
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_request"
    assert body["errors"]
    assert where in json.dumps(body["errors"]) or where in body["message"]
    assert "Traceback" not in response.content.decode()
    _assert_nothing_changed()


def test_s0_openapi_documents_every_event_type(client):
    # given the OpenAPI document
    doc = client.get("/api/v1/openapi.json").json()
    # then every event type of SPEC §0 has a schema in the request body union
    batch = doc["components"]["schemas"]["EventBatch"]
    mapping = batch["properties"]["events"]["items"]["discriminator"]["mapping"]
    assert set(mapping) == {
        "shop.upserted",
        "product.upserted",
        "buyer.upserted",
        "cart.updated",
        "order.created",
        "order.paid",
        "order.cancelled",
        "order.shipped",
        "tracking.updated",
        "order.delivered",
        "order.completed",
        "order.refunded",
        "dispute.opened",
        "dispute.closed",
        "review.posted",
        "feedback.posted",
        "violation.recorded",
        "shop.balance_credited",
    }
    assert "SignedRequest" in doc["components"]["securitySchemes"]


def test_s0_docs_page_is_served_without_cdn(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"cdn" not in response.content.lower()


def test_s0_integral_float_is_the_same_integer(sender, shop_a, buyer, sku_a):
    # given an amount written 10000.0 (JSON Schema's "integer" includes it)
    data = order_created_data(shop_a, buyer, sku_a, number="T-1")
    data["lines"][0]["unit_price_minor"] = float(sku_a.price_minor)
    # when
    result = sender.one(ev("order.created", data))
    # then it is the integer 10000
    assert result["status"] == "applied"
    assert Order.objects.get(number="T-1").subtotal_minor == sku_a.price_minor


def test_s0_extreme_offset_is_stored_in_utc(sender, shop_a, buyer, sku_a):
    # given a time with an offset PostgreSQL cannot store (RFC 3339 allows up to ±23:59)
    event = ev("order.created", order_created_data(shop_a, buyer, sku_a, number="T-1"))
    event["occurred_at"] = "2026-03-01T23:30:00+23:30"
    # when
    result = sender.one(event)
    # then it is applied, at the same instant in UTC
    assert result["status"] == "applied"
    assert Order.objects.get(number="T-1").placed_at.isoformat() == "2026-03-01T00:00:00+00:00"


def test_s0_out_of_range_time_is_a_final_rejection(sender, shop_a, buyer, sku_a):
    # given a time no marketplace fact can have, at an extreme offset
    event = ev("order.created", order_created_data(shop_a, buyer, sku_a, number="T-1"))
    event["occurred_at"] = "0001-01-01T00:00:00+23:59"
    # when
    result = sender.one(event)
    # then it is refused for good, and recorded without a time
    assert result["code"] == "invalid_time"
    assert result["retryable"] is False
    assert IngestedEvent.objects.get().occurred_at is None
