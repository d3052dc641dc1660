"""SPEC M-3: the double opt-in confirmation mail, in the recipient's site language (M-5).

A plain transactional mail from the platform's address (no marketing content, so no sender
domain set-up is needed for it): the shop's name and the signed link to the confirmation page,
where a POST confirms (a mail scanner following the link confirms nothing).
"""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .. import sites
from ..models import Consent, ConsentStatus


def confirmation_url(token: str) -> str:
    return settings.SC_BUYER_PUBLIC_URL.rstrip("/") + reverse("mailing:confirm", args=[token])


def confirmation_send(*, consent_id: int, token: str) -> bool:
    row = Consent.objects.filter(pk=consent_id).select_related("shop").first()
    if row is None or row.status != ConsentStatus.PENDING:
        return False  # confirmed (or gone) meanwhile: nothing to ask
    language = sites.language_for(sites.site_for(row.email))
    with translation.override(language):
        subject = _("Please confirm: emails from %(shop)s") % {"shop": row.shop.name}
        body = _(
            "Hello,\n\n%(shop)s would like to send you news and offers by email. "
            "To agree, open this link and press Confirm:\n\n%(url)s\n\n"
            "If you did not ask for this, ignore this message: you will not be added."
        ) % {"shop": row.shop.name, "url": confirmation_url(token)}
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [row.email])
    return True
