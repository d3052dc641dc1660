"""Platform-admin views of the coin ledger (SPEC C-2, C-5, C-6). Everything is view-only and
nothing can be deleted: accounts are never closed (C-2), and the ledger, lots, grants and
reconciliation results are the record. Pause and resume are actions through the services."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin import BigTableAdminMixin, ReadOnlyAdminMixin
from core.errors import DomainError

from . import services
from .models import (
    CoinAccount,
    CoinClawback,
    CoinEntry,
    CoinFund,
    CoinGrant,
    CoinLot,
    CoinMovement,
    CoinProductSetting,
    CoinReconciliation,
    CoinRedemption,
    CoinRule,
    CoinWallet,
)


@admin.register(CoinAccount)
class CoinAccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["coin_id", "shop", "status", "opened_at", "status_changed_at"]
    list_filter = ["status"]
    list_select_related = ["shop"]
    search_fields = ["=coin_id", "shop__name", "=shop__external_id"]
    actions = ["pause", "resume"]

    def get_actions(self, request):
        # Django's bulk "delete selected" would offer closing accounts: C-2 says never.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def _set(self, request, queryset, service, done):
        for account in queryset.select_related("shop"):
            try:
                service(shop=account.shop)
            except DomainError as exc:
                self.message_user(request, f"{account}: {exc.message}", messages.ERROR)
        self.message_user(request, done)

    @admin.action(description=_("Pause (no issuance, no deduction)"))
    def pause(self, request, queryset):
        self._set(request, queryset, services.account_pause, _("Paused."))

    @admin.action(description=_("Resume"))
    def resume(self, request, queryset):
        self._set(request, queryset, services.account_resume, _("Resumed."))

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CoinFund)
class CoinFundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["shop", "available", "reserved", "spent", "topped_up"]
    list_select_related = ["shop"]
    search_fields = ["shop__name", "=shop__external_id"]


@admin.register(CoinWallet)
class CoinWalletAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "shop", "buyer", "balance", "created_at"]
    list_select_related = ["shop", "buyer"]
    search_fields = ["=shop__external_id", "=buyer__external_id"]


@admin.register(CoinLot)
class CoinLotAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = [
        "pk",
        "wallet",
        "source",
        "granted",
        "remaining",
        "expired",
        "clawed_back",
        "expires_at",
        "rule",
        "order",
    ]
    list_filter = ["source"]
    list_select_related = ["wallet", "rule", "order"]
    search_fields = ["=wallet__id", "=order__number"]


@admin.register(CoinRule)
class CoinRuleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "shop", "kind", "status", "budget_coins", "granted_coins", "stackable"]
    list_filter = ["kind", "status"]
    list_select_related = ["shop"]
    search_fields = ["name", "shop__name"]


@admin.register(CoinGrant)
class CoinGrantAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "rule", "order", "buyer", "coins", "created_at"]
    list_select_related = ["rule", "order", "buyer"]
    search_fields = ["=order__number"]


@admin.register(CoinRedemption)
class CoinRedemptionAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = ["order_number", "shop", "buyer", "coins", "returned", "created_at"]
    list_select_related = ["shop", "buyer"]
    search_fields = ["=order_number"]


@admin.register(CoinClawback)
class CoinClawbackAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["grant", "refund_id", "due", "recovered", "unrecoverable", "created_at"]


@admin.register(CoinProductSetting)
class CoinProductSettingAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = ["product", "shop", "enabled", "max_ratio_bp", "updated_at"]
    list_filter = ["enabled"]
    list_select_related = ["product", "shop"]


class CoinEntryInline(admin.TabularInline):
    model = CoinEntry
    extra = 0
    max_num = 0
    can_delete = False
    readonly_fields = ["account", "wallet", "delta", "created_at"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CoinMovement)
class CoinMovementAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "shop", "kind", "coins", "memo", "idempotency_key"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["shop"]
    search_fields = ["=idempotency_key", "memo"]
    inlines = [CoinEntryInline]


@admin.register(CoinEntry)
class CoinEntryAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "shop", "movement", "account", "wallet", "delta"]
    list_filter = ["account"]
    list_select_related = ["shop", "movement"]


@admin.register(CoinReconciliation)
class CoinReconciliationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["run_at", "ok", "funds_checked", "wallets_checked"]
    list_filter = ["ok"]
    readonly_fields = ["run_at", "ok", "funds_checked", "wallets_checked", "differences"]
