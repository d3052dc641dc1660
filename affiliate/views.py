"""The seller's affiliate pages (SPEC A-2, A-9: the seller's view): the programme and its
rates, attributed orders with their commissions, and the promoters who brought them."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core.checks import all_passed
from core.errors import DomainError
from shops.decorators import shop_required, write_required
from shops.models import StoreLevel

from . import rules, selectors, services
from .forms import ProgrammeForm, RateForm, RateRemoveForm, StatusFilterForm
from .models import CommissionRate, CommissionStatus, RateScope


def _index_context(request, *, programme_form=None, rate_form=None) -> dict:
    shop = request.shop
    checks = selectors.programme_checks(shop=shop)
    programme = selectors.programme_for_shop(shop=shop)
    rates = selectors.rates_for_shop(shop=shop)
    shop_rate = next((r for r in rates if r.scope == RateScope.SHOP), None)
    if programme_form is None:
        initial = {}
        if programme is not None:
            initial["min_order"] = programme.min_order_minor / 100 or None
        if shop_rate is not None:
            initial["rate"] = shop_rate.rate_bp / 100
        programme_form = ProgrammeForm(initial=initial, currency=shop.currency)
    return {
        "checks": checks,
        "eligible": all_passed(checks),
        "levels": StoreLevel.values,
        "min_level": rules.min_store_level(),
        "programme": programme,
        "enabled": bool(programme and programme.enabled),
        "rates": [r for r in rates if r.scope != RateScope.SHOP],
        "shop_rate": shop_rate,
        "summary": selectors.commission_summary(shop=shop),
        "programme_form": programme_form,
        "rate_form": rate_form or RateForm(shop=shop),
        "rate_min": rules.rate_min_bp() / 100,
        "rate_max": rules.rate_max_bp() / 100,
        "can_write": request.membership.can_write,
    }


@require_safe
@shop_required
def index(request):
    return render(request, "affiliate/index.html", _index_context(request))


@require_POST
@write_required
def programme_save(request):
    """Enable the programme or change its shop-wide rate and minimum order amount."""
    form = ProgrammeForm(request.POST, currency=request.shop.currency)
    checks = selectors.programme_checks(shop=request.shop)
    if not all_passed(checks):
        messages.error(
            request,
            _(
                "Your shop is at store level L%(level)s; the affiliate programme needs store "
                "level L%(min)s or higher."
            )
            % {"level": request.shop.store_level, "min": rules.min_store_level()},
        )
        return redirect("affiliate:index")
    if not form.is_valid():
        ctx = _index_context(request, programme_form=form)
        return render(request, "affiliate/index.html", ctx, status=400)
    try:
        services.programme_enable(
            shop=request.shop,
            rate_bp=form.cleaned_data["rate"],
            min_order_minor=form.cleaned_data["min_order"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("affiliate:index")
    messages.success(request, _("Your affiliate programme is on."))
    return redirect("affiliate:index")


@require_POST
@write_required
def programme_stop(request):
    services.programme_disable(shop=request.shop)
    messages.success(
        request,
        _("Your affiliate programme is off. Commissions already locked still run their course."),
    )
    return redirect("affiliate:index")


@require_POST
@write_required
def rate_save(request):
    form = RateForm(request.POST, shop=request.shop)
    if not form.is_valid():
        ctx = _index_context(request, rate_form=form)
        return render(request, "affiliate/index.html", ctx, status=400)
    data = form.cleaned_data
    services.rate_set(
        shop=request.shop,
        scope=data["scope"],
        rate_bp=data["rate"],
        category=data.get("category") or "",
        product=data.get("product"),
    )
    messages.success(request, _("Rate saved."))
    return redirect("affiliate:index")


@require_POST
@write_required
def rate_remove(request):
    form = RateRemoveForm(request.POST)
    rate = (
        CommissionRate.objects.filter(shop=request.shop, pk=form.cleaned_data["rate_id"]).first()
        if form.is_valid()
        else None
    )
    if rate is None or rate.scope == RateScope.SHOP:
        messages.error(request, _("That rate is not one you can remove."))
        return redirect("affiliate:index")
    services.rate_delete(shop=request.shop, rate_id=rate.pk)
    messages.success(request, _("Rate removed."))
    return redirect("affiliate:index")


@require_safe
@shop_required
def orders(request):
    """Attributed orders and their commissions, newest first, filterable by status."""
    form = StatusFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    qs = selectors.commissions_for_shop(shop=request.shop, status=status)
    page = Paginator(qs, settings.SC_PAGE_SIZE).get_page(request.GET.get("page"))
    template = "affiliate/orders.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#commission-list"
    response = render(
        request,
        template,
        {
            "page_obj": page,
            "status": status,
            "statuses": CommissionStatus.choices,
            "summary": selectors.commission_summary(shop=request.shop),
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@shop_required
def commission(request, commission_id: int):
    c = selectors.get_commission_for_shop(shop=request.shop, commission_id=commission_id)
    window = rules.attribution_window()
    return render(
        request,
        "affiliate/commission.html",
        {
            "c": c,
            "window_days": window.days,
            "click_to_order": c.order.placed_at - c.click.clicked_at,
        },
    )


@require_safe
@shop_required
def promoters(request):
    qs = selectors.promoters_for_shop(shop=request.shop)
    page = Paginator(qs, settings.SC_PAGE_SIZE).get_page(request.GET.get("page"))
    template = "affiliate/promoters.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#promoter-list"
    response = render(request, template, {"page_obj": page, "currency": request.shop.currency})
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@shop_required
def diagnose(request):
    """An order number → its attribution path, every step checked, the first break marked."""
    from .diagnostics import diagnose as run

    number = (request.GET.get("number") or "").strip()[:64]
    diagnosis = run(shop=request.shop, number=number) if number else None
    return render(
        request,
        "affiliate/diagnose.html",
        {"number": number, "diagnosis": diagnosis, "not_found": bool(number) and not diagnosis},
    )
