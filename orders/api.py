"""``POST /api/v1/events``: the signed, idempotent marketplace event API (SPEC §0).

Order of checks, each answering before the next one runs (so nothing changes on a refusal):

1. size: ``Content-Length`` and then the body actually read, against
   ``SC_EVENTS_MAX_BODY_BYTES`` → 413 ``payload_too_large``, before any parsing;
2. signature: ``X-SC-Key`` / ``X-SC-Timestamp`` / ``X-SC-Signature`` over the raw body
   (``core.signing.verify``) → 401 ``unknown_key`` / ``stale_timestamp`` / ``bad_signature`` …;
3. JSON → 400 ``malformed_json``; the schema (``orders.ingest.schemas``, at most
   ``SC_EVENTS_MAX_BATCH`` events) → 422 ``invalid_request`` with the pydantic errors;
4. the events, one result each, in order (``orders.ingest.pipeline``) → 200.
"""

from django.conf import settings
from django.http import HttpRequest
from ninja import Router
from ninja.errors import HttpError
from ninja.security import APIKeyHeader

from .ingest import ingest_batch
from .ingest.integrations import integration_authenticate
from .ingest.schemas import BatchResult, ErrorOut, EventBatch, ValidationErrorOut
from .models import Integration

router = Router(tags=["events"])


class ApiError(HttpError):
    """An HTTP error with a stable ``code`` (rendered by ``sellercenter.api``)."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(status_code, message)
        self.code = code
        self.message = message


def check_body_size(request: HttpRequest) -> bytes:
    """The raw body, refusing one over the limit before reading it (Content-Length) and after."""
    limit = settings.SC_EVENTS_MAX_BODY_BYTES
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        raise ApiError(400, "bad_content_length", "Content-Length must be a number.") from None
    if declared > limit:
        raise ApiError(413, "payload_too_large", f"The body is over {limit} bytes.")
    body = request.body
    if len(body) > limit:
        raise ApiError(413, "payload_too_large", f"The body is over {limit} bytes.")
    return body


class SignedRequest(APIKeyHeader):
    """HMAC-signed request of an integration (the security scheme of the OpenAPI document).

    The key alone does not authenticate: ``security_companions`` are the two other headers every
    request needs, declared as security schemes required *together* with the key
    (``sellercenter.api`` adds them to the document).
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

    def __init__(self) -> None:
        super().__init__()
        self.openapi_security_schema["description"] = (
            "The integration's key id. Every request also carries `X-SC-Timestamp: <unix seconds>` "
            "(within 300 s of server time) and `X-SC-Signature: v1=<hex HMAC-SHA256(secret, "
            '"<timestamp>.<raw body>")>`.'
        )

    def __call__(self, request: HttpRequest) -> Integration:
        body = check_body_size(request)
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


_DESCRIPTION = """
A batch of marketplace events, applied **in order**, each **whole or not at all** (one refused
event never blocks the others). The answer lists one result per event, in the same order:

* `applied` — with `result` (ids of what was written);
* `duplicate` — the `event_id` was already received from this integration: nothing changed, and
  the first delivery's outcome is repeated (`original_status`, `code`, `message`, `result`);
* `rejected` — with a stable `code` and a `message`. With `"retryable": true` the event refers
  to something not received yet (`unknown_order`, `unknown_shop`, `unknown_buyer`,
  `unknown_sku`, `unknown_dispute`, `order_not_ready` …, e.g. `order.paid` before
  `order.created`): it is **not recorded**, so send the same event again later (with backoff).
  With `"retryable": false` the rejection is final and recorded: resending the same `event_id`
  answers `duplicate`.

`event_id` is unique **per integration**. Every fact happens at the envelope's `occurred_at`.
Amounts are integers in minor units of the shop's currency.
"""


@router.post(
    "/events",
    auth=SignedRequest(),
    response={
        200: BatchResult,
        400: ErrorOut,
        401: ErrorOut,
        413: ErrorOut,
        422: ValidationErrorOut,
    },
    exclude_none=True,
    operation_id="post_events",
    summary="Send a batch of marketplace events",
    description=_DESCRIPTION,
)
def post_events(request: HttpRequest, batch: EventBatch):
    return {"results": ingest_batch(integration=request.auth, events=batch.events)}
