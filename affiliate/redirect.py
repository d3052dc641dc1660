"""``GET /t/<code>``: the click redirect (SPEC A-4), the hottest path of the product.

It does the least work possible: one Redis round trip reads the link's cached destination and
pushes the click onto the buffer (``services.clicks.click_take``: the durability promise is
there), then a first-party cookie with the click id and a 302. Nothing in the request chooses
the target: the query string is never read, and the stored destination is checked against the
allow-list when the link is cached and again before answering.
No session, no user, no template.

``ClickRedirectMiddleware`` answers it right after the security middleware, before the session,
locale, CSRF, auth, messages, htmx and current-shop middleware (a public redirect uses none of
them), with the same response headers the rest of the stack would add (``X-Frame-Options``,
``Content-Security-Policy``; HSTS, ``nosniff``, COOP and the HTTPS redirect stay with
``SecurityMiddleware`` before it). A code that leads nowhere goes down the whole stack to the
view, which answers the usual 404 page.
"""

import logging

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.views.decorators.http import require_safe

from core.errors import DomainError

from . import rules
from .services import clicks

log = logging.getLogger(__name__)

COOKIE = "sc_aff_click"
PREFIX = "/t/"
_MISSED = "_affiliate_click_missed"  # the middleware found no target: the view answers 404


def click_answer(request, code: str) -> HttpResponse | None:
    """The 302 (the click recorded), a 503 (a click kept nowhere), or None: no such link."""
    target, click_id = clicks.click_take(
        code=code,
        ip=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        referrer=request.META.get("HTTP_REFERER", ""),
    )
    if target is None:
        return None
    try:
        destination = rules.check_destination(target.destination, hosts=rules.redirect_hosts())
    except DomainError:
        # Checked when the link was cached; a change of the allow-list within the cache's minute
        # lands here: never followed.
        log.error("tracking link %s has a destination off the allow-list", code)
        return None
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


@require_safe
def click_redirect(request, code: str):
    response = None if getattr(request, _MISSED, False) else click_answer(request, code)
    if response is None:
        raise Http404
    return response


class ClickRedirectMiddleware:
    """Answers ``GET``/``HEAD /t/<code>`` early (see the module docstring); everything else,
    and a code that leads nowhere, goes on down the stack."""

    def __init__(self, get_response):
        self.get_response = get_response
        # The response phase of the middleware the click skips that adds headers to a redirect.
        self.headers = (
            XFrameOptionsMiddleware(get_response),
            ContentSecurityPolicyMiddleware(get_response),
        )

    def __call__(self, request):
        path = request.path_info
        if request.method in ("GET", "HEAD") and path.startswith(PREFIX):
            code = path[len(PREFIX) :]
            if code and "/" not in code:  # what the URL pattern t/<str:code> matches
                request.get_host()  # ALLOWED_HOSTS, as for every page (DisallowedHost: 400)
                response = click_answer(request, code)
                if response is not None:
                    for middleware in self.headers:
                        response = middleware.process_response(request, response)
                    return response
                setattr(request, _MISSED, True)
        return self.get_response(request)
