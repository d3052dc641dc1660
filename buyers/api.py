"""``/api/v1/buyers/…``: buyer registration for the marketplace storefront (SPEC B-1 … B-4, B-7).

Signed like the event API (``integrations.auth.SignedRequest``): the storefront's server calls
these on behalf of a buyer and passes the buyer's address (``client_ip``) and, when its edge
knows it, the buyer's country (``ip_country``, for the B-4 check). Errors are JSON with a
stable ``code``:

* 400 ``invalid_contact`` / ``invalid_password`` / ``invalid_input``;
* 401 ``invalid_credentials`` / ``invalid_code`` (and the signature codes);
* 422 ``invalid_request`` (schema: unknown fields, overlong values …);
* 429 ``rate_limited`` / ``code_locked`` / ``resend_too_soon`` (with ``retry_after``).

No answer tells whether an account exists: registering a contact that already has an account
answers like a new registration (its owner is told by email/SMS), and code requests answer the
same for every contact.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict, Field, IPvAnyAddress

from core.api import ApiError, ErrorOut, ValidationErrorOut
from integrations.auth import SignedRequest

from . import geo, rules, services
from .models import Buyer, Site
from .services import accounts

router = Router(tags=["buyers"])

_ERRORS = {400: ErrorOut, 401: ErrorOut, 411: ErrorOut, 413: ErrorOut, 422: ValidationErrorOut}
_SIGNED = SignedRequest(max_body_setting="SC_BUYER_API_MAX_BODY_BYTES")


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(_In):
    contact: str = Field(max_length=254, description="Email address or phone in E.164 (+86…).")
    password: str = Field(max_length=128)
    country: str = Field(pattern=r"^[A-Za-z]{2}$", description="Declared country, ISO 3166-1.")
    site: Literal[tuple(Site.values)] = Site.GLOBAL  # type: ignore[valid-type]
    device_id: str = Field(default="", pattern=r"^[A-Za-z0-9._:-]{0,128}$")
    client_ip: IPvAnyAddress
    ip_country: str | None = Field(
        default=None, pattern=r"^[A-Za-z]{2}$", description="The buyer's country per your edge."
    )
    marketing_email_opt_in: bool = False


class CodeIn(_In):
    contact: str = Field(max_length=254)
    purpose: Literal["register", "reset"]
    client_ip: IPvAnyAddress


class VerifyIn(_In):
    contact: str = Field(max_length=254)
    code: str = Field(max_length=16)
    client_ip: IPvAnyAddress


class LoginIn(_In):
    contact: str = Field(max_length=254)
    password: str = Field(max_length=128)
    client_ip: IPvAnyAddress


class ResetIn(_In):
    contact: str = Field(max_length=254)
    code: str = Field(max_length=16)
    new_password: str = Field(max_length=128)
    client_ip: IPvAnyAddress


class SentOut(Schema):
    status: Literal["verification_sent"]
    channel: Literal["email", "sms"]
    resend_after_seconds: int
    risk_review: bool = Field(
        description="The declared country differs from the IP's: the account is reviewed."
    )


class BuyerOut(Schema):
    buyer_id: str
    email_verified: bool
    phone_verified: bool
    risk_status: str
    low_activity: bool = Field(
        description="SPEC B-6: no payment within 72 h of registration (no welcome grant)."
    )
    coupon_priority: Literal["normal", "low"] = Field(
        description="SPEC B-6: low-activity buyers get lower coupon priority."
    )


def _buyer_out(buyer: Buyer) -> dict:
    return {
        "buyer_id": buyer.external_id,
        "email_verified": buyer.email_verified_at is not None,
        "phone_verified": buyer.phone_verified_at is not None,
        "risk_status": buyer.risk_status,
        "low_activity": buyer.low_activity,
        "coupon_priority": rules.coupon_priority(low_activity=buyer.low_activity),
    }


def _retry(exc: rules.ResendTooSoon) -> ApiError:
    return ApiError(429, exc.code, exc.message, retry_after=exc.retry_after)


@router.post(
    "/buyers/register",
    auth=_SIGNED,
    response={202: SentOut, 429: ErrorOut, **_ERRORS},
    operation_id="buyer_register",
    summary="Register a buyer by email or phone (sends a verification code)",
)
def register(request: HttpRequest, body: RegisterIn):
    ip = str(body.client_ip)
    contact = services.parse_contact(body.contact)
    ip_country = body.ip_country or geo.country_for(meta={}, ip=ip)
    accounts.buyer_register_public(
        contact=contact,
        password=body.password,
        country=body.country,
        site=body.site,
        device_id=body.device_id,
        ip=ip,
        ip_country=ip_country,
        marketing_email_opt_in=body.marketing_email_opt_in,
    )
    return 202, {
        "status": "verification_sent",
        "channel": contact.channel,
        "resend_after_seconds": int(rules.code_resend_after().total_seconds()),
        # B-4 only (same for a contact that already has an account: no enumeration).
        "risk_review": rules.country_mismatch(declared=body.country, ip_country=ip_country),
    }


@router.post(
    "/buyers/codes",
    auth=_SIGNED,
    response={202: SentOut, 429: ErrorOut, **_ERRORS},
    operation_id="buyer_code_request",
    summary="Send a new registration or password-reset code",
)
def send_code(request: HttpRequest, body: CodeIn):
    contact = services.parse_contact(body.contact)
    try:
        sent = services.code_request(contact=contact, purpose=body.purpose, ip=str(body.client_ip))
    except rules.ResendTooSoon as exc:
        raise _retry(exc) from None
    return 202, {
        "status": "verification_sent",
        "channel": sent.channel,
        "resend_after_seconds": sent.resend_after,
        "risk_review": False,
    }


@router.post(
    "/buyers/verify",
    auth=_SIGNED,
    response={200: BuyerOut, 429: ErrorOut, **_ERRORS},
    operation_id="buyer_verify",
    summary="Verify a buyer's contact with the registration code",
)
def verify(request: HttpRequest, body: VerifyIn):
    contact = services.parse_contact(body.contact)
    buyer = services.buyer_verify_contact(contact=contact, code=body.code, ip=str(body.client_ip))
    return 200, _buyer_out(buyer)


@router.post(
    "/buyers/login",
    auth=_SIGNED,
    response={200: BuyerOut, 429: ErrorOut, **_ERRORS},
    operation_id="buyer_login",
    summary="Check a buyer's contact and password",
)
def login(request: HttpRequest, body: LoginIn):
    contact = services.parse_contact(body.contact)
    buyer = services.buyer_authenticate(
        contact=contact, password=body.password, ip=str(body.client_ip)
    )
    return 200, _buyer_out(buyer)


@router.post(
    "/buyers/password-reset",
    auth=_SIGNED,
    response={200: BuyerOut, 429: ErrorOut, **_ERRORS},
    operation_id="buyer_password_reset",
    summary="Set a new password with a reset code",
)
def password_reset(request: HttpRequest, body: ResetIn):
    contact = services.parse_contact(body.contact)
    buyer = services.buyer_password_reset(
        contact=contact, code=body.code, new_password=body.new_password, ip=str(body.client_ip)
    )
    return 200, _buyer_out(buyer)
