"""Buyer background work (DESIGN §4): thin, each calls one service, safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from . import messages, services
from .models import Buyer, ContactChange, VerificationCode


@shared_task(acks_late=True)
def buyers_code_deliver_task(code_id: int, kind: str, sealed: str) -> str:
    """Deliver a verification code (or a notice) queued by ``code_request``.

    ``sealed`` is the code encrypted with the app's secret (never in plain text in the broker).
    ``kind`` "none" does nothing: it is queued anyway so every request costs the same.
    """
    from integrations.services import decrypt_secret

    if kind == "none":
        return kind
    row = VerificationCode.objects.filter(pk=code_id).select_related("buyer").first()
    if row is None:
        return "gone"
    owner = row.buyer or Buyer.objects.filter(Q(email=row.contact) | Q(phone=row.contact)).first()
    site = owner.site if owner else "global"  # the owner's language, also for a notice
    if kind == "notice":
        messages.send_registration_notice(channel=row.channel, to=row.contact, site=site)
    else:
        messages.send_code(
            channel=row.channel,
            to=row.contact,
            code=decrypt_secret(sealed),
            purpose=row.purpose,
            site=site,
        )
    return kind


@shared_task(acks_late=True)
def buyers_change_notice_task(change_id: int) -> bool:
    """SPEC B-7: tell the old contact, with a link to report the change."""
    change = ContactChange.objects.filter(pk=change_id).select_related("buyer").first()
    if change is None or not change.old_value:
        return False
    base = settings.SC_BUYER_PUBLIC_URL.rstrip("/")
    url = base + reverse("buyers:report", args=[change.report_token])
    messages.send_change_notice(
        channel=change.channel, to=change.old_value, site=change.buyer.site, report_url=url
    )
    return True


@shared_task(acks_late=True)
def buyers_low_activity_task() -> int:
    """SPEC B-6 (beat): flag buyers with no payment 72 h after registration."""
    return services.buyers_flag_low_activity()


__all__ = ["buyers_change_notice_task", "buyers_code_deliver_task"]
