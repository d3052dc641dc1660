"""HMAC request signing (SPEC §0 integration contract, DESIGN §6).

``X-SC-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>``; the timestamp
must be within ``SC_SIGNATURE_MAX_SKEW_SECONDS`` of now; comparison is constant-time.
"""

import hashlib
import hmac
import re

from django.conf import settings

from . import clock

# Unix seconds: up to 12 ASCII digits (the year 33658), a minus sign allowed as before (such a
# time is answered ``stale_timestamp``, like any other far from now).
_TIMESTAMP = re.compile(r"-?[0-9]{1,12}")


class SignatureError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sign(*, secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(*, secret: str, timestamp: str | None, signature: str | None, body: bytes) -> None:
    """Raise SignatureError unless the request is fresh and signed with ``secret``."""
    if not timestamp or not signature:
        raise SignatureError("missing_signature", "X-SC-Timestamp and X-SC-Signature are required.")
    # Plain ASCII digits of a sane length only: ``int()`` alone would take "+1", "1_0", " 1 ",
    # full-width "１２３" and hundreds of digits (whose distance to now overflows a float: a 500).
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureError("bad_timestamp", "X-SC-Timestamp must be unix seconds.")
    ts = int(timestamp)
    skew = abs(clock.now().timestamp() - ts)
    if skew > settings.SC_SIGNATURE_MAX_SKEW_SECONDS:
        raise SignatureError(
            "stale_timestamp",
            f"X-SC-Timestamp is {int(skew)} s from server time "
            f"(at most {settings.SC_SIGNATURE_MAX_SKEW_SECONDS} s).",
        )
    expected = sign(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise SignatureError("bad_signature", "X-SC-Signature does not match the body.")
