"""The buyer session: a signed cookie of its own, apart from the seller staff session.

A seller's Django session (``request.user``) is never a buyer session and a buyer cookie never
signs anyone into seller pages: ``buyer_required`` reads only ``sc_buyer``, and seller pages
read only ``request.user``. The cookie carries the buyer's id and a fingerprint of the password
hash, so a password reset signs out every other browser.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.core import signing
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import salted_hmac

from .models import BUYER_LANGUAGES, Buyer, site_language

COOKIE = "sc_buyer"
PENDING_COOKIE = "sc_buyer_pending"
DEVICE_COOKIE = "sc_device"
LANG_COOKIE = "sc_buyer_lang"
_SALT = "buyers.session"
_PENDING_SALT = "buyers.pending"
MAX_AGE = 14 * 24 * 3600
PENDING_MAX_AGE = 30 * 60


def _fingerprint(buyer: Buyer) -> str:
    return salted_hmac(_SALT, buyer.password or "-", algorithm="sha256").hexdigest()[:16]


def _cookie_kwargs(max_age: int) -> dict:
    return {
        "max_age": max_age,
        "httponly": True,
        "samesite": "Lax",
        "secure": settings.SESSION_COOKIE_SECURE,
    }


def sign_in(response, buyer: Buyer):
    response.set_signed_cookie(
        COOKIE, f"{buyer.pk}:{_fingerprint(buyer)}", salt=_SALT, **_cookie_kwargs(MAX_AGE)
    )
    response.delete_cookie(PENDING_COOKIE)
    return response


def sign_out(response):
    response.delete_cookie(COOKIE)
    response.delete_cookie(PENDING_COOKIE)
    return response


def current_buyer(request) -> Buyer | None:
    if hasattr(request, "_buyer"):
        return request._buyer
    buyer = None
    try:
        value = request.get_signed_cookie(COOKIE, salt=_SALT, max_age=MAX_AGE)
    except (KeyError, signing.BadSignature):
        value = None
    if value:
        pk, _sep, fingerprint = value.partition(":")
        if pk.isdigit():
            found = Buyer.objects.filter(pk=int(pk)).first()
            if found is not None and found.password and fingerprint == _fingerprint(found):
                buyer = found
    request._buyer = buyer
    return buyer


def set_pending(response, *, contact: str, purpose: str):
    """The contact a code was just sent to (the verify / reset step reads it back)."""
    response.set_signed_cookie(
        PENDING_COOKIE,
        f"{purpose}|{contact}",
        salt=_PENDING_SALT,
        **_cookie_kwargs(PENDING_MAX_AGE),
    )
    return response


def get_pending(request, purpose: str) -> str | None:
    try:
        value = request.get_signed_cookie(
            PENDING_COOKIE, salt=_PENDING_SALT, max_age=PENDING_MAX_AGE
        )
    except (KeyError, signing.BadSignature):
        return None
    got, _sep, contact = value.partition("|")
    return contact if got == purpose and contact else None


def page_language(request) -> str:
    """The buyer's site language when signed in; else a chosen one (cookie or ?lang=), else
    the request's language, else English."""
    buyer = current_buyer(request)
    if buyer is not None:
        return site_language(buyer.site)
    for chosen in (request.GET.get("lang"), request.COOKIES.get(LANG_COOKIE)):
        if chosen in BUYER_LANGUAGES:
            return chosen
    lang = getattr(request, "LANGUAGE_CODE", "en")
    return lang if lang in BUYER_LANGUAGES else "en"


def buyer_page(view):
    """Every buyer page: rendered in the buyer's language; the choice of ``?lang=`` is kept."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        lang = page_language(request)
        with translation.override(lang):
            request.buyer = current_buyer(request)
            request.buyer_language = lang
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        if request.GET.get("lang") in BUYER_LANGUAGES:
            response.set_cookie(
                LANG_COOKIE, request.GET["lang"], max_age=365 * 24 * 3600, samesite="Lax"
            )
        response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    return wrapper


def buyer_required(view):
    """A buyer page for signed-in buyers only (the seller session does not count)."""

    @buyer_page
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.buyer is None:
            return redirect(f"{reverse('buyers:login')}?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapper
