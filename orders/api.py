"""``POST /api/v1/events``: the signed, idempotent marketplace event API (SPEC §0).

Order of checks, each answering before the next one runs (so nothing changes on a refusal):

1. the body: ``Content-Length`` and then the body actually read, against
   ``SC_EVENTS_MAX_BODY_BYTES`` → 413 ``payload_too_large``, 400 ``bad_content_length``,
   411 ``length_required`` (chunked body on a server that cannot read it), before any parsing;
2. signature: ``X-SC-Key`` / ``X-SC-Timestamp`` / ``X-SC-Signature`` over the raw body
   → 401 ``unknown_key`` / ``stale_timestamp`` / ``bad_signature`` …
   (1 and 2: ``integrations.auth.SignedRequest``);
3. JSON → 400 ``malformed_json``; the schema (``orders.ingest.schemas``, at most
   ``SC_EVENTS_MAX_BATCH`` events) → 422 ``invalid_request`` with the pydantic errors;
4. the events, one result each, in order (``orders.ingest.pipeline``) → 200.
"""

from django.http import HttpRequest
from ninja import Router

from core.api import ErrorOut, ValidationErrorOut
from integrations.auth import SignedRequest

from .ingest import ingest_batch
from .ingest.schemas import BatchResult, EventBatch

router = Router(tags=["events"])


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
        411: ErrorOut,
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
