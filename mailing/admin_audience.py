"""Django admin of the audience: platform admins allow CSV imports per shop (SPEC M-13) and can
read consents and suppressions with their evidence (SPEC M-3)."""

from django.contrib import admin

from .models import Consent, ContactImport, ImportAllowance, Suppression


@admin.register(ImportAllowance)
class ImportAllowanceAdmin(admin.ModelAdmin):
    list_display = ("shop", "allowed_by", "allowed_at", "note")
    search_fields = ("shop__name", "shop__external_id")
    autocomplete_fields = ("shop",)
    readonly_fields = ("allowed_by", "allowed_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.allowed_by = request.user
        super().save_model(request, obj, form, change)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Consent)
class ConsentAdmin(ReadOnly):
    list_display = ("email", "shop", "status", "source", "granted_at", "confirmed_at")
    list_filter = ("status", "source")
    search_fields = ("email",)


@admin.register(Suppression)
class SuppressionAdmin(ReadOnly):
    list_display = ("email", "shop", "reason", "created_at", "expires_at")
    list_filter = ("reason",)
    search_fields = ("email",)


@admin.register(ContactImport)
class ContactImportAdmin(ReadOnly):
    list_display = ("file_name", "shop", "status", "total_rows", "imported_rows", "created_at")
    list_filter = ("status",)
    exclude = ("content",)
