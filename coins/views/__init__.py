"""The coin module's seller pages, by topic: the account (entry page, opening, pausing, the
fund), products (deduction settings and their status board), provenance (buyers' coins)."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from coins import rules
from coins.selectors import account_for_shop, fund_minor, opening_checks
from core.checks import all_passed
from core.money import Money
from shops.decorators import shop_required

from .account import account_open_view, account_status_view, fund
from .products import products
from .provenance import wallet_detail, wallets

__all__ = [
    "account_open_view",
    "account_status_view",
    "fund",
    "index",
    "products",
    "wallet_detail",
    "wallets",
]


@require_safe
@shop_required
def index(request):
    """SPEC C-1/C-2: before opening, the automatic checks (each failed one with its measured
    value and how to fix it) and the open button; afterwards, the account's overview."""
    account = account_for_shop(shop=request.shop)
    if account is None:
        checks = opening_checks(shop=request.shop)
        context = {"checks": checks, "eligible": all_passed(checks), "account": None}
    else:
        currency = request.shop.currency
        value = rules.coin_value_minor()
        f = account.fund
        context = {
            "account": account,
            "fund": f,
            "available": Money(f.available * value, currency),
            "reserved": Money(f.reserved * value, currency),
            "spent": Money(f.spent * value, currency),
            "display_min": Money(rules.fund_display_min_minor(), currency),
            "fund_low": fund_minor(f) < rules.fund_display_min_minor(),
        }
    return render(request, "coins/index.html", context)
