"""The promoter's own account (SPEC A-1): sign-up, sign-in, password reset, the onboarding
documents as private uploads, submission to the admins' review queue and the rejection.
(The approval is ``promoters.promoter_approve``.)

A promoter is not a seller staff user: its password hash lives on ``Promoter`` and its session
is ``affiliate.portal.session``'s own cookie, so neither side can sign into the other's pages.
"""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from core import clock, uploads
from core.errors import DomainError, InvalidTransition

from ..models import DocumentKind, Promoter, PromoterDocument, PromoterStatus
from ..notices import notice_send

# A-1 documents are scans or photos: PDF, PNG, JPEG (sniffed from the content).
DOCUMENT_TYPES = ("application/pdf", "image/png", "image/jpeg")
# The statuses in which a promoter may still change its documents.
EDITABLE = (PromoterStatus.ONBOARDING, PromoterStatus.REJECTED)

# Checked against when the email is unknown, so a wrong email costs the same time as a wrong
# password (no account enumeration by timing).
_DUMMY_HASH = make_password("not-a-password-of-anyone")


def _clean_password(password: str, promoter: Promoter | None = None) -> str:
    try:
        # ``user``: the similarity check compares the password with the promoter's name/email.
        validate_password(password, user=promoter)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), code="invalid_password") from None
    return password


@transaction.atomic
def promoter_sign_up(*, name: str, email: str, password: str) -> Promoter:
    """A new promoter account, with documents still to upload (SPEC A-1)."""
    name, email = (name or "").strip(), (email or "").strip().lower()
    if not name or len(name) > 120:
        raise DomainError("Enter your company or trading name.", code="invalid_name")
    if "@" not in email or len(email) > 254:
        raise DomainError("Enter a valid email address.", code="invalid_email")
    _clean_password(password)
    try:
        with transaction.atomic():
            return Promoter.objects.create(
                name=name,
                email=email,
                password=make_password(password),
                status=PromoterStatus.ONBOARDING,
            )
    except IntegrityError:
        raise DomainError(
            "A promoter account already uses this email: sign in, or reset your password.",
            code="email_taken",
        ) from None


def promoter_authenticate(*, email: str, password: str) -> Promoter:
    """The promoter with this email and password; ``DomainError`` otherwise (one message for a
    wrong email and a wrong password)."""
    email = (email or "").strip().lower()
    promoter = Promoter.objects.filter(email=email).first()
    if promoter is None or not promoter.password:
        check_password(password or "", _DUMMY_HASH)
        raise DomainError("Wrong email or password.", code="invalid_credentials")
    if not check_password(password or "", promoter.password):
        raise DomainError("Wrong email or password.", code="invalid_credentials")
    Promoter.objects.filter(pk=promoter.pk).update(last_login_at=clock.now())
    return promoter


@transaction.atomic
def promoter_password_set(*, promoter: Promoter, password: str) -> Promoter:
    """A new password; every other signed-in browser and every reset link stop working (the
    session and the reset token carry a fingerprint of the hash)."""
    _clean_password(password, promoter)
    promoter.password = make_password(password)
    promoter.save(update_fields=["password", "updated_at"])
    return promoter


@transaction.atomic
def document_upload(*, promoter: Promoter, kind: str, uploaded: UploadedFile) -> PromoterDocument:
    """Store one A-1 document as a private upload (content-sniffed, size-limited); a second
    upload of a kind replaces the first. Only before the review or after a rejection."""
    promoter = Promoter.objects.select_for_update().get(pk=promoter.pk)
    if kind not in DocumentKind.values:
        raise DomainError("Choose which document this is.", code="invalid_kind")
    if promoter.status not in EDITABLE:
        raise InvalidTransition(
            "Your documents are under review or approved; they can no longer be changed."
        )
    try:
        stored = uploads.private_file_store(
            uploaded=uploaded, owner=promoter, allowed_types=DOCUMENT_TYPES
        )
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), code="invalid_file") from None
    document, _ = PromoterDocument.objects.update_or_create(
        promoter=promoter, kind=kind, defaults={"file": stored, "uploaded_at": clock.now()}
    )
    return document


def missing_documents(*, promoter: Promoter) -> list[str]:
    have = set(promoter.documents.values_list("kind", flat=True))
    return [k for k in DocumentKind.values if k not in have]


@transaction.atomic
def promoter_submit(*, promoter: Promoter) -> Promoter:
    """SPEC A-1: every document uploaded → into the admins' review queue (the SLA clock
    starts now)."""
    promoter = Promoter.objects.select_for_update().get(pk=promoter.pk)
    if promoter.status not in EDITABLE:
        raise InvalidTransition("Your documents are already under review or approved.")
    missing = missing_documents(promoter=promoter)
    if missing:
        labels = ", ".join(str(DocumentKind(k).label) for k in missing)
        raise DomainError(f"Upload every document first. Missing: {labels}.", code="missing")
    promoter.status = PromoterStatus.PENDING
    promoter.submitted_at = clock.now()
    promoter.save(update_fields=["status", "submitted_at", "updated_at"])
    return promoter


@transaction.atomic
def promoter_reject(*, promoter: Promoter, reason: str, by=None) -> Promoter:
    """SPEC A-1: the review's refusal, with the reason the promoter reads; it may upload
    corrected documents and submit again."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise DomainError(
            "Give the promoter a reason (at most 500 characters): it says what to correct.",
            code="reason_required",
        )
    promoter = Promoter.objects.select_for_update().get(pk=promoter.pk)
    if promoter.status != PromoterStatus.PENDING:
        raise InvalidTransition("Only a promoter waiting for review can be rejected.")
    now = clock.now()
    promoter.status = PromoterStatus.REJECTED
    promoter.reviewed_at = now
    promoter.reviewed_by = by
    promoter.rejection_reason = reason
    promoter.save(
        update_fields=["status", "reviewed_at", "reviewed_by", "rejection_reason", "updated_at"]
    )
    notice_send(promoter_id=promoter.pk, kind="rejected", params={"reason": reason}, created_at=now)
    return promoter
