"""Sending health (SPEC M-12) and monthly statements (SPEC M-9)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core.pagination import InvalidCursor, KeysetPaginator
from shops.decorators import shop_required, write_required

from .. import rules
from ..selectors_campaigns import health_days, open_pause, statements_for_shop
from ..services import health as services


@require_safe
@shop_required
def health(request):
    shop = request.shop
    pause = open_pause(shop=shop)
    thresholds = {
        "delivery": rules.delivery_rate_min(),
        "unsubscribe": rules.unsubscribe_rate_max(),
        "complaint": rules.complaint_rate_max(),
    }
    days = []
    for h in health_days(shop=shop):
        delivered = h.sent - h.bounced
        days.append(
            {
                "day": h.day,
                "sent": h.sent,
                "delivery": rules.rate(delivered, h.sent),
                "unsubscribe": rules.rate(h.unsubscribed, h.sent),
                "complaint": rules.rate(h.complained, h.sent),
                "breaches": h.breaches,
            }
        )
    suggestions = []
    if pause:
        suggestions = [services.SUGGESTIONS[k] for k in pause.drivers.get("breaches", [])]
    return render(
        request,
        "mailing/campaigns/health.html",
        {
            "pause": pause,
            "suggestions": suggestions,
            "days": days,
            "thresholds": thresholds,
            "benchmarks": rules.benchmarks(),
            "pause_after": rules.pause_after_days(),
            "can_write": request.membership.can_write,
        },
    )


@require_POST
@write_required
def health_resume(request):
    if services.pause_end(shop=request.shop, user=request.user):
        messages.success(request, _("Sending resumed. Watch the rates over the next days."))
    return redirect("mailing:health")


@require_safe
@shop_required
def statements(request):
    try:
        page = KeysetPaginator(
            statements_for_shop(shop=request.shop), per_page=settings.SC_PAGE_SIZE
        ).get_page(request.GET)
    except InvalidCursor:
        raise Http404("Bad page.") from None
    return render(
        request,
        "mailing/campaigns/statements.html",
        {"page_obj": page, "free": rules.free_per_month(), "pause": open_pause(shop=request.shop)},
    )
