"""What buyers receive (SPEC B-2, B-7), in their site's language (English fallback).

Email through Django's mail backend, SMS through ``buyers.sms``. The code is in the message
body only: nothing here logs it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from .models import Channel, CodePurpose, site_language
from .sms import send_sms


def _send(*, channel: str, to: str, subject: str, text: str) -> None:
    if channel == Channel.EMAIL:
        send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    else:
        send_sms(to=to, text=text)


def send_code(*, channel: str, to: str, code: str, purpose: str, site: str) -> None:
    minutes = 5
    with translation.override(site_language(site)):
        if purpose == CodePurpose.RESET:
            subject = _("Your password reset code")
        elif purpose == CodePurpose.CHANGE:
            subject = _("Confirm your new contact")
        else:
            subject = _("Your verification code")
        text = _(
            "Your code is %(code)s. It is valid for %(minutes)s minutes. "
            "Never share it with anyone."
        ) % {"code": code, "minutes": minutes}
        _send(channel=channel, to=to, subject=subject, text=text)


def send_registration_notice(*, channel: str, to: str, site: str) -> None:
    with translation.override(site_language(site)):
        _send(
            channel=channel,
            to=to,
            subject=_("Someone tried to register with your contact"),
            text=_(
                "Someone tried to open a new account with this contact, which already has one. "
                "If it was you, sign in or reset your password. Otherwise, ignore this message."
            ),
        )


def send_change_notice(*, channel: str, to: str, site: str, report_url: str) -> None:
    with translation.override(site_language(site)):
        _send(
            channel=channel,
            to=to,
            subject=_("Your account contact was changed"),
            text=_(
                "The email or phone number of your account was just changed. If you did not do "
                "this, report it here and we will review the account: %(url)s"
            )
            % {"url": report_url},
        )
