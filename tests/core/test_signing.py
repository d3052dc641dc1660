"""core.signing: the integration contract of SPEC §0 (HMAC-SHA256 over "<ts>.<raw body>",
timestamp within 300 s, constant-time compare)."""

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
import time_machine

from core.signing import SignatureError, sign, verify

SECRET = "s3cret-key-of-the-integration"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TS = str(int(NOW.timestamp()))
BODY = b'{"events": [{"event_id": "e1", "type": "order.paid"}]}'


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    # when
    signature = sign(secret=SECRET, timestamp=TS, body=BODY)

    # then
    expected = hmac.new(SECRET.encode(), f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature == f"v1={expected}"


def test_a_fresh_correct_signature_verifies():
    # given
    signature = sign(secret=SECRET, timestamp=TS, body=BODY)

    # when / then: no exception
    assert verify(secret=SECRET, timestamp=TS, signature=signature, body=BODY) is None


@pytest.mark.parametrize("skew", [-300, 300])
def test_a_timestamp_exactly_300_s_away_is_accepted(skew):
    # given
    ts = str(int(NOW.timestamp()) + skew)

    # when / then
    verify(
        secret=SECRET,
        timestamp=ts,
        signature=sign(secret=SECRET, timestamp=ts, body=BODY),
        body=BODY,
    )


@pytest.mark.parametrize("skew", [-301, 301, -86400])
def test_a_stale_or_future_timestamp_is_refused(skew):
    # given: correctly signed, but more than 300 s from now
    ts = str(int(NOW.timestamp()) + skew)
    signature = sign(secret=SECRET, timestamp=ts, body=BODY)

    # when
    with pytest.raises(SignatureError) as exc:
        verify(secret=SECRET, timestamp=ts, signature=signature, body=BODY)

    # then
    assert exc.value.code == "stale_timestamp"


def test_a_tampered_body_is_refused():
    # given
    signature = sign(secret=SECRET, timestamp=TS, body=BODY)

    # when
    with pytest.raises(SignatureError) as exc:
        verify(secret=SECRET, timestamp=TS, signature=signature, body=BODY.replace(b"e1", b"e2"))

    # then
    assert exc.value.code == "bad_signature"


def test_a_replayed_signature_with_another_timestamp_is_refused():
    # given: the signature covers the timestamp too
    signature = sign(secret=SECRET, timestamp=TS, body=BODY)

    # when / then
    with pytest.raises(SignatureError) as exc:
        verify(secret=SECRET, timestamp=str(int(TS) + 1), signature=signature, body=BODY)
    assert exc.value.code == "bad_signature"


def test_a_wrong_secret_is_refused():
    # given
    signature = sign(secret="another-secret", timestamp=TS, body=BODY)

    # when / then
    with pytest.raises(SignatureError) as exc:
        verify(secret=SECRET, timestamp=TS, signature=signature, body=BODY)
    assert exc.value.code == "bad_signature"


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [(None, "v1=abc"), ("", "v1=abc"), (TS, None), (TS, ""), (None, None)],
)
def test_missing_headers_are_refused(timestamp, signature):
    # when
    with pytest.raises(SignatureError) as exc:
        verify(secret=SECRET, timestamp=timestamp, signature=signature, body=BODY)

    # then
    assert exc.value.code == "missing_signature"


def test_a_non_numeric_timestamp_is_refused():
    # when
    with pytest.raises(SignatureError) as exc:
        verify(secret=SECRET, timestamp="yesterday", signature="v1=abc", body=BODY)

    # then
    assert exc.value.code == "bad_timestamp"


@pytest.mark.parametrize(
    "timestamp",
    ["9" * 400, "１２３", "+" + TS, "1_7", f" {TS}", f"{TS}\n", "1" * 13, "--1", "-", "12.0"],
)
def test_a_timestamp_that_is_not_plain_unix_seconds_is_refused(timestamp):
    # given: signed over that very timestamp (the format is refused before the signature)
    signature = sign(secret=SECRET, timestamp=timestamp, body=BODY)

    # when
    with pytest.raises(SignatureError) as exc:
        verify(secret=SECRET, timestamp=timestamp, signature=signature, body=BODY)

    # then
    assert exc.value.code == "bad_timestamp"


@pytest.mark.parametrize("timestamp", ["9" * 12, "-1", "0"])
def test_up_to_12_digits_and_a_minus_sign_are_a_timestamp_far_from_now(timestamp):
    with pytest.raises(SignatureError) as exc:
        verify(
            secret=SECRET,
            timestamp=timestamp,
            signature=sign(secret=SECRET, timestamp=timestamp, body=BODY),
            body=BODY,
        )
    assert exc.value.code == "stale_timestamp"


@pytest.mark.parametrize("mangle", [lambda s: s[3:], lambda s: s.upper(), lambda s: "v2=" + s[3:]])
def test_a_malformed_signature_is_refused(mangle):
    # given
    signature = mangle(sign(secret=SECRET, timestamp=TS, body=BODY))

    # when / then
    with pytest.raises(SignatureError) as exc:
        verify(secret=SECRET, timestamp=TS, signature=signature, body=BODY)
    assert exc.value.code == "bad_signature"


@pytest.mark.parametrize(
    ("timestamp", "signature", "code", "message"),
    [
        (None, "v1=abc", "missing_signature", "X-SC-Timestamp and X-SC-Signature are required."),
        ("soon", "v1=abc", "bad_timestamp", "X-SC-Timestamp must be unix seconds."),
        (
            str(int(TS) - 301),
            "v1=abc",
            "stale_timestamp",
            "X-SC-Timestamp is 301 s from server time (at most 300 s).",
        ),
        (
            str(int(TS) + 4000),
            "v1=abc",
            "stale_timestamp",
            "X-SC-Timestamp is 4000 s from server time (at most 300 s).",
        ),
        (TS, "v1=abc", "bad_signature", "X-SC-Signature does not match the body."),
    ],
)
def test_each_refusal_tells_the_integrator_what_is_wrong(timestamp, signature, code, message):
    # when
    with pytest.raises(SignatureError) as exc:
        verify(secret=SECRET, timestamp=timestamp, signature=signature, body=BODY)

    # then: the stable code and the message the API answers with
    assert (exc.value.code, exc.value.message, str(exc.value)) == (code, message, message)


def test_whitespace_around_the_signature_header_is_ignored():
    # given
    signature = sign(secret=SECRET, timestamp=TS, body=BODY)

    # when / then: no exception
    verify(secret=SECRET, timestamp=TS, signature=f"  {signature}\t", body=BODY)
