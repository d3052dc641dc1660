"""Mailing models: set-up (SPEC M-1, M-2). The mailing account, the sender domain with its DKIM
key and DNS check results, the brand profile and the shop's email templates.

For the other parts of the module:

- ``MailingAccount.enabled_at`` is when the shop enabled marketing email (M-1): the M-8 quota
  (account younger than 30 days) and the M-9 free-month count start from it.
- ``SenderDomain`` is what ``mailing.selectors.sending_identity`` returns and what
  ``mailing.dkim.sign`` signs with.
- ``MailTemplate`` / ``MailTemplateVariant`` are what ``mailing.rendering.render`` renders.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import PrivateFile, TimeStampedModel
from shops.models import Shop

__all__ = [
    "BrandProfile",
    "DomainKind",
    "DomainStatus",
    "MailTemplate",
    "MailTemplateVariant",
    "MailingAccount",
    "SenderDomain",
    "TemplateLanguage",
]


class DomainKind(models.TextChoices):
    DEFAULT = "default", _("Platform default")
    OWN = "own", _("Your own subdomain")


class DomainStatus(models.TextChoices):
    PENDING = "pending", _("Not checked yet")
    FAILED = "failed", _("Records missing or wrong")
    VERIFIED = "verified", _("Verified")


class MailingAccount(TimeStampedModel):
    """A shop's marketing-email account, created when the shop enables it (SPEC M-1)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="mailing_account")
    # M-8 quotas and the M-9 free month are counted from here.
    enabled_at = models.DateTimeField(_("enabled at"))
    # Which of the shop's sender domains messages go out from (M-2 a).
    sender_kind = models.CharField(
        _("sender domain"), max_length=16, choices=DomainKind.choices, default=DomainKind.DEFAULT
    )

    class Meta:
        verbose_name = _("mailing account")
        verbose_name_plural = _("mailing accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(sender_kind__in=DomainKind.values), name="mailing_account_sender_kind"
            )
        ]

    def __str__(self):
        return f"{self.shop} mailing"


class SenderDomain(TimeStampedModel):
    """A domain a shop sends from (SPEC M-2 a): the platform default ``<shop>.mail.<platform>``
    or the shop's own subdomain, verified by DNS look-ups. One of each kind per shop.

    The DKIM private key is stored encrypted (``integrations.services.encrypt_secret``); the
    public key is what the seller publishes at ``<selector>._domainkey.<domain>``.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="sender_domains")
    kind = models.CharField(_("kind"), max_length=16, choices=DomainKind.choices)
    domain = models.CharField(_("domain"), max_length=253, unique=True)
    # The random per-shop token published as a TXT record (own domains).
    verification_token = models.CharField(_("verification token"), max_length=64)
    dkim_selector = models.CharField(_("DKIM selector"), max_length=63)
    dkim_private_key_encrypted = models.TextField(_("DKIM private key (encrypted)"))
    dkim_public_key = models.TextField(_("DKIM public key"))  # base64 DER SubjectPublicKeyInfo
    status = models.CharField(
        _("status"), max_length=16, choices=DomainStatus.choices, default=DomainStatus.PENDING
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    # When the records were first found missing or wrong since the last success (M-10: DNS can
    # take up to 48 hours).
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    # The last check, record by record: [{"code", "name", "type", "expected", "found",
    # "ok", "problem"}].
    last_results = models.JSONField(_("last check"), default=list, blank=True)

    class Meta:
        verbose_name = _("sender domain")
        verbose_name_plural = _("sender domains")
        constraints = [
            models.UniqueConstraint(fields=["shop", "kind"], name="sender_domain_shop_kind"),
            models.CheckConstraint(
                condition=Q(kind__in=DomainKind.values), name="sender_domain_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DomainStatus.values), name="sender_domain_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["kind", "last_checked_at"], name="sender_domain_recheck")]

    def __str__(self):
        return self.domain

    @property
    def is_verified(self) -> bool:
        return self.status == DomainStatus.VERIFIED

    @property
    def dkim_record_name(self) -> str:
        return f"{self.dkim_selector}._domainkey.{self.domain}"

    @property
    def dkim_record_value(self) -> str:
        return f"v=DKIM1; k=rsa; p={self.dkim_public_key}"


HEX_COLOUR = r"^#[0-9a-fA-F]{6}$"


class BrandProfile(TimeStampedModel):
    """The shop's brand in its emails (SPEC M-2 b): sender name, logo, colours and the footer
    every message carries (M-7: physical address and customer-service phone)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="mailing_brand")
    sender_name = models.CharField(_("sender name"), max_length=80, blank=True)
    logo = models.ForeignKey(
        PrivateFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    primary_colour = models.CharField(_("primary colour"), max_length=7, default="#e62e04")
    background_colour = models.CharField(_("background colour"), max_length=7, default="#f5f5f5")
    physical_address = models.TextField(_("physical address"), max_length=500, blank=True)
    service_phone = models.CharField(_("customer-service phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("brand profile")
        verbose_name_plural = _("brand profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(primary_colour__regex=HEX_COLOUR)
                & Q(background_colour__regex=HEX_COLOUR),
                name="brand_colours_hex",
            )
        ]

    def __str__(self):
        return f"{self.shop} brand"

    @property
    def footer_complete(self) -> bool:
        return bool(self.physical_address.strip() and self.service_phone.strip())


class TemplateLanguage(models.TextChoices):
    """The language variants of every template (SPEC M-2 c, M-5)."""

    EN = "en", "English"
    ES = "es", "Español"
    FR = "fr", "Français"
    RU = "ru", "Русский"
    PT = "pt", "Português"
    ZH_HANS = "zh-hans", "简体中文"


class MailTemplate(TimeStampedModel):
    """A shop's own email template: a copy of one of the 12 built-ins (``builtin_key``) that the
    seller edits, one variant per language (SPEC M-2 c)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="mail_templates")
    name = models.CharField(_("name"), max_length=120)
    builtin_key = models.CharField(_("built-in template"), max_length=32)

    class Meta:
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        ordering = ["-id"]
        indexes = [models.Index(fields=["shop", "-id"], name="mail_template_shop_id")]

    def __str__(self):
        return self.name

    @property
    def builtin_name(self) -> str:
        from ..builtin_templates import BUILTINS

        entry = BUILTINS.get(self.builtin_key)
        return str(entry[0]) if entry else self.builtin_key


class MailTemplateVariant(TimeStampedModel):
    """One language of a template: subject, preheader and body. The body is the seller's
    restricted HTML with merge tags (``mailing.rendering``); it is validated when saved and
    sanitised again whenever it is rendered."""

    template = models.ForeignKey(MailTemplate, on_delete=models.CASCADE, related_name="variants")
    language = models.CharField(_("language"), max_length=8, choices=TemplateLanguage.choices)
    subject = models.CharField(_("subject"), max_length=200)
    preheader = models.CharField(_("preheader"), max_length=200, blank=True)
    body = models.TextField(_("content"), max_length=20000)

    class Meta:
        verbose_name = _("template language")
        verbose_name_plural = _("template languages")
        ordering = ["template_id", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "language"], name="mail_template_variant_language"
            ),
            models.CheckConstraint(
                condition=Q(language__in=TemplateLanguage.values),
                name="mail_template_variant_language_valid",
            ),
        ]

    def __str__(self):
        return f"{self.template} ({self.language})"
