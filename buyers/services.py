"""Buyer identity writes. Registration flows (SPEC B-1..B-7) build on these."""

from datetime import datetime

import phonenumbers
from django.db import IntegrityError, transaction

from core.errors import DomainError

from .models import Buyer, RiskStatus, Site


class InvalidContact(DomainError):
    code = "invalid_contact"


class ContactTaken(DomainError):
    code = "contact_taken"


def normalize_email(value: str | None) -> str | None:
    """SPEC B-3: emails are compared case-folded."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    local, sep, domain = value.rpartition("@")
    if not sep or not local or "." not in domain or " " in value:
        raise InvalidContact(f"{value!r} is not an email address.")
    return value.casefold()


def normalize_phone(value: str | None) -> str | None:
    """SPEC B-1/B-3: phones are stored E.164 (+86…, +1…, +7…)."""
    if value is None or not value.strip():
        return None
    try:
        parsed = phonenumbers.parse(value.strip(), None)
    except phonenumbers.NumberParseException:
        raise InvalidContact(
            f"{value!r} is not a phone number in international form (+86…)."
        ) from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidContact(f"{value!r} is not a possible phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def buyer_upsert(
    *,
    external_id: str,
    email: str | None = None,
    phone: str | None = None,
    country: str,
    site: str = Site.GLOBAL,
    device_id: str = "",
    registered_at: datetime,
    risk_status: str = RiskStatus.OK,
) -> Buyer:
    """Create or update a buyer from the marketplace. A contact used by another buyer is refused."""
    email_n = normalize_email(email)
    phone_n = normalize_phone(phone)
    if not email_n and not phone_n:
        raise InvalidContact("A buyer needs an email address or a phone number.")
    if site not in Site.values:
        raise DomainError(f"Unknown site {site!r}.", code="invalid_site")
    if len(country) != 2 or not country.isalpha():
        raise DomainError(
            f"Country must be a two-letter ISO code, not {country!r}.", code="invalid_country"
        )
    fields = {
        "email": email_n,
        "phone": phone_n,
        "country": country.upper(),
        "site": site,
        "device_id": device_id,
        "registered_at": registered_at,
        "risk_status": risk_status,
    }
    try:
        with transaction.atomic():
            buyer, _created = Buyer.objects.update_or_create(
                external_id=external_id, defaults=fields
            )
    except IntegrityError:
        raise ContactTaken("That email or phone number already belongs to another buyer.") from None
    return buyer
