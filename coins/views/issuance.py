"""Issuance rules (SPEC C-7) with their cost preview, and the monthly issuance ceiling (the
budget guardrail). Every role may read; owners and marketers write (analysts are read-only)."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from coins import services
from coins.forms_rules import CeilingForm, RuleEditForm, RuleForm
from coins.models import RuleStatus
from coins.report_selectors import (
    account_for_shop,
    get_rule_for_shop,
    guardrail_for_shop,
    rule_cost_preview,
    rules_for_shop,
)
from core import clock
from core.errors import DomainError
from shops.decorators import shop_required, write_required
from shops.models import WRITE_ROLES

# Service refusals a seller can meet here, in their language (the service's English message
# is the fallback for anything else).
ERRORS = {
    "coins_no_account": lambda: _("Open the coin account first: rules issue from its fund."),
    "coins_rule_stopped": lambda: _("A stopped rule cannot be edited: create a new rule instead."),
    "not_found": lambda: _("No such rule in this shop."),
}


def _error(exc: DomainError) -> str:
    text = ERRORS.get(exc.code or "")
    return text() if text else exc.message


def _can_write(request) -> bool:
    return request.membership.role in WRITE_ROLES


@require_safe
@shop_required
def rule_list(request):
    shop = request.shop
    status = request.GET.get("status", "")
    if status not in RuleStatus.values:
        status = ""
    page = Paginator(rules_for_shop(shop=shop, status=status), settings.SC_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    guardrail = guardrail_for_shop(shop=shop)
    context = {
        "account": account_for_shop(shop=shop),
        "page_obj": page,
        "status": status,
        "statuses": RuleStatus.choices,
        "guardrail": guardrail,
        "ceiling_form": CeilingForm(initial={"ceiling_coins": guardrail.ceiling}),
        "can_write": _can_write(request),
    }
    template = "coins/rules.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#rules-table"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@write_required
def rule_new(request):
    """Create a rule. "Preview cost" (the same form, ``preview`` pressed) shows what the rule
    would have cost over the last 30 days and saves nothing: as an htmx partial, or without
    JavaScript as the whole page again."""
    shop = request.shop
    account = account_for_shop(shop=shop)
    form = RuleForm(request.POST or None, currency=shop.currency)
    preview = None
    wants_preview = request.method == "POST" and "preview" in request.POST
    if request.method == "POST" and account is not None and form.is_valid():
        kwargs = form.service_kwargs()
        if wants_preview:
            preview = rule_cost_preview(
                shop=shop,
                kind=kwargs["kind"],
                coins=kwargs["coins"],
                percent_bp=kwargs["percent_bp"],
                threshold_minor=kwargs["threshold_minor"],
                budget_coins=kwargs["budget_coins"],
            )
        else:
            try:
                rule = services.rule_create(shop=shop, **kwargs)
            except DomainError as exc:
                form.add_error(None, _error(exc))
            else:
                messages.success(request, _("Rule “%(name)s” created.") % {"name": rule.name})
                return redirect("coins:rules")
    context = {"form": form, "preview": preview, "account": account, "previewed": wants_preview}
    template = "coins/rule_form.html"
    status = 200 if request.method != "POST" or form.is_valid() else 400
    if request.htmx and wants_preview:
        template += "#preview"
        status = 200  # htmx swaps only 2xx answers: the partial carries the errors
    return render(request, template, context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@write_required
def rule_edit(request, rule_id: int):
    shop = request.shop
    rule = get_rule_for_shop(shop=shop, rule_id=rule_id)
    initial = {
        "name": rule.name,
        "ends_on": None,
        "budget_coins": rule.budget_coins,
        "stackable": rule.stackable,
    }
    if rule.ends_at:
        initial["ends_on"] = clock.natural_day(rule.ends_at - timedelta(seconds=1))
    form = RuleEditForm(request.POST or None, rule=rule, initial=initial)
    stopped = rule.status == RuleStatus.STOPPED
    if request.method == "POST" and not stopped and form.is_valid():
        try:
            services.rule_update(shop=shop, rule_id=rule.pk, **form.service_kwargs())
        except DomainError as exc:
            form.add_error(None, _error(exc))
        else:
            messages.success(
                request, _("Rule “%(name)s” saved.") % {"name": form.cleaned_data["name"]}
            )
            return redirect("coins:rules")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "coins/rule_edit.html",
        {"form": form, "rule": rule, "stopped": stopped},
        status=status,
    )


@require_POST
@write_required
def rule_stop(request, rule_id: int):
    rule = get_rule_for_shop(shop=request.shop, rule_id=rule_id)
    services.rule_stop(shop=request.shop, rule_id=rule.pk)
    messages.success(
        request,
        _("Rule “%(name)s” stopped: it grants nothing more; coins it granted stay with buyers.")
        % {"name": rule.name},
    )
    return redirect("coins:rules")


@require_POST
@write_required
def ceiling_set(request):
    form = CeilingForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("ceiling_coins", []):
            messages.error(request, _("Ceiling not saved: %(error)s") % {"error": error})
        return redirect("coins:rules")
    try:
        budget = services.ceiling_set(
            shop=request.shop, ceiling_coins=form.cleaned_data["ceiling_coins"]
        )
    except DomainError as exc:
        messages.error(request, _error(exc))
    else:
        if budget.ceiling_coins is None:
            messages.success(request, _("The monthly issuance ceiling is removed."))
        else:
            messages.success(request, _("The monthly issuance ceiling is saved."))
    return redirect("coins:rules")
