"""Reads of the audience (SPEC B-8 CRM, M-3 suppression, M-4 segments, M-13 imports).

Every function taking an id also takes the shop and raises Http404 for another shop's row.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from coins.selectors import wallet_balance
from core import clock
from shops.models import Shop

from . import rules, segments
from .models import Consent, ContactImport, ImportAllowance, Segment, Suppression

# The audience list's sort orders: all columns one direction, ending in the unique buyer id
# (core.pagination keyset pages).
AUDIENCE_SORTS = {
    "-last_order": ("-last_order_at", "-buyer_id"),
    "-spend": ("-spend_minor", "-buyer_id"),
    "-orders": ("-orders", "-buyer_id"),
    "-buyer": ("-buyer_id",),
}


def is_suppressed(shop: Shop, email: str, *, at: datetime | None = None) -> bool:
    """SPEC M-3: whether ``shop`` must not mail ``email`` now (an unexpired suppression)."""
    from .services.audience import normalize_email

    at = at or clock.now()
    return (
        Suppression.objects.filter(shop=shop, email=normalize_email(email))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
        .exists()
    )


def buyer_preference_on(*, shop: Shop, email: str) -> bool:
    """Whether ``email`` is a buyer of ``shop`` whose own marketing-email preference is on now
    (read as the audience reads it: the orders module's buyer summaries; SPEC M-3)."""
    from orders.selectors import buyer_summaries

    return (
        buyer_summaries(shop=shop, lean=True)
        .filter(buyer__email=email, buyer__marketing_email_opt_in=True)
        .exists()
    )


def audience_page_queryset(
    *,
    shop: Shop,
    definition: segments.SegmentDefinition = segments.ALL,
    consent: str = "",
    q: str = "",
    search_contacts: bool = False,
    sort: str = "-last_order",
    at: datetime | None = None,
) -> QuerySet:
    """SPEC B-8: the shop's buyers with orders, spend, last order, repeat flag, RFM group, coin
    balance and consent state, filtered by a segment definition, a consent state and a search
    (buyer id, or the contact for roles that may see contacts). One query per page."""
    at = at or clock.now()
    numbers = rules.audience_numbers()
    qs = segments.audience(shop=shop, definition=definition, at=at, numbers=numbers).annotate(
        consent_state=segments.consent_state(shop=shop, at=at, numbers=numbers),
        coins=wallet_balance(shop=shop, buyer_ref=OuterRef("buyer_id")),
        consent_source=Subquery(
            Consent.objects.filter(shop=shop, email=OuterRef("buyer_email")).values("source")[:1]
        ),
    )
    if consent in segments.CONSENT_STATES:
        qs = qs.filter(consent_state=consent)
    q = q.strip()
    if q:
        term = Q(buyer_external_id=q)
        if search_contacts:
            term |= Q(buyer_email__istartswith=q) | Q(buyer_phone__startswith=q)
        qs = qs.filter(term)
    return qs.order_by(*AUDIENCE_SORTS.get(sort, AUDIENCE_SORTS["-last_order"]))


def get_buyer_for_shop(*, shop: Shop, buyer_id: int, at: datetime | None = None) -> dict:
    """One buyer's audience row (Http404 unless the buyer has an order in ``shop``)."""
    row = audience_page_queryset(shop=shop, at=at).filter(buyer_id=buyer_id).first()
    if row is None:
        raise Http404("No such buyer in this shop.")
    return row


def consent_for(*, shop: Shop, email: str | None) -> Consent | None:
    if not email:
        return None
    return Consent.objects.filter(shop=shop, email=email).select_related("contact_import").first()


def suppression_for(*, shop: Shop, email: str | None) -> Suppression | None:
    if not email:
        return None
    return Suppression.objects.filter(shop=shop, email=email).first()


def suppressions_for_shop(
    *, shop: Shop, reason: str = "", active_only: bool = False, at: datetime | None = None
) -> QuerySet[Suppression]:
    at = at or clock.now()
    qs = Suppression.objects.filter(shop=shop)
    if reason:
        qs = qs.filter(reason=reason)
    if active_only:
        qs = qs.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
    return qs.order_by("-created_at", "-id")


def segments_for_shop(*, shop: Shop) -> QuerySet[Segment]:
    return Segment.objects.filter(shop=shop).order_by("-builtin", "name", "id")


def get_segment_for_shop(*, shop: Shop, segment_id: int) -> Segment:
    try:
        return Segment.objects.get(shop=shop, pk=segment_id)
    except (Segment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such segment in this shop.") from None


def has_builtin_segment(*, shop: Shop) -> bool:
    return Segment.objects.filter(shop=shop, builtin=True).exists()


def import_allowed(*, shop: Shop) -> bool:
    """SPEC M-13: whether a platform admin allows ``shop`` to import contacts."""
    return ImportAllowance.objects.filter(shop=shop).exists()


def imports_for_shop(*, shop: Shop) -> QuerySet[ContactImport]:
    return ContactImport.objects.filter(shop=shop).defer("content").order_by("-created_at", "-id")


def get_import_for_shop(*, shop: Shop, import_id: int) -> ContactImport:
    try:
        return ContactImport.objects.get(shop=shop, pk=import_id)
    except (ContactImport.DoesNotExist, ValueError, TypeError):
        raise Http404("No such import in this shop.") from None
