"""Signed requests (SPEC §0, DESIGN §6): a django-ninja auth any router can use.

    @router.post("/events", auth=SignedRequest())                     # request.auth: Integration
    @router.post("/postback", auth=SignedRequest(max_body_setting="SC_POSTBACK_MAX_BODY_BYTES"))

``X-SC-Key: <key id>``, ``X-SC-Timestamp: <unix seconds>`` (within
``SC_SIGNATURE_MAX_SKEW_SECONDS``, 300 s) and ``X-SC-Signature: v1=<hex HMAC-SHA256(secret,
"<timestamp>.<raw body>")>``, compared in constant time (``core.signing``). After a rotation the
previous secret signs too, until ``previous_secret_expires_at`` (excluded).

Checks, each answering before the next one runs (so nothing happens on a refusal):

1. the body: framing and size, before anything is parsed (``read_body``) → 400
   ``bad_content_length``, 411 ``length_required``, 413 ``payload_too_large``;
2. the signature → 401 ``missing_key`` / ``unknown_key`` / ``missing_signature`` /
   ``bad_timestamp`` / ``stale_timestamp`` / ``bad_signature``.
"""

import re
from io import BytesIO

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from ninja.security import APIKeyHeader

from core import clock
from core.api import ApiError
from core.signing import SignatureError, verify
from core.sqlreads import models_from_rows, run_many, select_sql

from .models import Integration
from .services import decrypt_secret

_DIGITS = re.compile(r"[0-9]+")
_READ_CHUNK = 64 * 1024


def read_body(request: HttpRequest, *, limit: int) -> bytes:
    """The raw body, at most ``limit`` bytes, or an ``ApiError``.

    Read here rather than through ``request.body``: Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    would answer first with its own generic error, and Django reads a WSGI body only up to
    ``Content-Length`` — a ``Transfer-Encoding: chunked`` body, which has none, would read as
    empty and fail its signature (issue 6, fault 6).
    """
    if hasattr(request, "_body"):  # already read by someone else: only its size is left to check
        body = request._body
    else:
        wsgi_input = request.META.get("wsgi.input")
        if "HTTP_TRANSFER_ENCODING" in request.META and wsgi_input is not None:
            # Chunked over WSGI: only a server that decodes the chunks and ends the stream at the
            # body's end says so (PEP 3333 extension ``wsgi.input_terminated``: gunicorn does).
            # Any other (Django's runserver) hands over the raw chunk framing: refuse clearly.
            if not request.META.get("wsgi.input_terminated"):
                raise ApiError(
                    411,
                    "length_required",
                    "This server cannot read a Transfer-Encoding: chunked body; "
                    "send the body with a Content-Length header.",
                )
            stream = wsgi_input
        else:
            _check_content_length(request, limit=limit)
            # WSGI: at most Content-Length bytes; ASGI: the body the server buffered.
            stream = request
        body = _read_at_most(stream, limit + 1)
        request._body = body
        request._stream = BytesIO(body)  # as HttpRequest.body leaves it
    if len(body) > limit:
        raise _too_large(limit)
    return body


def _check_content_length(request: HttpRequest, *, limit: int) -> None:
    raw = request.META.get("CONTENT_LENGTH")
    if raw in (None, ""):
        return
    if not _DIGITS.fullmatch(str(raw).strip()):
        raise ApiError(400, "bad_content_length", "Content-Length must be a number of bytes.")
    if int(raw) > limit:  # refused before a single byte is read
        raise _too_large(limit)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"The body is over {limit} bytes.", max_bytes=limit)


def _read_at_most(stream, size: int) -> bytes:
    parts: list[bytes] = []
    left = size
    while left > 0:
        part = stream.read(min(left, _READ_CHUNK))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def integration_authenticate(
    *, key_id: str | None, timestamp: str | None, signature: str | None, body: bytes
) -> Integration:
    """The active integration that signed this request, or ``SignatureError`` (answered 401)."""
    if not key_id:
        raise SignatureError("missing_key", "X-SC-Key is required.")
    # Hand-written (core.sqlreads): on every request, the ORM's compilation would cost more.
    qn = connection.ops.quote_name
    where = f"{qn('key_id')} = %s AND {qn('active')} = %s"
    rows = run_many([(select_sql(Integration, where), [key_id, True])])[0]
    integration = models_from_rows(Integration, rows)[0] if rows else None
    if integration is None:
        raise SignatureError("unknown_key", "X-SC-Key is not an active integration.")
    try:
        verify(
            secret=decrypt_secret(integration.secret_encrypted),
            timestamp=timestamp,
            signature=signature,
            body=body,
        )
    except SignatureError as exc:
        # During the grace period after a rotation the previous secret still signs.
        if exc.code != "bad_signature" or not previous_secret_valid(integration):
            raise
        verify(
            secret=decrypt_secret(integration.previous_secret_encrypted),
            timestamp=timestamp,
            signature=signature,
            body=body,
        )
    return integration


def previous_secret_valid(integration: Integration) -> bool:
    """Whether the secret replaced by the last rotation still signs (until its expiry, excluded)."""
    return bool(
        integration.previous_secret_encrypted
        and integration.previous_secret_expires_at
        and integration.previous_secret_expires_at > clock.now()
    )


class SignedRequest(APIKeyHeader):
    """HMAC-signed request of an integration (the security scheme of the OpenAPI document).

    The key alone does not authenticate: ``security_companions`` are the two other headers every
    request needs, declared as security schemes required *together* with the key
    (``sellercenter.api`` adds them to the document). ``max_body_setting`` names the setting
    holding the largest body accepted (read on every request, so tests can override it).
    """

    param_name = "X-SC-Key"
    security_companions = {
        "SCTimestamp": {
            "type": "apiKey",
            "in": "header",
            "name": "X-SC-Timestamp",
            "description": "Unix seconds; at most 300 s from server time.",
        },
        "SCSignature": {
            "type": "apiKey",
            "in": "header",
            "name": "X-SC-Signature",
            "description": 'v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>',
        },
    }

    def __init__(self, *, max_body_setting: str = "SC_EVENTS_MAX_BODY_BYTES") -> None:
        super().__init__()
        self.max_body_setting = max_body_setting
        self.openapi_security_schema["description"] = (
            "The integration's key id. Every request also carries `X-SC-Timestamp: <unix seconds>` "
            "(within 300 s of server time) and `X-SC-Signature: v1=<hex HMAC-SHA256(secret, "
            '"<timestamp>.<raw body>")>`.'
        )

    def __call__(self, request: HttpRequest) -> Integration:
        body = read_body(request, limit=getattr(settings, self.max_body_setting))
        return integration_authenticate(
            key_id=request.headers.get("X-SC-Key"),
            timestamp=request.headers.get("X-SC-Timestamp"),
            signature=request.headers.get("X-SC-Signature"),
            body=body,
        )

    def authenticate(
        self, request: HttpRequest, key: str | None
    ) -> Integration:  # pragma: no cover
        raise NotImplementedError  # __call__ does the whole check
