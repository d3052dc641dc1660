"""``GET /t/<code>``: the click redirect (SPEC A-4), the hottest path of the product.

It does the least work possible: one Redis round trip reads the link's cached destination and
pushes the click onto the buffer (``services.clicks.click_take``: the durability promise is
there), then a first-party cookie with the click id and a 302. Nothing in the request chooses
the target: the query string is never read, and the stored destination is checked against the
allow-list when the link is cached and again before answering.
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
    target, click_id = clicks.click_take(
        code=code,
        ip=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        referrer=request.META.get("HTTP_REFERER", ""),
    )
    if target is None:
        raise Http404
    try:
        destination = rules.check_destination(target.destination, hosts=rules.redirect_hosts())
    except DomainError:
        # Checked when the link was cached; a change of the allow-list within the cache's minute
        # lands here: never followed.
        log.error("tracking link %s has a destination off the allow-list", code)
        raise Http404 from None
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
