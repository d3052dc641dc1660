"""Sign-in throttling (issue 6 fault 3) for the seller login and ``/admin/login/``.

Wrong passwords are counted per account (the username as typed, case-folded) and per client
IP (``core.ratelimit``); once either count reaches its limit, every attempt in that window is
refused with a clear message — the right password too, or a guesser would learn it by
being let in. A successful sign-in does not reset the counts: they expire with their window.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

from . import ratelimit

GROUP_ACCOUNT = "login.account"
GROUP_IP = "login.ip"
THROTTLED = "throttled"


def _account(username: str) -> str:
    return username.strip().casefold()


def _limits(username: str):
    return (
        (GROUP_IP, ratelimit.IP, settings.SC_LOGIN_FAILURES_PER_IP),
        (GROUP_ACCOUNT, _account(username), settings.SC_LOGIN_FAILURES_PER_ACCOUNT),
    )


def login_throttled(request, username: str) -> int:
    """Seconds until sign-ins for ``username`` from this client are allowed again (0: now)."""
    waits = [
        u.seconds_left or 1
        for group, key, rate in _limits(username)
        if (u := ratelimit.usage(request, group=group, key=key, rate=rate, increment=False))
        and u.count >= u.limit
    ]
    return max(waits, default=0)


def login_failed(request, username: str) -> None:
    for group, key, rate in _limits(username):
        ratelimit.hit(request, group=group, key=key, rate=rate)


class ThrottledLoginMixin(AuthenticationForm):
    """For an ``AuthenticationForm``: refuse while throttled, count the failures."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()  # a missing field: the usual "required" errors
        if wait := login_throttled(self.request, username):
            minutes = math.ceil(wait / 60)
            raise ValidationError(
                ngettext(
                    "Too many failed sign-in attempts. For your security, sign-in is paused "
                    "for this account or network: try again in %(n)s minute.",
                    "Too many failed sign-in attempts. For your security, sign-in is paused "
                    "for this account or network: try again in %(n)s minutes.",
                    minutes,
                ),
                code=THROTTLED,
                params={"n": minutes},
            )
        try:
            return super().clean()
        except ValidationError:
            # Wrong password, unknown or inactive account, or (admin) not staff: all count.
            login_failed(self.request, username)
            raise

    @property
    def throttled(self) -> bool:
        return any(getattr(e, "code", None) == THROTTLED for e in self.non_field_errors().as_data())


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class LoginView(auth_views.LoginView):
    """The seller sign-in: throttled, answering 429 Too Many Requests while it is."""

    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response
