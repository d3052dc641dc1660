"""``GET /t/<code>``: the click redirect (SPEC A-4), the hottest path of the product.

It does the least work possible: the link's stored destination (cached), the click pushed onto
the Redis buffer (``services.clicks``: the durability promise is there), a first-party cookie
with the click id, a 302. Nothing in the request chooses the target: the query string is never
read, and the stored destination is checked against the allow-list again before answering.
No session, no user, no template.
"""

import logging

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_safe

from core.errors import DomainError

from . import rules
from .services import clicks

log = logging.getLogger(__name__)

COOKIE = "sc_aff_click"


@require_safe
def click_redirect(request, code: str):
    target = clicks.link_target(code)
    if target is None:
        raise Http404
    try:
        destination = rules.check_destination(target.destination, hosts=rules.redirect_hosts())
    except DomainError:
        # Stored before the allow-list changed, or tampered with in the database: never follow.
        log.error("tracking link %s has a destination off the allow-list", code)
        raise Http404 from None
    click_id = clicks.click_record(
        target=target,
        ip=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        referrer=request.META.get("HTTP_REFERER", ""),
    )
    if click_id is None:  # kept nowhere: no 302 for a click we would lose
        response = HttpResponse("Try again in a moment.", status=503, content_type="text/plain")
        response["Retry-After"] = "5"
        return response
    response = HttpResponseRedirect(destination)
    response.set_cookie(
        COOKIE,
        click_id,
        max_age=target.cookie_seconds,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
