"""Carrier incidents declared by admins (SPEC E-3a)."""

from datetime import datetime

from django.db import transaction

from core.errors import DomainError
from shops.models import Carrier

from ..models import CarrierIncident


@transaction.atomic
def incident_declare(
    *, carrier: str, region: str, starts_at: datetime, ends_at: datetime, reason: str
) -> CarrierIncident:
    """Declare that ``carrier`` failed shipments to ``region`` ("" = everywhere) over a window:
    orders placed in it leave the late-shipment and logistics anomaly rates from the next
    evaluation on, and the evidence of any exit says so."""
    if carrier not in Carrier.values:
        raise DomainError(f"Unknown carrier {carrier!r}.", code="invalid_carrier")
    region = (region or "").strip().upper()
    if region and len(region) != 2:
        raise DomainError("The region is a two-letter country code.", code="invalid_region")
    if ends_at <= starts_at:
        raise DomainError("An incident must end after it starts.", code="invalid_window")
    if not reason.strip():
        raise DomainError("Say what happened.", code="invalid_reason")
    return CarrierIncident.objects.create(
        carrier=carrier, region=region, starts_at=starts_at, ends_at=ends_at, reason=reason.strip()
    )
