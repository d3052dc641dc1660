"""Product coin deduction (SPEC C-3) and the configuration status board (C-4)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from coins import rules, services
from coins.forms import ProductDeductionForm
from coins.models import CoinProductSetting
from coins.selectors import (
    LabelNumbers,
    account_for_shop,
    product_coin_status,
    product_status_queryset,
    products_of_shop,
)
from core.errors import DomainError
from core.money import Money
from shops.decorators import shop_required


def _reasons(shop) -> dict[str, dict[str, str]]:
    """What each C-4 problem means to a seller, how to fix it, and where."""
    fund_min = Money(rules.fund_display_min_minor(), shop.currency).format()
    return {
        rules.REASON_SWITCH_OFF: {
            "text": _("Coin deduction is off for this product."),
            "fix": _("Tick the product, choose “On” and a maximum ratio, then apply."),
            "url": "#coin-bulk-edit",
            "link": _("Edit products"),
        },
        rules.REASON_NOT_APPROVED: {
            "text": _("The product is not approved by the marketplace."),
            "fix": _("Coins show once the marketplace approves the product; check its review."),
            "url": "",
            "link": _("Product details"),
        },
        rules.REASON_ACCOUNT_INACTIVE: {
            "text": _("The coin account is not active."),
            "fix": _("Open the coin account, or resume it if it is paused."),
            "url": reverse("coins:index"),
            "link": _("Coin account"),
        },
        rules.REASON_FUND_LOW: {
            "text": _("The coin fund holds less than %(min)s.") % {"min": fund_min},
            "fix": _("Top up the coin fund to at least %(min)s.") % {"min": fund_min},
            "url": reverse("coins:fund"),
            "link": _("Top up the fund"),
        },
    }


def _apply(*, shop, form: ProductDeductionForm) -> int:
    """Apply the bulk edit: products grouped by their resulting (switch, ratio), one service
    call per group, all in one transaction (a refusal writes nothing)."""
    products = products_of_shop(shop=shop, product_ids=form.cleaned_data["product"])
    switch, ratio = form.cleaned_data.get("switch"), form.cleaned_data.get("ratio")
    groups: dict[tuple[bool, int], list[int]] = {}
    for p in products:
        try:
            current = p.coin_setting
        except CoinProductSetting.DoesNotExist:  # no setting yet: off, 0%
            current = None
        enabled = (switch == "on") if switch else bool(current and current.enabled)
        bp = ratio if ratio is not None else (current.max_ratio_bp if current else 0)
        groups.setdefault((enabled, bp), []).append(p.pk)
    with transaction.atomic():
        for (enabled, bp), ids in sorted(groups.items()):
            services.product_deduction_set(
                shop=shop, product_ids=ids, enabled=enabled, max_ratio_bp=bp
            )
    return len(products)


def _error(exc: DomainError) -> str:
    if exc.code == "coins_invalid_ratio" and "above 0" in exc.message:
        return _("A product with coin deduction on needs a maximum ratio above 0%.")
    if exc.code == "coins_invalid_ratio":
        return _("The maximum ratio is out of range.")
    if exc.code == "coins_unknown_product":
        return _("Some selected products are not products of this shop.")
    return exc.message


@require_http_methods(["GET", "HEAD", "POST"])
@shop_required
def products(request):
    """SPEC C-3/C-4: every product with its coin switch, ratio, storefront label and, where
    coins do not show, each reason with how to fix it; bulk edit for write roles."""
    shop = request.shop
    form = None
    if request.method == "POST":
        if not request.membership.can_write:
            raise PermissionDenied("Your role in this shop cannot do this.")
        form = ProductDeductionForm(request.POST)
        if form.is_valid():
            try:
                n = _apply(shop=shop, form=form)
            except DomainError as exc:
                form.add_error(None, _error(exc))
            else:
                messages.success(
                    request,
                    ngettext(
                        "Coin deduction updated for %(n)s product.",
                        "Coin deduction updated for %(n)s products.",
                        n,
                    )
                    % {"n": n},
                )
                back = request.POST.get("next", "")
                if back and url_has_allowed_host_and_scheme(back, allowed_hosts=None):
                    return redirect(back)
                return redirect("coins:products")
    problems_only = request.GET.get("problems") == "1"
    q = (request.GET.get("q") or "").strip()[:100]
    account = account_for_shop(shop=shop)
    qs = product_status_queryset(shop=shop, account=account, problems_only=problems_only, q=q)
    page = Paginator(qs, settings.SC_PAGE_SIZE).get_page(request.GET.get("page"))
    reasons = _reasons(shop)
    numbers = LabelNumbers.read()
    rows = []
    for product in page.object_list:
        status = product_coin_status(
            product=product, account=account, currency=shop.currency, numbers=numbers
        )
        explained = []
        for code in status.problems:
            r = dict(reasons[code])
            if code == rules.REASON_NOT_APPROVED:
                r["url"] = reverse("shops:product_detail", args=[product.pk])
            explained.append(r)
        rows.append({"status": status, "reasons": explained})
    context = {
        "page_obj": page,
        "rows": rows,
        "problems_only": problems_only,
        "q": q,
        "form": form,
        "cap": f"{rules.deduction_cap_bp() / 100:g}",
        "can_write": request.membership.can_write,
        "account": account,
        "currency": shop.currency,
    }
    template = "coins/products.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#coin-products"
    response = render(request, template, context, status=400 if form and form.errors else 200)
    patch_vary_headers(response, ["HX-Request"])
    return response
