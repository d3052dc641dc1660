"""Writes of segments (SPEC M-4): save and delete a shop's segments."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.errors import DomainError
from shops.models import Shop

from ..models import Segment
from ..segments import SegmentDefinition
from ..selectors_audience import get_segment_for_shop


def segment_save(
    *,
    shop: Shop,
    name: str,
    definition: SegmentDefinition,
    segment_id: int | None = None,
) -> Segment:
    """Create or update a segment of ``shop``; names are unique per shop (the database says so
    under concurrent saves too); the built-in segment is not editable."""
    name = name.strip()
    if not name:
        raise DomainError(_("Give the segment a name."), code="mailing_segment_name")
    segment = (
        get_segment_for_shop(shop=shop, segment_id=segment_id) if segment_id else Segment(shop=shop)
    )
    if segment.builtin:
        raise DomainError(
            _("The built-in segment cannot be changed."), code="mailing_segment_builtin"
        )
    segment.name = name
    segment.definition = definition.to_json()
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:
        raise DomainError(
            _("Another segment already has this name."), code="mailing_segment_name_taken"
        ) from None
    return segment


def segment_delete(*, shop: Shop, segment_id: int) -> None:
    segment = get_segment_for_shop(shop=shop, segment_id=segment_id)
    if segment.builtin:
        raise DomainError(
            _("The built-in segment cannot be deleted."), code="mailing_segment_builtin"
        )
    segment.delete()
