"""Buyers' coins (SPEC C-6 … C-8): the shop's wallets and, per buyer, where every coin came
from and where it went. These pages show buyer contacts (masked for roles that may not see
them), so they are read-only and never cached (DESIGN §5)."""

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from coins import rules
from coins.selectors import (
    WALLET_SORTS,
    buyer_balance,
    get_wallet_for_shop,
    order_coins,
    wallet_lots,
    wallets_for_shop,
)
from core import clock
from core.money import Money
from core.pagination import KeysetPaginator
from shops.decorators import shop_required
from shops.selectors import can_see_buyer_contacts

contacts_page = cache_control(private=True, no_store=True)


@require_safe
@contacts_page
@shop_required
def wallets(request):
    """The shop's buyers holding coins, sortable by balance; keyset pages."""
    sort = request.GET.get("sort", "-balance")
    if sort not in WALLET_SORTS:
        sort = "-balance"
    qs = wallets_for_shop(shop=request.shop, sort=sort)
    page = KeysetPaginator(qs, per_page=settings.SC_PAGE_SIZE).get_page(request.GET)
    value = rules.coin_value_minor()
    currency = request.shop.currency
    rows = [{"wallet": w, "value": Money(w.balance * value, currency)} for w in page]
    context = {
        "page_obj": page,
        "rows": rows,
        "sort": sort,
        "contacts": can_see_buyer_contacts(request.membership),
    }
    template = "coins/wallets.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#coin-wallets"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@contacts_page
@shop_required
def wallet_detail(request, buyer_id: int):
    """One buyer's coins in this shop: every lot with its origin (rule and order, refund
    return or grace lot), expiry and remaining, and where its coins went."""
    buyer, wallet = get_wallet_for_shop(shop=request.shop, buyer_id=buyer_id)
    now = clock.now()
    balance = buyer_balance(shop=request.shop, buyer_id=buyer_id, at=now)
    page = Paginator(wallet_lots(wallet=wallet), settings.SC_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    lots = []
    for lot in page.object_list:
        parts = sorted(lot.spent_in.all(), key=lambda p: (p.redemption.created_at, p.pk))
        clawbacks = list(lot.grant.clawbacks.all()) if lot.grant_id else []
        lots.append(
            {
                "lot": lot,
                "parts": parts,
                "clawbacks": clawbacks,
                "spent": sum(p.coins - p.returned for p in parts),
                "live": lot.remaining > 0 and lot.expires_at > now,
            }
        )
    context = {
        "wallet": wallet,
        "buyer": buyer,
        "balance": balance,
        "page_obj": page,
        "lots": lots,
        "contacts": can_see_buyer_contacts(request.membership),
    }
    template = "coins/wallet.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#coin-lots"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def order_panel(request, order) -> dict | None:
    """The order page's coins section (``orders.panels``): the lots this order spent, the
    coins granted for it and the SPEC C-9 accounting; nothing for an order without coins."""
    coins = order_coins(order=order)
    if not order.coin_deduction_coins and not coins.grants and not coins.parts:
        return None
    return {"coins": coins, "order": order}
