"""Platform admin of integrations (API clients, SPEC §0).

An integration's secret is shown exactly once — as a message after it is created or rotated —
and never again: it is stored encrypted and no form or column shows it.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Integration
from .services import integration_create, integration_rotate, integration_set_active


def _secret_message(request, integration: Integration, secret: str, *, rotated: bool) -> None:
    text = _(
        "Secret of %(name)s (key id %(key)s): %(secret)s — copy it now, it will not be shown again."
    ) % {"name": integration.name, "key": integration.key_id, "secret": secret}
    if rotated:
        text += " " + _("The previous secret stays valid for the rotation grace period.")
    messages.warning(request, text)


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ["name", "key_id", "active", "rotated_at", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "key_id"]
    fields = ["name", "active", "key_id", "rotated_at", "previous_secret_expires_at", "created_at"]
    readonly_fields = ["key_id", "rotated_at", "previous_secret_expires_at", "created_at"]
    actions = ["rotate_secret", "deactivate", "activate"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its events' idempotency records point at it: deactivate instead

    def save_model(self, request, obj, form, change) -> None:
        if change:
            obj.save(update_fields=["name", "active", "updated_at"])
            return
        created, secret = integration_create(name=obj.name)
        if not obj.active:
            integration_set_active(integration=created, active=False)
        obj.pk = created.pk
        obj.key_id = created.key_id
        obj.secret_encrypted = created.secret_encrypted
        _secret_message(request, created, secret, rotated=False)

    @admin.action(description=_("Rotate the secret of the selected integrations"))
    def rotate_secret(self, request, queryset):
        for integration in queryset.order_by("pk"):
            secret = integration_rotate(integration=integration)
            integration.refresh_from_db()
            _secret_message(request, integration, secret, rotated=True)

    @admin.action(description=_("Deactivate the selected integrations (their requests get 401)"))
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, active=False)

    @admin.action(description=_("Activate the selected integrations"))
    def activate(self, request, queryset):
        self._set_active(request, queryset, active=True)

    def _set_active(self, request, queryset, *, active: bool) -> None:
        integrations = list(queryset)
        for integration in integrations:
            integration_set_active(integration=integration, active=active)
        message = (
            ngettext(
                "Activated %(n)d integration.", "Activated %(n)d integrations.", len(integrations)
            )
            if active
            else ngettext(
                "Deactivated %(n)d integration.",
                "Deactivated %(n)d integrations.",
                len(integrations),
            )
        )
        self.message_user(request, message % {"n": len(integrations)}, messages.SUCCESS)
