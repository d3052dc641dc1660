"""The coin dashboard (SPEC C-11) and the monthly grade page (C-10). Read-only: every role."""

from decimal import Decimal

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from coins import rules
from coins.report_selectors import (
    account_for_shop,
    coin_totals,
    coin_use_comparison,
    coins_money,
    daily_coins,
    grade_history,
    grade_inputs,
    guardrail_for_shop,
    latest_grade,
    month_start,
    rules_roi,
)
from core.money import Money
from shops.decorators import shop_required

WINDOWS = (30, 90)
ROI_PAGE = 10


def _pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"))


@require_safe
@shop_required
def dashboard(request):
    shop = request.shop
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    if days not in WINDOWS:
        days = 30
    series = daily_coins(shop=shop, days=days)
    totals = coin_totals(shop=shop)
    cmp = coin_use_comparison(shop=shop, days=days)
    roi_page = Paginator(rules_roi(shop=shop), ROI_PAGE).get_page(request.GET.get("page"))
    value = rules.coin_value_minor()  # one registry read for every conversion below
    roi_rows = []
    for rule in roi_page:
        cost = coins_money(shop, rule.granted_coins, value_minor=value)
        gmv = Money(rule.touched_gmv, shop.currency)
        roi = (Decimal(gmv.amount) / cost.amount).quantize(Decimal("0.1")) if cost.amount else None
        roi_rows.append({"rule": rule, "cost": cost, "gmv": gmv, "roi": roi})
    compare = {
        "coin_aov": Money(cmp.coin_paid_minor // cmp.coin_orders, shop.currency)
        if cmp.coin_orders
        else None,
        "other_aov": Money(cmp.other_paid_minor // cmp.other_orders, shop.currency)
        if cmp.other_orders
        else None,
        "coin_refund": _pct(cmp.coin_refunded_orders, cmp.coin_orders),
        "other_refund": _pct(cmp.other_refunded_orders, cmp.other_orders),
        "raw": cmp,
    }
    chart = {
        "labels": [date_format(d.day, "m-d") for d in series],
        "daily": {
            "issued": [d.issued for d in series],
            "redeemed": [d.redeemed for d in series],
            "expired": [d.expired for d in series],
            "labels": {
                "issued": _("Issued"),
                "redeemed": _("Redeemed"),
                "expired": _("Expired"),
            },
        },
        "expiring": {
            "labels": [_("Next 30 days"), _("Next 60 days"), _("Next 180 days")],
            "values": [totals.expiring_30, totals.expiring_60, totals.expiring_180],
            "label": _("Coins expiring"),
        },
    }
    context = {
        "account": account_for_shop(shop=shop),
        "days": days,
        "windows": WINDOWS,
        "series": series,
        "totals": totals,
        "industry": rules.industry_redemption_percent(),
        "committed": coins_money(shop, totals.issued, value_minor=value),
        "actual": coins_money(shop, totals.spent, value_minor=value),
        "outstanding_value": coins_money(shop, totals.outstanding, value_minor=value),
        "compare": compare,
        "roi_page": roi_page,
        "roi_rows": roi_rows,
        "guardrail": guardrail_for_shop(shop=shop),
        "chart": chart,
    }
    template = "coins/dashboard.html"
    if request.htmx and not request.htmx.history_restore_request and "page" in request.GET:
        template += "#roi-table"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@shop_required
def grade(request):
    """SPEC C-10: the last stored monthly grade, this month so far, its inputs, the benefit and
    what lifts it to the next grade."""
    shop = request.shop
    numbers = rules.grade_numbers()
    month = month_start()
    inputs = grade_inputs(shop=shop, month=month)
    live = rules.grade_for(
        issued_coins=inputs.issued,
        redeemed_coins=inputs.redeemed,
        participation=inputs.participation,
        numbers=numbers,
    )
    gap = rules.grade_gap(live, numbers, issued_coins=inputs.issued)
    context = {
        "account": account_for_shop(shop=shop),
        "stored": latest_grade(shop=shop),
        "history": grade_history(shop=shop),
        "month": month,
        "inputs": inputs,
        "live": live,
        "gap": gap,
        "numbers": numbers,
    }
    return render(request, "coins/grade.html", context)
