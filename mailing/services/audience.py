"""Writes of the audience (SPEC M-3): suppression, consent with its evidence, double opt-in.

Public names other parts of mailing rely on (keep them stable): ``suppress``,
``unsuppress``, ``normalize_email``, ``consent_record``, ``double_opt_in_request``,
``double_opt_in_confirm``, ``confirmation_token``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db import transaction
from django.utils.translation import gettext as _

from core import clock
from core.errors import DomainError
from shops.models import Shop

from .. import rules
from ..models import Consent, ConsentSource, ConsentStatus, Suppression, SuppressionReason

CONFIRMATION_SALT = "mailing.double-opt-in"
# Reasons that are for ever (SPEC M-3: "honoured at once and forever for that shop").
PERMANENT_REASONS = (
    SuppressionReason.UNSUBSCRIBE,
    SuppressionReason.COMPLAINT,
    SuppressionReason.MANUAL,
)


def normalize_email(value: str) -> str:
    """Stripped and case-folded, as the buyers module stores addresses (SPEC B-3)."""
    return (value or "").strip().casefold()


def suppress(
    *,
    shop: Shop,
    email: str,
    reason: str,
    source: str = "",
    expires_at: datetime | None = None,
    at: datetime | None = None,
) -> Suppression:
    """Stop mailing ``email`` from ``shop`` (SPEC M-3, M-10). Unsubscribes and complaints are
    for ever; a hard bounce quarantines the address for the rule's days (30) unless
    ``expires_at`` says otherwise. Idempotent, and never shortens an existing suppression: a
    permanent one stays permanent, a later end wins. Honoured at once: every count and every
    recipient list reads this table."""
    at = at or clock.now()
    email = normalize_email(email)
    if not email:
        raise DomainError(
            _("An email address is needed."),
            code="mailing_suppress_no_email",
        )
    if reason not in SuppressionReason.values:
        raise DomainError(
            _("Unknown suppression reason %(reason)s.") % {"reason": reason},
            code="mailing_suppress_reason",
        )
    if reason in PERMANENT_REASONS:
        expires_at = None
    elif expires_at is None:
        expires_at = at + timedelta(days=rules.hard_bounce_quarantine_days())
    with transaction.atomic():
        row = Suppression.objects.select_for_update().filter(shop=shop, email=email).first()
        if row is None:
            row, created = Suppression.objects.get_or_create(
                shop=shop,
                email=email,
                defaults={
                    "reason": reason,
                    "source": source[:120],
                    "created_at": at,
                    "expires_at": expires_at,
                },
            )
            if created:
                return row
            row = Suppression.objects.select_for_update().get(pk=row.pk)
        active = row.expires_at is None or row.expires_at > at
        if not active:
            # The old quarantine is over: this is a new suppression.
            row.reason, row.source, row.created_at, row.expires_at = (
                reason,
                source[:120],
                at,
                expires_at,
            )
        elif row.expires_at is not None and (expires_at is None or expires_at > row.expires_at):
            # Longer (or permanent) than the current one: it takes over.
            row.reason, row.source, row.expires_at = reason, source[:120], expires_at
        else:
            return row
        row.save(update_fields=["reason", "source", "created_at", "expires_at"])
        return row


def unsuppress(*, shop: Shop, suppression_id: int) -> None:
    """Lift a suppression the shop added by hand. Unsubscribes, complaints and bounces are
    the recipient's or the mail system's decision and are never lifted by the shop (M-3)."""
    row = Suppression.objects.filter(shop=shop, pk=suppression_id).first()
    if row is None:
        from django.http import Http404

        raise Http404("No such suppression in this shop.")
    if row.reason != SuppressionReason.MANUAL:
        raise DomainError(
            _("Only addresses your shop added by hand can be removed from the list."),
            code="mailing_unsuppress_refused",
        )
    row.delete()


def consent_record(
    *,
    shop: Shop,
    email: str,
    status: str,
    source: str,
    buyer_id: int | None = None,
    ip: str | None = None,
    evidence: str = "",
    contact_import_id: int | None = None,
    at: datetime | None = None,
) -> Consent:
    """Record ``email``'s consent to ``shop``'s marketing with its evidence (SPEC M-3, B-8).
    A confirmed double opt-in is never downgraded by a later, weaker record."""
    from ..selectors_audience import buyer_preference_on

    at = at or clock.now()
    email = normalize_email(email)
    preference_on = buyer_preference_on(shop=shop, email=email)
    with transaction.atomic():
        row, created = Consent.objects.select_for_update().get_or_create(
            shop=shop,
            email=email,
            defaults={
                "status": status,
                "source": source,
                "buyer_id": buyer_id,
                "granted_at": at,
                "ip": ip,
                "evidence": evidence,
                "contact_import_id": contact_import_id,
                "buyer_preference_on": preference_on,
            },
        )
        if created or row.status == ConsentStatus.CONFIRMED:
            return row
        row.status, row.source, row.granted_at, row.ip = status, source, at, ip
        row.evidence = evidence
        row.buyer_preference_on = preference_on
        row.buyer_id = row.buyer_id or buyer_id
        row.contact_import_id = contact_import_id or row.contact_import_id
        row.save()
        return row


def confirmation_token(consent: Consent) -> str:
    """A signed, timestamped token naming the consent and its current nonce."""
    return signing.dumps(
        {"c": consent.pk, "n": consent.nonce}, salt=CONFIRMATION_SALT, compress=True
    )


@dataclass(frozen=True)
class ConfirmationRequest:
    consent: Consent
    token: str


def double_opt_in_request(
    *,
    shop: Shop,
    email: str,
    buyer_id: int | None = None,
    source: str = ConsentSource.DOUBLE_OPT_IN,
    ip: str | None = None,
    at: datetime | None = None,
) -> ConfirmationRequest:
    """SPEC M-3: ask ``email`` to confirm marketing from ``shop``: a pending consent with a
    fresh nonce (older links stop working) and the mail with the signed link, sent by the
    worker after commit. A confirmed or suppressed address is refused."""
    from ..selectors_audience import buyer_preference_on, is_suppressed
    from ..tasks import double_opt_in_send_task

    at = at or clock.now()
    email = normalize_email(email)
    if is_suppressed(shop, email, at=at):
        raise DomainError(
            _("This address is on your suppression list."),
            code="mailing_doi_suppressed",
        )
    with transaction.atomic():
        row = Consent.objects.select_for_update().filter(shop=shop, email=email).first()
        if row is not None and row.status == ConsentStatus.CONFIRMED:
            raise DomainError(
                _("This address has already confirmed."),
                code="mailing_doi_confirmed",
            )
        if row is None:
            row = Consent(
                shop=shop, email=email, source=source, granted_at=at, ip=ip, buyer_id=buyer_id
            )
        row.status = ConsentStatus.PENDING
        row.requested_at = at
        row.nonce = secrets.token_hex(8)
        row.buyer_preference_on = buyer_preference_on(shop=shop, email=email)
        row.save()
        token = confirmation_token(row)
        double_opt_in_send_task.delay_on_commit(row.pk, token)
    return ConfirmationRequest(consent=row, token=token)


def consent_from_token(token: str) -> Consent:
    """The pending consent a confirmation link names; ``DomainError`` for a tampered, expired
    or superseded link."""
    try:
        data = signing.loads(
            token,
            salt=CONFIRMATION_SALT,
            max_age=timedelta(days=rules.confirmation_link_days()),
        )
    except signing.SignatureExpired:
        raise DomainError(
            _("This confirmation link has expired."),
            code="mailing_doi_expired",
        ) from None
    except signing.BadSignature:
        raise DomainError(
            _("This confirmation link is not valid."),
            code="mailing_doi_invalid",
        ) from None
    row = Consent.objects.filter(pk=data.get("c")).select_related("shop").first()
    if row is None or not row.nonce or row.nonce != data.get("n"):
        raise DomainError(
            _("This confirmation link is not valid."),
            code="mailing_doi_invalid",
        )
    return row


def double_opt_in_confirm(*, token: str, ip: str | None, at: datetime | None = None) -> Consent:
    """SPEC M-3: the recipient confirms (a POST from the confirmation page; a GET never
    confirms): status confirmed with the time and IP as evidence. Confirming twice is
    harmless."""
    from ..selectors_audience import buyer_preference_on

    at = at or clock.now()
    row = consent_from_token(token)
    shop = row.shop
    with transaction.atomic():
        row = Consent.objects.select_for_update().get(pk=row.pk)
        if row.status != ConsentStatus.CONFIRMED:
            row.status = ConsentStatus.CONFIRMED
            row.confirmed_at = at
            row.confirmed_ip = ip
            # SPEC M-3: confirmed while the buyer's own preference is on → switching it off
            # later withdraws this consent.
            row.buyer_preference_on = buyer_preference_on(shop=shop, email=row.email)
            row.save(
                update_fields=["status", "confirmed_at", "confirmed_ip", "buyer_preference_on"]
            )
    return row


def double_opt_in_request_awaiting(*, shop: Shop, at: datetime | None = None) -> int:
    """SPEC M-3: a confirmation request to every buyer of ``shop`` awaiting double opt-in,
    except those asked within the link's validity (a request is not repeated while its link
    still works). Streams the buyers; returns how many were asked. Safe to run twice."""
    from .. import segments
    from ..selectors_audience import audience_page_queryset

    at = at or clock.now()
    recent = at - timedelta(days=rules.confirmation_link_days())
    asked_recently = set(
        Consent.objects.filter(shop=shop, requested_at__gt=recent).values_list("email", flat=True)
    )
    rows = (
        audience_page_queryset(shop=shop, consent=segments.CONSENT_AWAITING, at=at)
        .values_list("buyer_id", "buyer_email")
        .order_by("buyer_id")
    )
    n = 0
    for buyer_id, email in rows.iterator(chunk_size=500):
        if not email or email in asked_recently:
            continue
        try:
            double_opt_in_request(shop=shop, email=email, buyer_id=buyer_id, at=at)
            n += 1
        except DomainError:
            continue  # suppressed or confirmed meanwhile
    return n
