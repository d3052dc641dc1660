"""The promoter session: a signed cookie of its own, apart from the seller staff session.

Seller pages read only Django's ``request.user`` (a staff account with shop memberships);
promoter pages read only the ``sc_promoter`` cookie (``promoter_required``). A promoter has no
Django user, so it can never pass ``shop_required``; a seller's session carries no promoter
cookie, so it can never pass ``promoter_required``. The cookie carries the promoter's id and a
fingerprint of its password hash: a password change signs out every other browser and makes
every password-reset link already sent useless.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.core import signing
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.crypto import salted_hmac

from ..models import Promoter, PromoterStatus

COOKIE = "sc_promoter"
_SALT = "affiliate.promoter.session"
_RESET_SALT = "affiliate.promoter.reset"
MAX_AGE = 14 * 24 * 3600
RESET_MAX_AGE = 3600  # a password-reset link works for an hour


def _fingerprint(promoter: Promoter) -> str:
    return salted_hmac(_SALT, promoter.password or "-", algorithm="sha256").hexdigest()[:16]


def sign_in(response, promoter: Promoter):
    response.set_signed_cookie(
        COOKIE,
        f"{promoter.pk}:{_fingerprint(promoter)}",
        salt=_SALT,
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def sign_out(response):
    response.delete_cookie(COOKIE)
    return response


def current_promoter(request) -> Promoter | None:
    if hasattr(request, "_promoter"):
        return request._promoter
    promoter = None
    try:
        value = request.get_signed_cookie(COOKIE, salt=_SALT, max_age=MAX_AGE)
    except (KeyError, signing.BadSignature):
        value = None
    if value:
        pk, _sep, fingerprint = value.partition(":")
        # ASCII digits only: "²" passes ``isdigit`` and then ``int`` raises.
        if pk.isascii() and pk.isdigit() and len(pk) < 19:
            found = Promoter.objects.filter(pk=int(pk)).first()
            if found is not None and found.password and fingerprint == _fingerprint(found):
                promoter = found
    request._promoter = promoter
    return promoter


def reset_token(promoter: Promoter) -> str:
    """A signed, timed token for a password-reset link; single use (the fingerprint of the
    password hash changes with the new password)."""
    return signing.dumps({"p": promoter.pk, "f": _fingerprint(promoter)}, salt=_RESET_SALT)


def promoter_for_reset_token(token: str) -> Promoter | None:
    try:
        data = signing.loads(token, salt=_RESET_SALT, max_age=RESET_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        return None
    promoter = Promoter.objects.filter(pk=data["p"]).first()
    if promoter is None or not promoter.password or data.get("f") != _fingerprint(promoter):
        return None
    return promoter


def _private(response):
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def promoter_required(view):
    """A promoter portal page: signed-in promoters only (the seller staff session does not
    count); ``request.promoter`` is the promoter."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.promoter = current_promoter(request)
        if request.promoter is None:
            return redirect(f"{reverse('promoter:login')}?next={request.path}")
        return _private(view(request, *args, **kwargs))

    return wrapper


def approved_required(view):
    """A page for approved promoters (PIDs, links, reports, payouts); others go to onboarding."""

    @promoter_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.promoter.status != PromoterStatus.APPROVED:
            return redirect("promoter:onboarding")
        return view(request, *args, **kwargs)

    return wrapper
