from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.money import Money

from .decorators import shop_required
from .forms import NotificationPreferencesForm, ProductFilterForm, SwitchShopForm
from .middleware import SESSION_KEY
from .models import EntryKind
from .selectors import (
    balance_entries_for_shop,
    balance_for_shop,
    get_notification_for_user,
    get_product_for_shop,
    membership_for,
    notification_preferences_for_user,
    notifications_for_user,
    products_page,
    sku_sales_30d,
)
from .services import (
    membership_mark_used,
    notification_mark_read,
    notification_preferences_set,
    notifications_mark_all_read,
)


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@require_POST
@login_required
def switch(request):
    """Make another of the user's shops the current one (stored in the session)."""
    form = SwitchShopForm(request.POST)
    # Only the user's own memberships count: a foreign or junk id (not a number, beyond the
    # id column's range, NUL bytes) selects nothing.
    membership = (
        membership_for(user=request.user, shop_id=form.cleaned_data["shop_id"])
        if form.is_valid()
        else None
    )
    if membership is None:
        messages.error(request, _("You cannot switch to that shop: you are not a member of it."))
        return redirect(_safe_next(request) or "home")
    request.session[SESSION_KEY] = membership.shop_id
    membership_mark_used(membership=membership)  # the next sign-in opens this shop
    messages.success(
        request, _("You are now working in %(shop)s.") % {"shop": membership.shop.name}
    )
    return redirect(_safe_next(request) or "home")


@require_safe
@shop_required
def products(request):
    form = ProductFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else dict(ProductFilterForm.DEFAULTS)
    page = products_page(
        shop=request.shop,
        page_number=request.GET.get("page"),
        per_page=settings.SC_PAGE_SIZE,
        **filters,
    )
    context = {
        "form": form,
        "page_obj": page,
        "filters": filters,
        "currency": request.shop.currency,
    }
    template = "shops/products.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#products-table"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@shop_required
def product_detail(request, product_id: int):
    product = get_product_for_shop(shop=request.shop, product_id=product_id)
    skus = list(product.skus.all())
    sales = sku_sales_30d(product=product)
    rows = [(sku, *sales.get(sku.pk, (0, 0))) for sku in skus]
    currency = request.shop.currency
    return render(
        request,
        "shops/product_detail.html",
        {
            "product": product,
            "skus": skus,
            "rows": [(sku, units, Money(int(gmv), currency)) for sku, units, gmv in rows],
            "total_stock": sum(s.stock for s in skus),
            "units_30d": sum(units for _s, units, _g in rows),
            "gmv_30d": Money(int(sum(gmv for _s, _u, gmv in rows)), currency),
        },
    )


@require_safe
@shop_required
def balance(request):
    """The shop's balance and its ledger (SPEC §0), newest first; every role may read it."""
    kind = request.GET.get("kind", "")
    if kind not in EntryKind.values:
        kind = ""
    entries = balance_entries_for_shop(shop=request.shop, kind=kind)
    page = Paginator(entries, settings.SC_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "balance": balance_for_shop(shop=request.shop),
        "page_obj": page,
        "kind": kind,
        "kinds": EntryKind.choices,
    }
    template = "shops/balance.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#balance-entries"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- staff notifications ---------------------------------------------------------------------


def _shop_ids(request) -> list[int]:
    # Tenant-aware: only shops the user is still a member of (read by CurrentShopMiddleware).
    return [m.shop_id for m in request.memberships]


@require_safe
@login_required
def notifications(request):
    unread_only = request.GET.get("show") == "unread"
    qs = notifications_for_user(
        user=request.user, shop_ids=_shop_ids(request), unread_only=unread_only
    )
    page = Paginator(qs, settings.SC_PAGE_SIZE).get_page(request.GET.get("page"))
    template = "shops/notifications.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#notification-list"
    response = render(request, template, {"page_obj": page, "unread_only": unread_only})
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
@login_required
def notification_read(request, notification_id: int):
    notification = get_notification_for_user(
        user=request.user, shop_ids=_shop_ids(request), notification_id=notification_id
    )
    notification_mark_read(notification=notification)
    if request.POST.get("open") and notification.link:
        return redirect(notification.link)  # a local path (checked by notify and the database)
    return redirect(_safe_next(request) or "shops:notifications")


@require_POST
@login_required
def notifications_read_all(request):
    n = notifications_mark_all_read(user=request.user, shop_ids=_shop_ids(request))
    messages.success(
        request,
        ngettext("%(n)s notification marked as read.", "%(n)s notifications marked as read.", n)
        % {"n": n},
    )
    return redirect(_safe_next(request) or "shops:notifications")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def notification_preferences(request):
    current = notification_preferences_for_user(user=request.user)
    form = NotificationPreferencesForm(request.POST or None, initial_choices=current)
    if request.method == "POST" and form.is_valid():
        notification_preferences_set(user=request.user, choices=form.choices())
        messages.success(request, _("Your notification preferences are saved."))
        return redirect("shops:notification_preferences")
    return render(request, "shops/notification_preferences.html", {"form": form})
