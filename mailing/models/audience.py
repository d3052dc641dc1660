"""Mailing models: the audience (SPEC B-8 seller CRM, M-3 consent and suppression, M-4 segments,
M-13 CSV import). Each module lists its public names in __all__.

Buyers themselves live in ``buyers``; a shop's buyers are those with orders there (read through
the orders selectors). What this module adds per shop and email address: the consent record
with its evidence, the suppression list, saved segments, and contacts imported from a CSV file.
Emails are stored normalised (stripped and case-folded, as ``buyers`` stores them) so one
address is one row.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shops.models import Shop

__all__ = [
    "Consent",
    "ConsentSource",
    "ConsentStatus",
    "ContactImport",
    "ImportAllowance",
    "ImportStatus",
    "ImportedContact",
    "Segment",
    "Suppression",
    "SuppressionReason",
]


class ConsentStatus(models.TextChoices):
    # Consent given once (a signup form, an attested import): enough outside the double-opt-in
    # countries (SPEC M-3).
    GRANTED = "granted", _("Subscribed")
    # A confirmation mail went out; no marketing until the link is confirmed (M-3).
    PENDING = "pending", _("Awaiting confirmation")
    # The confirmation link was followed and confirmed: double opt-in complete.
    CONFIRMED = "confirmed", _("Confirmed (double opt-in)")


class ConsentSource(models.TextChoices):
    BUYER_PREFERENCE = "buyer_preference", _("Buyer's email preference")
    DOUBLE_OPT_IN = "double_opt_in", _("Confirmation request")
    IMPORT = "import", _("CSV import")


class Consent(models.Model):
    """One address's marketing consent for one shop, with its evidence (SPEC M-3, B-8): where it
    came from, when, from which IP, and when the double opt-in was confirmed."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    email = models.CharField(_("email"), max_length=254)
    buyer = models.ForeignKey(
        "buyers.Buyer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("consent"), max_length=16, choices=ConsentStatus.choices)
    source = models.CharField(_("source"), max_length=24, choices=ConsentSource.choices)
    granted_at = models.DateTimeField(_("recorded at"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # Double opt-in: when the confirmation mail was asked for and when it was confirmed.
    requested_at = models.DateTimeField(_("confirmation requested at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_ip = models.GenericIPAddressField(_("confirmed from IP"), null=True, blank=True)
    # A fresh nonce per request: an older confirmation link stops working once a new one is sent.
    nonce = models.CharField(max_length=32, blank=True, default="")
    contact_import = models.ForeignKey(
        "mailing.ContactImport",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("import"),
    )
    evidence = models.TextField(_("evidence"), blank=True, default="")
    # The buyer's own marketing-email preference (``buyers``) when this consent was recorded or
    # confirmed; None when the address was no buyer of the shop then. SPEC M-3: a preference
    # that was on then and is off now withdraws the consent (``segments.consenting_q``); one
    # that was already off does not (the shop's own consent stands on its evidence).
    buyer_preference_on = models.BooleanField(
        _("buyer's marketing preference on at consent"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["shop", "email"], name="mailing_consent_shop_email"),
            # A confirmed consent always carries its confirmation time (the evidence of M-3).
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(confirmed_at__isnull=False),
                name="mailing_consent_confirmed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.status})"


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribed")
    COMPLAINT = "complaint", _("Spam complaint")
    HARD_BOUNCE = "hard_bounce", _("Hard bounce")
    MANUAL = "manual", _("Added by the shop")


class Suppression(models.Model):
    """An address this shop must not mail (SPEC M-3, M-10): unsubscribes and complaints for
    ever, hard bounces for a quarantine (``expires_at``). One row per shop and address: a new
    suppression never shortens an existing one (see ``services.audience.suppress``)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    email = models.CharField(_("email"), max_length=254)
    reason = models.CharField(_("reason"), max_length=16, choices=SuppressionReason.choices)
    source = models.CharField(_("source"), max_length=120, blank=True, default="")
    created_at = models.DateTimeField(_("suppressed at"))
    # NULL: for ever (unsubscribe, complaint); a time: a hard bounce's quarantine end.
    expires_at = models.DateTimeField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("suppression")
        verbose_name_plural = _("suppressions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "email"], name="mailing_suppression_shop_email"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=models.F("created_at")),
                name="mailing_suppression_expires_after_created",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "-created_at", "-id"], name="mailing_suppr_shop_created")
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class Segment(models.Model):
    """A saved audience filter (SPEC M-4). ``definition`` is the JSON of
    ``mailing.segments.SegmentDefinition``; ``builtin`` marks the one "all consenting
    contacts" segment each shop gets."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    definition = models.JSONField(_("conditions"), default=dict, blank=True)
    builtin = models.BooleanField(_("built in"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["-builtin", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="mailing_segment_shop_name"),
            models.UniqueConstraint(
                fields=["shop"], condition=Q(builtin=True), name="mailing_segment_one_builtin"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ImportAllowance(models.Model):
    """SPEC M-13: a platform admin allows this shop to import contacts from CSV files."""

    shop = models.OneToOneField(
        Shop, on_delete=models.CASCADE, related_name="+", verbose_name=_("shop")
    )
    allowed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("allowed by"),
    )
    allowed_at = models.DateTimeField(_("allowed at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("CSV import allowance")
        verbose_name_plural = _("CSV import allowances")

    def __str__(self) -> str:
        return f"CSV import: shop {self.shop_id}"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Waiting for the field mapping")
    VALIDATING = "validating", _("Checking rows")
    VALIDATED = "validated", _("Checked: waiting for your confirmation")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class ContactImport(models.Model):
    """One CSV import (SPEC M-13): the file, the seller's field mapping and consent attestation,
    the validation report and the progress of the worker that writes the rows."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"))
    file_name = models.CharField(_("file"), max_length=200)
    content = models.TextField()  # the decoded CSV text (size-limited at upload)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(_("field mapping"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    attestation = models.TextField(_("consent attestation"), blank=True, default="")
    attested_at = models.DateTimeField(_("attested at"), null=True, blank=True)
    attested_ip = models.GenericIPAddressField(_("attested from IP"), null=True, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    valid_rows = models.PositiveIntegerField(_("valid rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed rows"), default=0)
    imported_rows = models.PositiveIntegerField(_("imported rows"), default=0)
    # [{"row": n, "errors": [...]}, …] (the first rows in error; ``error_rows`` counts them all)
    errors = models.JSONField(default=list, blank=True)
    error_rows = models.PositiveIntegerField(_("rows in error"), default=0)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # When the import was queued or last moved (a chunk written): a running import that has
    # not moved for a while lost its worker, and the beat catch-up queues it again.
    progress_at = models.DateTimeField(_("last progress at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact import")
        verbose_name_plural = _("contact imports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed_rows__lte=models.F("total_rows")),
                name="mailing_import_progress_bounded",
            ),
        ]

    def __str__(self) -> str:
        return self.file_name


class ImportedContact(models.Model):
    """An external contact a shop imported (SPEC M-13): no marketplace buyer behind it, so only
    the unconditional and country/site segments reach it."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    email = models.CharField(_("email"), max_length=254)
    name = models.CharField(_("name"), max_length=200, blank=True, default="")
    country = models.CharField(_("country"), max_length=2, blank=True, default="")
    site = models.CharField(_("site"), max_length=8, blank=True, default="")
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    contact_import = models.ForeignKey(
        ContactImport, on_delete=models.PROTECT, related_name="contacts"
    )
    created_at = models.DateTimeField(_("imported at"))

    class Meta:
        verbose_name = _("imported contact")
        verbose_name_plural = _("imported contacts")
        constraints = [
            models.UniqueConstraint(fields=["shop", "email"], name="mailing_imported_shop_email")
        ]

    def __str__(self) -> str:
        return self.email
