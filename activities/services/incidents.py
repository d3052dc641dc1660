"""Carrier incidents declared by admins (SPEC E-3a)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from core.errors import DomainError
from shops.models import Carrier

from ..models import CarrierIncident


@dataclass(frozen=True)
class IncidentInput:
    carrier: str
    region: str  # upper-case ISO country code as orders store it, or "" for every country
    starts_at: datetime
    ends_at: datetime
    reason: str


def incident_validate(
    *, carrier: str, region: str, starts_at: datetime, ends_at: datetime, reason: str
) -> IncidentInput:
    """An incident's fields checked and normalised, or ``DomainError`` naming the first bad
    one (its ``code``). Every way in — the service, the admin form — goes through here: the
    region is matched against the orders' ship-to country, stored upper-case, so "fr" must
    become "FR" or the incident would exempt nothing."""
    if carrier not in Carrier.values:
        raise DomainError(f"Unknown carrier {carrier!r}.", code="invalid_carrier")
    region = (region or "").strip().upper()
    if region and not (len(region) == 2 and region.isascii() and region.isalpha()):
        raise DomainError("The region is a two-letter country code.", code="invalid_region")
    if ends_at <= starts_at:
        raise DomainError("An incident must end after it starts.", code="invalid_window")
    if not (reason or "").strip():
        raise DomainError("Say what happened.", code="invalid_reason")
    return IncidentInput(
        carrier=carrier, region=region, starts_at=starts_at, ends_at=ends_at, reason=reason.strip()
    )


@transaction.atomic
def incident_declare(
    *, carrier: str, region: str, starts_at: datetime, ends_at: datetime, reason: str
) -> CarrierIncident:
    """Declare that ``carrier`` failed shipments to ``region`` ("" = everywhere) over a window:
    orders placed in it leave the late-shipment and logistics anomaly rates from the next
    evaluation on, and the evidence of any exit says so."""
    data = incident_validate(
        carrier=carrier, region=region, starts_at=starts_at, ends_at=ends_at, reason=reason
    )
    return CarrierIncident.objects.create(
        carrier=data.carrier,
        region=data.region,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        reason=data.reason,
    )
