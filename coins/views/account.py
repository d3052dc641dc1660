"""The coin account (SPEC C-1, C-2) and its fund (C-5)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from coins import rules, services
from coins.forms import TopUpForm
from coins.models import AccountStatus
from coins.selectors import account_for_shop, fund_movements
from core.errors import DomainError
from core.money import Money
from core.pagination import KeysetPaginator
from shops.decorators import shop_required, write_required
from shops.selectors import balance_for_shop


@require_POST
@write_required
def account_open_view(request):
    """SPEC C-1: the shop opens its account itself; the checks run again here."""
    try:
        account = services.account_open(shop=request.shop)
    except DomainError:
        messages.error(
            request,
            _("The coin account cannot be opened yet: the checks below say what to fix."),
        )
    else:
        messages.success(
            request,
            _("Your coin account is open. Its coin ID is %(id)s.") % {"id": account.coin_id},
        )
    return redirect("coins:index")


ACTIONS = {"pause": AccountStatus.PAUSED, "resume": AccountStatus.ACTIVE}


@require_http_methods(["GET", "HEAD", "POST"])
@write_required
def account_status_view(request, action: str):
    """SPEC C-2: pause or resume, after a confirmation page that says what changes."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    account = account_for_shop(shop=request.shop)
    if account is None:
        raise Http404("This shop has no coin account.")
    if request.method == "POST":
        if action == "pause":
            services.account_pause(shop=request.shop)
            messages.success(request, _("The coin account is paused."))
        else:
            services.account_resume(shop=request.shop)
            messages.success(request, _("The coin account is active again."))
        return redirect("coins:index")
    return render(
        request,
        "coins/account_status.html",
        {"account": account, "action": action, "already": account.status == ACTIONS[action]},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@shop_required
def fund(request):
    """SPEC C-5: the coin fund, its top-up form (write roles) and every movement of it."""
    shop = request.shop
    account = account_for_shop(shop=shop)
    if account is None:
        messages.info(request, _("Open the coin account first."))
        return redirect("coins:index")
    balance = balance_for_shop(shop=shop)
    can_write = request.membership.can_write
    form = None
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied("Your role in this shop cannot do this.")
        form = TopUpForm(request.POST, currency=shop.currency, balance=balance)
        if form.is_valid():
            amount = form.cleaned_data["amount"]
            try:
                with transaction.atomic():
                    services.fund_top_up(
                        shop=shop, amount=amount, idempotency_key=form.cleaned_data["token"]
                    )
            except DomainError as exc:
                form.add_error("amount", _top_up_error(exc))
            else:
                messages.success(
                    request,
                    _("%(amount)s moved from the shop balance into the coin fund.")
                    % {"amount": amount.format()},
                )
                return redirect("coins:fund")
    elif can_write:
        form = TopUpForm(currency=shop.currency, balance=balance)
    value = rules.coin_value_minor()
    f = account.fund
    page = KeysetPaginator(fund_movements(shop=shop), per_page=settings.SC_PAGE_SIZE).get_page(
        request.GET
    )
    context = {
        "account": account,
        "fund": f,
        "available": Money(f.available * value, shop.currency),
        "reserved": Money(f.reserved * value, shop.currency),
        "spent": Money(f.spent * value, shop.currency),
        "balance": balance,
        "form": form,
        "page_obj": page,
        "rows": [{"m": m, "value": Money(m.coins * value, shop.currency)} for m in page],
        "coin_value": value,
        "currency": shop.currency,
    }
    template = "coins/fund.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#fund-movements"
    response = render(request, template, context, status=400 if form and form.errors else 200)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _top_up_error(exc: DomainError) -> str:
    if exc.code == "idempotency_key_reused":
        return _("This form was already sent with another amount; reload the page.")
    if "balance" in exc.code or "insufficient" in exc.code:
        return _("Your shop balance does not cover this amount.")
    return _("The top-up was refused: %(reason)s") % {"reason": exc.message}
