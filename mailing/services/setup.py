"""Enabling marketing email (SPEC M-1) and the set-up before the first send (M-2): the sender
domain (platform default or own subdomain, verified by DNS), its DKIM key pair, the brand
profile and the shop's templates copied from the 12 built-ins."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.text import slugify

from core import clock, uploads
from core.checks import all_passed
from core.errors import DomainError
from shops.models import NotificationKind, Role, Shop
from shops.services import notify

from .. import builtin_templates, dkim, dns, rules
from ..models import (
    BrandProfile,
    DomainKind,
    DomainStatus,
    MailingAccount,
    MailTemplate,
    MailTemplateVariant,
    SenderDomain,
    TemplateLanguage,
)
from ..rendering import header_safe, sanitise, validate_content

__all__ = [
    "brand_save",
    "default_domain_name",
    "domain_verify",
    "domains_reverify",
    "mailing_enable",
    "own_domain_set",
    "sender_kind_set",
    "template_copy",
    "template_variant_save",
]

LOGO_TYPES = ("image/png", "image/jpeg")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


# --- enabling (M-1) ------------------------------------------------------------------------------


@transaction.atomic
def mailing_enable(*, shop: Shop, now: datetime | None = None) -> MailingAccount:
    """SPEC M-1: self-service and immediate once every eligibility check passes. Creates the
    mailing account (its ``enabled_at`` starts the M-8 and M-9 counts), the platform default
    sender domain with its DKIM key, and an empty brand profile. Enabling twice returns the
    account. Refused (``mailing_not_eligible``) with every failed check in the message.
    ``now``: when it is enabled (checked then; default now)."""
    from ..selectors import eligibility_checks

    existing = MailingAccount.objects.filter(shop=shop).first()
    if existing is not None:
        return existing
    now = now or clock.now()
    checks = eligibility_checks(shop=shop, at=now)
    if not all_passed(checks):
        failed = [
            f"{c.label}: {c.measured} (required {c.required})"
            + (f" — {c.detail}" if c.detail else "")
            for c in checks
            if c.passed is not True
        ]
        raise DomainError(
            "Marketing email cannot be enabled: " + "; ".join(failed),
            code="mailing_not_eligible",
        )
    try:
        with transaction.atomic():
            account = MailingAccount.objects.create(shop=shop, enabled_at=now)
    except IntegrityError:  # a concurrent enabling won: one account per shop
        return MailingAccount.objects.get(shop=shop)
    _default_domain_create(shop=shop, at=now)
    BrandProfile.objects.get_or_create(shop=shop, defaults={"sender_name": shop.name[:80]})
    return account


def default_domain_name(shop: Shop) -> str:
    """``<shop>.mail.<platform domain>`` (M-2 a): the shop's marketplace id as a DNS label."""
    label = slugify(shop.external_id).replace("_", "-").strip("-")[:50].strip("-")
    if not label or not _LABEL.match(label):
        label = f"shop{shop.pk}"
    return f"{label}.mail.{settings.SC_MAILING_PLATFORM_DOMAIN}"


def _new_domain(*, shop: Shop, kind: str, name: str, status: str, at: datetime) -> SenderDomain:
    private, public = dkim.generate_key_pair()
    return SenderDomain.objects.create(
        shop=shop,
        kind=kind,
        domain=name,
        verification_token=secrets.token_hex(16),
        dkim_selector=f"sc{at:%Y%m}",
        dkim_private_key_encrypted=private,
        dkim_public_key=public,
        status=status,
        verified_at=at if status == DomainStatus.VERIFIED else None,
        last_checked_at=at if status == DomainStatus.VERIFIED else None,
    )


def _default_domain_create(*, shop: Shop, at: datetime) -> SenderDomain:
    """The default domain lives in the platform's own zone, whose records the platform
    publishes: it is verified from the start (Decision, README)."""
    existing = SenderDomain.objects.filter(shop=shop, kind=DomainKind.DEFAULT).first()
    if existing:
        return existing
    name = default_domain_name(shop)
    if SenderDomain.objects.filter(domain=name).exists():  # two ids slugified alike
        label, rest = name.split(".", 1)
        name = f"{label[:50]}-{shop.pk}.{rest}"
    return _new_domain(
        shop=shop, kind=DomainKind.DEFAULT, name=name, status=DomainStatus.VERIFIED, at=at
    )


def _account(shop: Shop) -> MailingAccount:
    account = MailingAccount.objects.filter(shop=shop).first()
    if account is None:
        raise DomainError("Enable marketing email first.", code="mailing_not_enabled")
    return account


# --- sender domain (M-2 a) -----------------------------------------------------------------------


def clean_own_domain(value: str) -> str:
    """An own subdomain as stored: lower case, IDNA (punycode), no trailing dot; at least
    three labels (``promo.yourbrand.com``), not inside the platform's domain."""
    raw = (value or "").strip().rstrip(".").lower()
    if raw.startswith(("http://", "https://")) or "/" in raw or "@" in raw or " " in raw:
        raise DomainError(
            "Enter only the domain name, such as promo.yourbrand.com.", code="domain_invalid"
        )
    try:
        name = raw.encode("idna").decode("ascii")
    except UnicodeError:
        raise DomainError("This is not a valid domain name.", code="domain_invalid") from None
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise DomainError("This is not a valid domain name.", code="domain_invalid")
    if len(labels) < 3:
        raise DomainError(
            "Use a subdomain of your domain, such as promo.yourbrand.com, not the domain itself: "
            "your other mail stays unaffected.",
            code="domain_not_subdomain",
        )
    if labels[-1].isdigit():
        raise DomainError("This is not a valid domain name.", code="domain_invalid")
    platform = settings.SC_MAILING_PLATFORM_DOMAIN.lower()
    if name == platform or name.endswith("." + platform):
        raise DomainError(
            "This domain belongs to the platform: choose the default domain instead.",
            code="domain_platform",
        )
    return name


@transaction.atomic
def own_domain_set(*, shop: Shop, domain: str) -> SenderDomain:
    """SPEC M-2 a: the shop sends from its own subdomain from now on. A new domain gets a new
    verification token and DKIM key pair; the same one again changes nothing. Messages wait
    (M-10 error 401) until its DNS records verify."""
    account = _account(shop)
    name = clean_own_domain(domain)
    current = SenderDomain.objects.filter(shop=shop, kind=DomainKind.OWN).first()
    if current is None or current.domain != name:
        taken = SenderDomain.objects.filter(domain=name)
        if current is not None:
            taken = taken.exclude(pk=current.pk)
        if taken.exists():
            raise DomainError("Another shop already uses this domain.", code="domain_taken")
        if current is not None:
            current.delete()
        try:
            with transaction.atomic():
                current = _new_domain(
                    shop=shop,
                    kind=DomainKind.OWN,
                    name=name,
                    status=DomainStatus.PENDING,
                    at=clock.now(),
                )
        except IntegrityError:
            raise DomainError(
                "Another shop already uses this domain.", code="domain_taken"
            ) from None
    if account.sender_kind != DomainKind.OWN:
        account.sender_kind = DomainKind.OWN
        account.save(update_fields=["sender_kind", "updated_at"])
    return current


@transaction.atomic
def sender_kind_set(*, shop: Shop, kind: str) -> MailingAccount:
    """Choose which sender domain messages go out from (the own one must have been entered)."""
    account = _account(shop)
    if kind not in DomainKind.values:
        raise DomainError("Unknown kind of sender domain.", code="domain_kind_invalid")
    if not SenderDomain.objects.filter(shop=shop, kind=kind).exists():
        raise DomainError("Enter your own subdomain first.", code="domain_missing")
    if account.sender_kind != kind:
        account.sender_kind = kind
        account.save(update_fields=["sender_kind", "updated_at"])
    return account


def domain_verify(*, domain: SenderDomain, at: datetime | None = None) -> SenderDomain:
    """Look the domain's records up (M-2 a) and store the outcome, record by record. A domain
    that was verified and now fails stops sending (M-10 401) and the shop's owners and
    marketers are told; one that verifies again sends again. The platform default domain is
    not looked up (its zone is the platform's)."""
    if domain.kind == DomainKind.DEFAULT:
        return domain
    at = at or clock.now()
    results = dns.check_records(domain)  # network: outside any transaction
    ok = all(r.ok for r in results)
    with transaction.atomic():
        locked = SenderDomain.objects.select_for_update().get(pk=domain.pk)
        was_verified = locked.status == DomainStatus.VERIFIED
        locked.last_results = [r.as_dict() for r in results]
        locked.last_checked_at = at
        if ok:
            locked.status = DomainStatus.VERIFIED
            locked.failing_since = None
            if not was_verified:
                locked.verified_at = at
        else:
            locked.status = DomainStatus.FAILED
            locked.failing_since = locked.failing_since or at
        locked.save(
            update_fields=[
                "last_results",
                "last_checked_at",
                "status",
                "failing_since",
                "verified_at",
                "updated_at",
            ]
        )
        if was_verified and not ok:
            notify(
                shop=locked.shop,
                kind=NotificationKind.GENERAL,
                message="mailing.domain_failed",
                params={
                    "domain": locked.domain,
                    "records": [r.code.upper() for r in results if not r.ok],
                },
                link=reverse("mailing:domain"),
                roles=[Role.OWNER, Role.MARKETER],
            )
    return locked


def domains_reverify(*, at: datetime | None = None, limit: int = 500) -> int:
    """The beat's periodic re-verification (M-2, M-10): every own domain that is due
    (``rules.domain_recheck_due``), at most ``limit`` per run, oldest check first. Returns how
    many were checked."""
    at = at or clock.now()
    checked = 0
    candidates = SenderDomain.objects.filter(kind=DomainKind.OWN).order_by("last_checked_at", "pk")
    for domain in candidates.iterator(chunk_size=200):
        last = None if domain.last_checked_at is None else (at - domain.last_checked_at)
        failing = None if domain.failing_since is None else (at - domain.failing_since)
        due = rules.domain_recheck_due(
            status=domain.status,
            last_checked_hours=None if last is None else last.total_seconds() / 3600,
            failing_hours=None if failing is None else failing.total_seconds() / 3600,
        )
        if not due:
            continue
        domain_verify(domain=domain, at=at)
        checked += 1
        if checked >= limit:
            break
    return checked


# --- brand (M-2 b) -------------------------------------------------------------------------------


def clean_phone(value: str) -> str:
    """A customer-service phone in international form (+86 …), or DomainError."""
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise DomainError(
            "Enter the phone number in international form, starting with + and the country "
            "code, such as +86 571 8502 2088.",
            code="phone_invalid",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@transaction.atomic
def brand_save(
    *,
    shop: Shop,
    sender_name: str,
    primary_colour: str,
    background_colour: str,
    physical_address: str,
    service_phone: str,
    logo=None,
    uploaded_by=None,
) -> BrandProfile:
    """SPEC M-2 b: the brand in every email. The sender name becomes the From display name
    (one line: no header injection); colours are #rrggbb; the logo is a PNG or JPEG, checked
    by content and stored privately (mail clients load it through a signed link)."""
    _account(shop)
    name = header_safe(sender_name, limit=80)
    if name != (sender_name or "").strip():
        raise DomainError(
            "The sender name must be one line of at most 80 characters.", code="sender_name_invalid"
        )
    for colour in (primary_colour, background_colour):
        if not _COLOUR.match(colour or ""):
            raise DomainError(
                "A colour is written #rrggbb, such as #e62e04.", code="colour_invalid"
            )
    address = (physical_address or "").strip()
    if len(address) > 500:
        raise DomainError("The address is at most 500 characters.", code="address_invalid")
    phone = clean_phone(service_phone)
    brand, _created = BrandProfile.objects.select_for_update().get_or_create(shop=shop)
    brand.sender_name = name
    brand.primary_colour = primary_colour.lower()
    brand.background_colour = background_colour.lower()
    brand.physical_address = address
    brand.service_phone = phone
    if logo is not None:
        from django.core.exceptions import ValidationError

        try:
            brand.logo = uploads.private_file_store(
                uploaded=logo, owner=brand, uploaded_by=uploaded_by, allowed_types=LOGO_TYPES
            )
        except ValidationError as exc:
            raise DomainError(" ".join(exc.messages), code="logo_invalid") from None
    brand.save()
    return brand


# --- templates (M-2 c) ---------------------------------------------------------------------------


@transaction.atomic
def template_copy(*, shop: Shop, builtin_key: str, name: str = "") -> MailTemplate:
    """A new template of the shop, copied from a built-in with all its language variants."""
    _account(shop)
    if builtin_key not in builtin_templates.BUILTINS:
        raise DomainError("Unknown built-in template.", code="template_unknown")
    title = header_safe(name or str(builtin_templates.BUILTINS[builtin_key][0]), limit=120)
    template = MailTemplate.objects.create(shop=shop, name=title, builtin_key=builtin_key)
    MailTemplateVariant.objects.bulk_create(
        MailTemplateVariant(
            template=template, language=lang, subject=subject, preheader=pre, body=body
        )
        for lang, (subject, pre, body) in builtin_templates.variants(builtin_key).items()
    )
    return template


@transaction.atomic
def template_variant_save(
    *, template: MailTemplate, language: str, subject: str, preheader: str, body: str, name=None
) -> MailTemplateVariant:
    """Save one language of a template. Refused (``template_rejected``, every problem in the
    message) for template syntax or unknown merge tags; the body is stored sanitised."""
    if language not in TemplateLanguage.values:
        raise DomainError("Unknown language.", code="language_invalid")
    problems = validate_content(subject or "", preheader or "", body or "")
    clean_subject = header_safe(subject or "")
    if not clean_subject:
        problems.append("A subject is required.")
    if len(body or "") > 20000:
        problems.append("The content is at most 20,000 characters.")
    if problems:
        raise DomainError(" ".join(problems), code="template_rejected")
    if name is not None and header_safe(name, limit=120):
        template.name = header_safe(name, limit=120)
        template.save(update_fields=["name", "updated_at"])
    variant, _created = MailTemplateVariant.objects.update_or_create(
        template=template,
        language=language,
        defaults={
            "subject": clean_subject,
            "preheader": header_safe(preheader or ""),
            "body": sanitise(body),
        },
    )
    return variant
