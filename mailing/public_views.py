"""The public links inside marketing email (SPEC M-11). No session, no login, the least work.

* ``/m/o/<token>.gif`` — the open pixel: one UPDATE, a 43-byte GIF, never cached.
* ``/m/c/<token>`` — a signed click redirect: the destination is inside the signed token (the
  query string is never read) and must be on ``SC_MAILING_LINK_HOSTS`` again at every click.
* ``/m/u/<token>`` — RFC 8058 one-click unsubscribe: a GET only shows a confirmation form
  (mail scanners follow links; a GET never unsubscribes); a POST — cookieless, no CSRF token,
  as mail providers send it (``List-Unsubscribe=One-Click``) — unsubscribes. A tampered token
  is refused (400) and changes nothing.
* ``/m/hooks/esp`` and ``/m/hooks/dsn`` — bounce and complaint intake, HMAC-signed.
"""

import base64
import json

from django.conf import settings
from django.http import (
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotFound,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core import signing as request_signing

from .services import dispatch, tracking

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@require_safe
def open_pixel(request, token: str):
    tracking.open_record(token)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store, private"
    return response


@require_safe
def click(request, token: str):
    destination = tracking.click_record(token)
    if destination is None:
        return HttpResponseNotFound("Unknown link.", content_type="text/plain")
    response = HttpResponseRedirect(destination)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@csrf_exempt  # RFC 8058: the mail provider's POST carries no cookie and no CSRF token
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    message = tracking.message_for(token, dispatch.UNSUBSCRIBE_SALT)
    if message is None:
        return HttpResponseBadRequest(
            _("This unsubscribe link is not valid."), content_type="text/plain"
        )
    language = message.language or "en"
    with override(language):
        if request.method == "POST":
            tracking.unsubscribe(
                message, source="one-click" if "List-Unsubscribe" in request.POST else "page"
            )
            response = render(
                request,
                "mailing/unsubscribe.html",
                {"done": True, "shop_name": message.shop.name, "language": language},
            )
        else:
            response = render(
                request,
                "mailing/unsubscribe.html",
                {
                    "done": message.unsubscribed_at is not None,
                    "shop_name": message.shop.name,
                    "token": token,
                    "language": language,
                },
            )
    response["Cache-Control"] = "no-store, private"
    response["X-Robots-Tag"] = "noindex"
    return response


def _verified(request) -> JsonResponse | None:
    secret = settings.SC_MAILING_WEBHOOK_SECRET
    if not secret:
        return JsonResponse(
            {"code": "webhook_disabled", "message": "No webhook secret is configured."}, status=401
        )
    try:
        request_signing.verify(
            secret=secret,
            timestamp=request.headers.get("X-SC-Timestamp"),
            signature=request.headers.get("X-SC-Signature"),
            body=request.body,
        )
    except request_signing.SignatureError as exc:
        return JsonResponse({"code": exc.code, "message": exc.message}, status=401)
    return None


@csrf_exempt
@require_POST
def esp_webhook(request):
    """``{"events": [{"id", "type": "bounce"|"complaint", "message_id", "bounce_type":
    "hard"|"soft", "description"}]}`` signed as the integration contract (X-SC-*)."""
    refused = _verified(request)
    if refused:
        return refused
    try:
        events = json.loads(request.body)["events"]
        if not isinstance(events, list) or len(events) > 500:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return JsonResponse(
            {"code": "invalid_body", "message": 'Expected {"events": [...]}, at most 500.'},
            status=400,
        )
    results: list[dict[str, object]] = []
    for e in events:
        if not isinstance(e, dict):
            results.append({"result": "rejected", "code": "invalid_event"})
            continue
        kind = {"complaint": "complaint"}.get(str(e.get("type", "")), "")
        if e.get("type") == "bounce":
            kind = "hard" if e.get("bounce_type") == "hard" else "soft"
        hex_id = str(e.get("message_id", "")).lower()
        if not kind or not tracking.is_message_hex(hex_id):
            # One malformed event is refused on its own; the others of the batch still apply
            # (a 500 would make the provider send the whole batch again, for ever).
            results.append({"id": e.get("id"), "result": "rejected", "code": "invalid_event"})
            continue
        applied = tracking.report_apply(
            tracking.Report(hex_id, kind, str(e.get("description", ""))[:300]),
            source="esp",
            event_id=str(e.get("id", "")),
        )
        results.append({"id": e.get("id"), "result": "applied" if applied else "ignored"})
    return JsonResponse({"results": results})


@csrf_exempt
@require_POST
def dsn_webhook(request):
    """A raw DSN/ARF message (``message/rfc822`` body) forwarded by the bounce mailbox, signed."""
    refused = _verified(request)
    if refused:
        return refused
    return JsonResponse({"applied": tracking.dsn_intake(request.body)})
