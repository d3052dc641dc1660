"""Seller pages of the activities module (SPEC E-1, E-2, E-5, E-6, E-8)."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from coins.selectors import account_active
from core.errors import DomainError
from shops.decorators import shop_required, write_required
from shops.models import Sku
from shops.selectors import usable_carriers

from . import selectors, services
from .forms import EnrolForm
from .models import ActivityKind
from .selectors_postmortem import counting_exit, filings, get_exit_with_filings


@require_safe
@shop_required
def index(request):
    shop = request.shop
    activities = Paginator(selectors.activities_open(), settings.SC_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    enrolments = Paginator(
        selectors.enrolments_for_shop(shop=shop), settings.SC_PAGE_SIZE
    ).get_page(request.GET.get("epage"))
    context = {
        "ov": selectors.overview(shop=shop),
        "page_obj": activities,
        "enrolments": enrolments,
        # The banner shows an exit that still counts: an upheld appeal lifts it (E-7).
        "last_exit": counting_exit(shop=shop),
    }
    if request.htmx and request.htmx.target == "activities-table":
        return render(request, "activities/index.html#activities-table", context)
    return render(request, "activities/index.html", context)


def _skus(shop):
    return Sku.objects.filter(shop=shop).order_by("code")


def _detail_context(request, activity, form, checks=None):
    shop = request.shop
    return {
        "activity": activity,
        "form": form,
        "checks": checks,
        "enrolments": selectors.enrolments_for_shop(shop=shop, activity=activity)[:50],
    }


@require_safe
@shop_required
def activity_detail(request, activity_id):
    activity = selectors.get_activity(activity_id=activity_id)
    form = EnrolForm(skus=_skus(request.shop))
    return render(request, "activities/detail.html", _detail_context(request, activity, form))


def _precheck(request, activity, form):
    shop = request.shop
    data = form.cleaned_data
    return services.precheck_sku(
        activity=activity,
        sku=data["sku"],
        price_minor=data["price_minor"],
        stock=data["stock"],
        carriers_ok=bool(usable_carriers(shop=shop)),
        coin_account_active=activity.kind != ActivityKind.COIN_EVENT or account_active(shop=shop),
        exited=selectors.reenrolment_blocked(shop=shop),
        committed_elsewhere=selectors.stock_committed_elsewhere(sku=data["sku"], activity=activity),
    )


@require_safe
@shop_required
def precheck(request, activity_id):
    """SPEC E-2 on demand: the SKU's conditions for this price and stock, nothing written."""
    activity = selectors.get_activity(activity_id=activity_id)
    form = EnrolForm(request.GET or None, skus=_skus(request.shop))
    checks = _precheck(request, activity, form) if form.is_valid() else None
    context = _detail_context(request, activity, form, checks)
    if request.htmx:
        return render(request, "activities/detail.html#precheck", context)
    return render(request, "activities/detail.html", context)


@require_POST
@write_required
def enrol(request, activity_id):
    activity = selectors.get_activity(activity_id=activity_id)
    form = EnrolForm(request.POST, skus=_skus(request.shop))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.enrolment_create(
                shop=request.shop,
                activity=activity,
                sku=data["sku"],
                activity_price_minor=data["price_minor"],
                stock=data["stock"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
            checks = _precheck(request, activity, form)
            return render(
                request,
                "activities/detail.html",
                _detail_context(request, activity, form, checks),
                status=400,
            )
        messages.success(request, _("%(sku)s is enrolled.") % {"sku": data["sku"].code})
        return redirect("activities:detail", activity_id=activity.pk)
    return render(
        request, "activities/detail.html", _detail_context(request, activity, form), status=400
    )


@require_POST
@write_required
def withdraw(request, enrolment_id):
    try:
        enrolment = services.enrolment_withdraw(shop=request.shop, enrolment_id=enrolment_id)
    except DomainError as exc:
        if exc.code == "not_found":
            from django.http import Http404

            raise Http404 from None
        messages.error(request, str(exc))
        return redirect("activities:index")
    messages.success(request, _("%(sku)s left the activity.") % {"sku": enrolment.sku.code})
    return redirect("activities:detail", activity_id=enrolment.activity_id)


@require_safe
@shop_required
def monitor(request):
    """SPEC E-6: each metric against its threshold, the early warning and the headroom."""
    snapshot = selectors.latest_snapshot(shop=request.shop)
    rows = selectors.metric_rows(snapshot=snapshot) if snapshot else []
    issues = selectors.consistency_issues_for_shop(shop=request.shop)
    return render(
        request,
        "activities/monitor.html",
        {
            "snapshot": snapshot,
            "rows": rows,
            # SPEC E-6 layer 1: the latest findings of the 15-minute check, and how many.
            "issues": list(issues[:5]),
            "issues_total": issues.count(),
        },
    )


def _paged_list(request, *, rows, template, target):
    page_obj = Paginator(rows, settings.SC_PAGE_SIZE).get_page(request.GET.get("page"))
    if request.htmx and request.htmx.target == target:
        return render(request, f"{template}#{target}", {"page_obj": page_obj})
    return render(request, template, {"page_obj": page_obj})


@require_safe
@shop_required
def checks(request):
    """SPEC E-6 layer 1: what the 15-minute check found on the shop's activity orders."""
    return _paged_list(
        request,
        rows=selectors.consistency_issues_for_shop(shop=request.shop),
        template="activities/checks.html",
        target="checks-table",
    )


@require_safe
@shop_required
def reports(request):
    """SPEC E-6 layer 3: the shop's activity review reports."""
    return _paged_list(
        request,
        rows=selectors.reports_for_shop(shop=request.shop),
        template="activities/reports.html",
        target="reports-table",
    )


@require_safe
@shop_required
def reenrol(request):
    """SPEC E-8: each re-enrolment condition, its state and the earliest date it can pass."""
    conditions = selectors.reenrolment_conditions(shop=request.shop)
    failing = [c for c in conditions if not c.check.passed]
    return render(
        request,
        "activities/reenrol.html",
        {
            "conditions": conditions,
            "last_exit": selectors.exits_for_shop(shop=request.shop).first(),
            "ready": bool(conditions) and not failing,
            # the earliest day every condition can pass, when each failing one has a date
            "earliest": max(dates)
            if failing and len(dates := [c.earliest for c in failing if c.earliest]) == len(failing)
            else None,
        },
    )


@require_safe
@shop_required
def exit_detail(request, exit_id):
    exit_ = get_exit_with_filings(shop=request.shop, exit_id=exit_id)
    metrics = [
        {
            "metric": m,
            "label": services.metric_label(m),
            "today": ev["today"],
            "yesterday": ev["yesterday"] or {},
            "orders": ev["orders"],
        }
        for m, ev in exit_.evidence.get("metrics", {}).items()
    ]
    incidents = selectors.incidents_by_ids(ids=exit_.evidence.get("incidents", []))
    return render(
        request,
        "activities/exit.html",
        {
            "exit": exit_,
            "metrics": metrics,
            "incidents": incidents,
            "filings": filings(exit_=exit_),
        },
    )
