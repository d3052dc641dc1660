"""Buyer accounts (SPEC B-1 … B-7): registration, verification codes, sign-in, password reset,
contact changes, the low-activity flag.

The public door: every input is hostile. Contacts are parsed strictly (``parse_contact``);
answers that could tell whether an account exists are the same for every contact — a code row
is written and a delivery is queued for every request, a password is hashed on every
registration and checked against a dummy hash for unknown contacts.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import (
    MinimumLengthValidator,
    get_default_password_validators,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from core import clock, ratelimit
from core.errors import DomainError

from .. import rules
from ..models import (
    Buyer,
    Channel,
    CodePurpose,
    ContactChange,
    RiskStatus,
    Site,
    Source,
    VerificationCode,
)
from .identity import ContactTaken, InvalidContact, buyers_risk_flag

MAX_CONTACT_INPUT = 254
MAX_PASSWORD = 128
MAX_DEVICE_ID = 128
_DEVICE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_CODE = re.compile(r"[0-9]{6}")
# An ASCII address: look-alike letters from other scripts (Cyrillic "а", Greek "ο") and mixed
# scripts are refused, so two addresses that look the same are the same address (B-3).
_EMAIL_ASCII = re.compile(r"[\x21-\x7e]+")


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    http_status = 401


class RateLimited(DomainError):
    code = "rate_limited"
    http_status = 429


class InvalidInput(DomainError):
    code = "invalid_input"


class PasswordRejected(DomainError):
    code = "invalid_password"


@dataclass(frozen=True)
class Contact:
    channel: str  # Channel
    value: str  # normalised: case-folded email or E.164 phone

    @property
    def field(self) -> str:
        return "email" if self.channel == Channel.EMAIL else "phone"


def parse_contact(raw: str | None) -> Contact:
    """An email address or an international phone number, normalised (SPEC B-1, B-3)."""
    value = (raw or "").strip()
    if not value:
        raise InvalidContact(_("Enter an email address or a phone number."))
    if len(value) > MAX_CONTACT_INPUT:
        raise InvalidContact(_("That is too long for an email address or a phone number."))
    if "@" in value:
        if not _EMAIL_ASCII.fullmatch(value):
            raise InvalidContact(
                _("Use an email address written in Latin letters, digits and symbols only.")
            )
        try:
            validate_email(value)
        except ValidationError:
            raise InvalidContact(_("Enter a valid email address.")) from None
        return Contact(Channel.EMAIL, value.casefold())
    if len(value) > 32 or not value.startswith("+"):
        raise InvalidContact(
            _("Enter the phone number in international form, starting with + and the country code.")
        )
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise InvalidContact(_("That is not a valid phone number (e.g. +86 138 0013 8000)."))
    return Contact(
        Channel.SMS, phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    )


def check_password_strength(password: str) -> None:
    """SPEC B-1: Django's validators (common passwords, all digits …) with the registry length."""
    if len(password) > MAX_PASSWORD:
        raise PasswordRejected(_("The password is too long (at most 128 characters)."))
    validators = [
        v for v in get_default_password_validators() if not isinstance(v, MinimumLengthValidator)
    ]
    validators.append(MinimumLengthValidator(min_length=rules.password_min_length()))
    try:
        validate_password(password, user=None, password_validators=validators)
    except ValidationError as exc:
        raise PasswordRejected(" ".join(exc.messages)) from None


def _check_country(country: str) -> str:
    country = (country or "").strip().upper()
    if country not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(_("Choose your country (two-letter code such as CN, US, FR)."))
    return country


def _check_device(device_id: str) -> str:
    device_id = (device_id or "").strip()
    if device_id and not _DEVICE_ID.fullmatch(device_id):
        raise InvalidInput(_("The device id is not valid."))
    return device_id


def _limits_request(ip: str | None) -> HttpRequest:
    # core.ratelimit counts per key; the keys here are strings (contact, IP), so the request
    # object only carries the address for django-ratelimit's bookkeeping.
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = ip or "0.0.0.0"  # noqa: S104
    return request


def _ip_key(ip: str | None) -> str:
    return f"ip:{ip or '-'}"


# --- codes (SPEC B-2) -------------------------------------------------------------------------


def _code_hash(*, contact: Contact, purpose: str, code: str) -> str:
    return salted_hmac(
        "buyers.code", f"{purpose}:{contact.value}:{code}", algorithm="sha256"
    ).hexdigest()


@dataclass(frozen=True)
class CodeRequested:
    channel: str
    resend_after: int  # seconds
    # The code drawn, for in-process callers that deliver it themselves (the demo verifies its
    # own accounts); never part of an answer, never in a repr or a log line.
    code: str = field(default="", repr=False, compare=False)


def code_request(
    *,
    contact: Contact,
    purpose: str,
    ip: str | None,
    buyer: Buyer | None = None,
    country: str = "",
    device_id: str = "",
    taken: bool = False,
    now: datetime | None = None,
    deliver: bool = True,
) -> CodeRequested:
    """Write a new code for ``contact`` and queue its delivery (SPEC B-2).

    The answer and the work done are the same whether or not an account is behind the contact:
    rate limits and the resend delay count every request, a row is always written and a delivery
    always queued; the delivery task decides what (if anything) goes out.
    ``buyer``: for a contact change, the signed-in buyer (the code goes to the new contact).
    ``taken``: a registration just refused because the contact has an account: its owner gets a
    notice, never a code (a code would let the contact's owner verify an account someone else
    opened with their address and a password of their choosing).
    ``now``: when the request happens (backfills and the demo's history; default the clock).
    ``deliver``: False for contacts that cannot receive anything (the demo's fake addresses):
    the row is written, nothing is queued, and the caller gets the code in the result.
    """
    if purpose not in CodePurpose.values:
        raise InvalidInput(f"Unknown purpose {purpose!r}.")
    limits = _limits_request(ip)
    over_contact = ratelimit.hit(
        limits,
        group="buyers.codes.contact",
        key=contact.value,
        rate=rules.codes_per_contact_rate(),
    )
    over_ip = ratelimit.hit(
        limits, group="buyers.codes.ip", key=_ip_key(ip), rate=rules.codes_per_ip_rate()
    )
    if over_contact or over_ip:
        raise RateLimited(_("Too many codes requested; try again later."))
    now = now or clock.now()
    with transaction.atomic():
        last = (
            VerificationCode.objects.filter(contact=contact.value, purpose=purpose)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        rules.check_resend_allowed(last_sent_at=last, now=now)
        owner = Buyer.objects.filter(**{contact.field: contact.value}).first()
        kind = _delivery_kind(contact=contact, purpose=purpose, owner=owner, buyer=buyer)
        if taken and owner is not None:
            kind = "notice"
        code = f"{secrets.randbelow(10**6):06d}"
        row = VerificationCode.objects.create(
            channel=contact.channel,
            contact=contact.value,
            purpose=purpose,
            # Only a code that goes out can verify anything: a notice's or an unsent row's
            # code belongs to nobody.
            buyer=(buyer if purpose == CodePurpose.CHANGE else owner) if kind == "code" else None,
            code_hash=_code_hash(contact=contact, purpose=purpose, code=code),
            sent=kind == "code",
            created_at=now,
            ip=ip or None,
            country=(country or "")[:2].upper(),
            device_id=(device_id or "")[:MAX_DEVICE_ID],
        )
    from integrations.services import encrypt_secret as seal

    from ..tasks import buyers_code_deliver_task

    # The code travels to the worker sealed (Fernet): never in plain text in the broker,
    # never in a log line. Queued for every request, even with nothing to send (same cost).
    if deliver:
        buyers_code_deliver_task.delay_on_commit(row.pk, kind, seal(code))
    return CodeRequested(
        channel=contact.channel,
        resend_after=int(rules.code_resend_after().total_seconds()),
        code=code,
    )


def _delivery_kind(*, contact: Contact, purpose: str, owner: Buyer | None, buyer) -> str:
    """What goes out for a code request: ``code``, ``notice`` (someone used your contact to
    register) or ``none`` (nobody to write to)."""
    if purpose == CodePurpose.REGISTER:
        if owner is None:
            return "none"
        if _verified(owner, contact):
            return "notice"
        if _contested(owner, contact):
            # Someone registered this contact again while the account was unverified (its
            # owner got a notice): the account is claimed by a password reset only, which the
            # contact's owner alone can do. A registration code for it would let whoever
            # holds the contact verify an account another person set the password of.
            return "none"
        return "code"
    if purpose == CodePurpose.RESET:
        return "code" if owner is not None else "none"
    # CHANGE: to the new contact, unless another buyer holds it (the change would fail anyway).
    if buyer is None or (owner is not None and owner.pk != buyer.pk):
        return "none"
    return "code"


def _contested(owner: Buyer, contact: Contact) -> bool:
    """A registration code that belongs to nobody (a refused second registration's notice, or a
    request after one) was written for ``contact`` since ``owner`` registered."""
    return VerificationCode.objects.filter(
        contact=contact.value,
        purpose=CodePurpose.REGISTER,
        buyer__isnull=True,
        created_at__gte=owner.registered_at,
    ).exists()


def _verified(buyer: Buyer, contact: Contact) -> bool:
    if contact.channel == Channel.EMAIL:
        return buyer.email_verified_at is not None
    return buyer.phone_verified_at is not None


def code_verify(
    *, contact: Contact, purpose: str, code: str, ip: str | None, now: datetime | None = None
) -> VerificationCode:
    """Use the latest code of ``contact`` for ``purpose`` (SPEC B-2): single use, within its
    lifetime, at most ``code_max_attempts()`` tries (the next is refused even when right).

    Every try is counted in its own committed transaction before the answer, so a refusal
    still counts; failures also count per IP (parallel guessing over many contacts).
    """
    limits = _limits_request(ip)
    rate = rules.code_failures_per_ip_rate()
    if ratelimit.exceeded(limits, group="buyers.codes.fail", key=_ip_key(ip), rate=rate):
        raise RateLimited(_("Too many wrong codes from your network; try again later."))
    code = (code or "").strip()
    wanted = _code_hash(contact=contact, purpose=purpose, code=code)
    now = now or clock.now()
    refusal: DomainError | None = None
    with transaction.atomic():
        row = (
            VerificationCode.objects.select_for_update()
            .filter(contact=contact.value, purpose=purpose)
            .order_by("-created_at", "-pk")
            .first()
        )
        if row is None:
            refusal = rules.CodeInvalid(_("That code is not right."))
        else:
            try:
                rules.check_code_usable(
                    created_at=row.created_at, used_at=row.used_at, attempts=row.attempts, now=now
                )
            except DomainError as exc:
                refusal = exc
            else:
                row.attempts += 1
                right = bool(_CODE.fullmatch(code)) and constant_time_compare(wanted, row.code_hash)
                if right:
                    row.used_at = now
                else:
                    left = max(rules.code_max_attempts() - row.attempts, 0)
                    refusal = rules.CodeInvalid(
                        _("That code is not right (%(left)s attempts left).") % {"left": left}
                    )
                VerificationCode.objects.filter(pk=row.pk).update(
                    attempts=row.attempts, used_at=row.used_at
                )
    if refusal is not None:
        ratelimit.hit(limits, group="buyers.codes.fail", key=_ip_key(ip), rate=rate)
        raise refusal
    assert row is not None
    return row


# --- registration (SPEC B-1, B-3, B-4, B-5) ---------------------------------------------------


@dataclass(frozen=True)
class RegistrationResult:
    buyer: Buyer
    risk_review: bool  # SPEC B-4: created in risk review, and told so
    code: CodeRequested | None = None


def buyer_register(
    *,
    contact: Contact,
    password: str,
    country: str,
    site: str = Site.GLOBAL,
    device_id: str = "",
    ip: str | None = None,
    ip_country: str | None = None,
    marketing_email_opt_in: bool = False,
    external_id: str | None = None,
    now: datetime | None = None,
) -> RegistrationResult:
    """Create a self-registered buyer (unverified) and send the verification code.

    Refuses with ``ContactTaken`` when the contact belongs to a buyer (B-3: the database's
    unique indexes decide, so of two concurrent registrations exactly one wins). The public
    surfaces turn that refusal into the same answer as a success (no enumeration) — see
    ``buyer_register_public``.
    ``external_id`` and ``now`` default to a random id and the clock; an import or the demo's
    history gives its own (the demo's ids come from its seed, so a seed gives the same rows).
    """
    country = _check_country(country)
    if site not in Site.values:
        raise InvalidInput(_("Unknown site."))
    device_id = _check_device(device_id)
    check_password_strength(password)
    password_hash = make_password(password)  # before any lookup: same cost for every contact
    mismatch = rules.country_mismatch(declared=country, ip_country=ip_country)
    now = now or clock.now()
    try:
        with transaction.atomic():
            buyer = Buyer.objects.create(
                external_id=external_id or f"sc-{secrets.token_hex(12)}",
                source=Source.SIGNUP,
                password=password_hash,
                country=country,
                site=site,
                device_id=device_id,
                registered_at=now,
                registration_ip=ip or None,
                ip_country=(ip_country or "").upper()[:2],
                marketing_email_opt_in=marketing_email_opt_in,
                **{contact.field: contact.value},
            )
            if mismatch:
                buyers_risk_flag(
                    buyer_ids=[buyer.pk],
                    status=RiskStatus.RISK_REVIEW,
                    reason=f"B-4: IP country {ip_country} differs from declared {country}.",
                )
            if device_id:
                _device_check(device_id=device_id, now=now)
    except IntegrityError:
        raise ContactTaken(_("That email or phone number already belongs to an account.")) from None
    buyer.refresh_from_db()
    return RegistrationResult(buyer=buyer, risk_review=buyer.risk_status != RiskStatus.OK)


def _device_check(*, device_id: str, now: datetime) -> None:
    """SPEC B-5: more than N registrations from one device in the window flags them all."""
    if connection.vendor == "postgresql":
        # Serialises registrations of one device, so two concurrent ones cannot both count
        # below the limit.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"buyers.device:{device_id}"]
            )
    ids = list(
        Buyer.objects.filter(
            device_id=device_id, registered_at__gt=now - rules.device_window()
        ).values_list("pk", flat=True)
    )
    if rules.device_flags_all(registrations_in_window=len(ids)):
        buyers_risk_flag(
            buyer_ids=ids,
            status=RiskStatus.SUSPECTED_FRAUD,
            reason=f"B-5: {len(ids)} registrations from one device within "
            f"{rules.device_window().days} days.",
        )


def buyer_register_public(
    *,
    contact: Contact,
    password: str,
    country: str,
    site: str = Site.GLOBAL,
    device_id: str = "",
    ip: str | None = None,
    ip_country: str | None = None,
    marketing_email_opt_in: bool = False,
) -> RegistrationResult | None:
    """Registration as the API and the pages answer it: a taken contact answers like a new one
    (the owner receives a notice instead of a code). Returns None for a taken contact.

    Input errors (bad password, country, rate limits) are raised before anything is written.
    """
    limits = _limits_request(ip)
    # SPEC B-2: both limits ``code_request`` counts below, looked at before the buyer is
    # created — a registration its code cannot follow is refused whole (nothing written), never
    # left as an account without a code (a retry of it would only send the "taken" notice).
    for group, key, rate in (
        ("buyers.codes.ip", _ip_key(ip), rules.codes_per_ip_rate()),
        ("buyers.codes.contact", contact.value, rules.codes_per_contact_rate()),
    ):
        if ratelimit.exceeded(limits, group=group, key=key, rate=rate):
            raise RateLimited(_("Too many codes requested; try again later."))
    try:
        result = buyer_register(
            contact=contact,
            password=password,
            country=country,
            site=site,
            device_id=device_id,
            ip=ip,
            ip_country=ip_country,
            marketing_email_opt_in=marketing_email_opt_in,
        )
    except ContactTaken:
        result = None
    try:
        sent = code_request(
            contact=contact,
            purpose=CodePurpose.REGISTER,
            ip=ip,
            country=(ip_country or country or "")[:2],
            device_id=device_id,
            taken=result is None,
        )
    except rules.ResendTooSoon:
        sent = None  # registered: the earlier code still works, a resend comes later
    if result is None:
        return None
    return RegistrationResult(buyer=result.buyer, risk_review=result.risk_review, code=sent)


def buyer_verify_contact(
    *, contact: Contact, code: str, ip: str | None, now: datetime | None = None
) -> Buyer:
    """SPEC B-2: the registration code proves the contact; the buyer's contact is verified."""
    now = now or clock.now()
    row = code_verify(contact=contact, purpose=CodePurpose.REGISTER, code=code, ip=ip, now=now)
    if row.buyer_id is None:
        raise rules.CodeInvalid(_("That code is not right."))
    stamp = "email_verified_at" if contact.channel == Channel.EMAIL else "phone_verified_at"
    updated = Buyer.objects.filter(pk=row.buyer_id, **{contact.field: contact.value}).update(
        **{stamp: now}
    )
    if not updated:
        raise rules.CodeInvalid(_("That code is not right."))
    return Buyer.objects.get(pk=row.buyer_id)


# --- sign-in and password ---------------------------------------------------------------------

_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(make_password(secrets.token_urlsafe(16)))
    return _DUMMY_HASH[0]


def buyer_authenticate(*, contact: Contact, password: str, ip: str | None) -> Buyer:
    """The buyer whose contact and password these are, or ``InvalidCredentials``.

    Failures count per contact and per IP (the seller sign-in limits); while a limit is
    reached even the right password is refused. An unknown contact costs one hash check too.
    """
    from django.conf import settings

    limits = _limits_request(ip)
    per_contact = ("buyers.login.contact", contact.value, settings.SC_LOGIN_FAILURES_PER_ACCOUNT)
    per_ip = ("buyers.login.ip", _ip_key(ip), settings.SC_LOGIN_FAILURES_PER_IP)
    for group, key, rate in (per_contact, per_ip):
        if ratelimit.exceeded(limits, group=group, key=key, rate=rate):
            raise RateLimited(_("Too many failed sign-ins; try again later."))
    buyer = Buyer.objects.filter(**{contact.field: contact.value}).first()
    ok = False
    if buyer is not None and buyer.password:
        ok = check_password(password[:MAX_PASSWORD], buyer.password, setter=_rehash(buyer))
    else:
        check_password(password[:MAX_PASSWORD], _dummy_hash())
    if not ok or buyer is None:
        for group, key, rate in (per_contact, per_ip):
            ratelimit.hit(limits, group=group, key=key, rate=rate)
        raise InvalidCredentials(_("The contact or the password is not right."))
    return buyer


def _rehash(buyer: Buyer):
    def setter(raw: str) -> None:  # an older hasher's hash is upgraded to Argon2 on sign-in
        Buyer.objects.filter(pk=buyer.pk).update(password=make_password(raw))

    return setter


def buyer_password_reset(
    *, contact: Contact, code: str, new_password: str, ip: str | None
) -> Buyer:
    """SPEC B-7: a forgotten password is reset by a code sent to the contact."""
    check_password_strength(new_password)
    row = code_verify(contact=contact, purpose=CodePurpose.RESET, code=code, ip=ip)
    if row.buyer_id is None:
        raise rules.CodeInvalid(_("That code is not right."))
    stamp = "email_verified_at" if contact.channel == Channel.EMAIL else "phone_verified_at"
    with transaction.atomic():
        buyer = Buyer.objects.select_for_update().get(pk=row.buyer_id)
        fields: dict[str, object] = {"password": make_password(new_password)}
        if getattr(buyer, stamp) is None:
            fields[stamp] = clock.now()  # the code proved the contact
        Buyer.objects.filter(pk=buyer.pk).update(**fields)
    buyer.refresh_from_db()
    return buyer


def buyer_marketing_set(*, buyer: Buyer, opt_in: bool) -> Buyer:
    """The buyer's marketing-email consent (honoured by the mailing module)."""
    Buyer.objects.filter(pk=buyer.pk).update(marketing_email_opt_in=bool(opt_in))
    buyer.marketing_email_opt_in = bool(opt_in)
    return buyer


# --- contact changes (SPEC B-7) ---------------------------------------------------------------


def _change_times(buyer: Buyer) -> list[datetime]:
    window_start = clock.now() - rules.contact_change_window()
    return list(
        ContactChange.objects.filter(buyer=buyer, changed_at__gt=window_start).values_list(
            "changed_at", flat=True
        )
    )


def contact_change_request(
    *, buyer: Buyer, new_contact: Contact, password: str, ip: str | None
) -> CodeRequested:
    """Step 1: the current password, the limits, then a code to the new contact."""
    if not buyer.password or not check_password(password[:MAX_PASSWORD], buyer.password):
        raise InvalidCredentials(_("The current password is not right."))
    rules.check_contact_change_allowed(previous_changes=_change_times(buyer), now=clock.now())
    if getattr(buyer, new_contact.field) == new_contact.value:
        raise InvalidInput(_("That is already your contact."))
    return code_request(contact=new_contact, purpose=CodePurpose.CHANGE, ip=ip, buyer=buyer)


def contact_change_confirm(
    *, buyer: Buyer, new_contact: Contact, code: str, ip: str | None
) -> ContactChange:
    """Step 2: the code sent to the new contact; the change is made, recorded, and the old
    contact is told (with a link to report it)."""
    row = code_verify(contact=new_contact, purpose=CodePurpose.CHANGE, code=code, ip=ip)
    if row.buyer_id != buyer.pk:
        raise rules.CodeInvalid(_("That code is not right."))
    now = clock.now()
    try:
        with transaction.atomic():
            locked = Buyer.objects.select_for_update().get(pk=buyer.pk)
            rules.check_contact_change_allowed(previous_changes=_change_times(locked), now=now)
            old = getattr(locked, new_contact.field) or ""
            stamp = (
                "email_verified_at" if new_contact.channel == Channel.EMAIL else "phone_verified_at"
            )
            Buyer.objects.filter(pk=locked.pk).update(
                **{new_contact.field: new_contact.value, stamp: now}
            )
            change = ContactChange.objects.create(
                buyer=locked,
                channel=new_contact.channel,
                old_value=old,
                new_value=new_contact.value,
                changed_at=now,
                ip=ip or None,
                report_token=secrets.token_urlsafe(32),
            )
    except IntegrityError:
        raise ContactTaken(_("That email or phone number already belongs to an account.")) from None
    if change.old_value:
        from ..tasks import buyers_change_notice_task

        buyers_change_notice_task.delay_on_commit(change.pk)
    buyer.refresh_from_db()
    return change


def contact_change_report(*, token: str) -> ContactChange:
    """The old contact says "this was not me": the buyer goes to risk review."""
    change = ContactChange.objects.filter(report_token=token).first()
    if change is None or not token:
        raise DomainError(_("This link is not valid."), code="not_found")
    with transaction.atomic():
        updated = ContactChange.objects.filter(pk=change.pk, reported_at__isnull=True).update(
            reported_at=clock.now()
        )
        if updated:
            buyers_risk_flag(
                buyer_ids=[change.buyer_id],
                status=RiskStatus.RISK_REVIEW,
                reason=f"B-7: the previous {change.channel} reported a change it did not make.",
            )
    change.refresh_from_db()
    return change


# --- activity (SPEC B-6) ----------------------------------------------------------------------


def buyer_first_payment_record(*, buyer_id: int, paid_at: datetime) -> bool:
    """The buyer's first payment (from the order event log). Idempotent; True when recorded.

    SPEC B-6 is decided by when the buyer paid, not by when the payment's event was handled:
    a self-registered buyer who paid within ``low_activity_after()`` of registering is not low
    activity, even when the job flagged them before the event arrived (the flag is cleared);
    one who first paid after it is, even when the event arrived before the job ran (the job
    only looks at buyers with no payment). The same test as ``rules.low_activity_due``
    (``first_paid_at - registered_at <= low_activity_after()``), in the one UPDATE that
    records the payment: no extra round trip on the consumer's path of every paid order.
    """
    paid_in_time = Q(registered_at__gte=paid_at - rules.low_activity_after())
    return bool(
        Buyer.objects.filter(pk=buyer_id, first_paid_at__isnull=True).update(
            first_paid_at=paid_at,
            low_activity=Case(
                When(paid_in_time, source=Source.SIGNUP, then=Value(False)),
                When(source=Source.SIGNUP, then=Value(True)),
                default=F("low_activity"),  # marketplace buyers: B-6 is not theirs
            ),
        )
    )


def buyers_flag_low_activity(*, now: datetime | None = None) -> int:
    """SPEC B-6: self-registered buyers with no payment ``low_activity_after()`` after
    registration are flagged. One UPDATE (the partial index ``buyer_low_activity_due``);
    running it twice flags nobody twice."""
    now = now or clock.now()
    return Buyer.objects.filter(
        source=Source.SIGNUP,
        first_paid_at__isnull=True,
        low_activity=False,
        registered_at__lte=now - rules.low_activity_after(),
    ).update(low_activity=True)
