"""Platform-admin views of the marketing-email set-up (SPEC M-1, M-2). View-only: sellers make
their set-up through their pages; the one admin action re-checks an own domain's DNS records."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdminMixin

from . import admin_audience  # noqa: F401 - the audience's admin (CSV import allowances, …)
from .models import BrandProfile, MailingAccount, MailTemplate, SenderDomain
from .services import setup


@admin.register(MailingAccount)
class MailingAccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["shop", "enabled_at", "sender_kind"]
    list_filter = ["sender_kind"]
    list_select_related = ["shop"]
    search_fields = ["shop__name", "=shop__external_id"]


@admin.register(SenderDomain)
class SenderDomainAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["domain", "shop", "kind", "status", "last_checked_at", "failing_since"]
    list_filter = ["kind", "status"]
    list_select_related = ["shop"]
    search_fields = ["domain", "shop__name", "=shop__external_id"]
    # The DKIM private key (even encrypted) is never shown.
    exclude = ["dkim_private_key_encrypted"]
    readonly_fields = ["dkim_record_name", "dkim_record_value"]
    actions = ["verify_now"]

    @admin.action(description=_("Check the DNS records now"))
    def verify_now(self, request, queryset):
        checked = [setup.domain_verify(domain=d) for d in queryset.filter(kind="own")[:50]]
        verified = sum(1 for d in checked if d.is_verified)
        self.message_user(
            request,
            _("%(n)s checked, %(ok)s verified.") % {"n": len(checked), "ok": verified},
            messages.INFO,
        )


@admin.register(BrandProfile)
class BrandProfileAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["shop", "sender_name", "service_phone"]
    list_select_related = ["shop"]
    search_fields = ["shop__name", "=shop__external_id"]


@admin.register(MailTemplate)
class MailTemplateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "shop", "builtin_key", "updated_at"]
    list_filter = ["builtin_key"]
    list_select_related = ["shop"]
    search_fields = ["name", "shop__name"]
