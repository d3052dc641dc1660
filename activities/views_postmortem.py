"""Seller pages of the post-mortem and the appeal of a forced exit (SPEC E-7):
"Marketing > Activity Performance Appeal"."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core.errors import DomainError
from shops.decorators import shop_required, write_required

from . import selectors_postmortem as sel
from . import services
from .forms_postmortem import AppealForm, PostMortemForm
from .services.evaluation import metric_label

PM_FIELDS = (
    "metric",
    "root_cause",
    "affected_orders",
    "carrier",
    "erp_sync_status",
    "timeline",
    "corrective_actions",
    "owner",
    "prevention",
    "expected_fix_date",
    "stock_status",
    "stock_notes",
)


@require_safe
@shop_required
def appeals(request):
    """Every exit of the shop with its post-mortem and appeal, their states and deadlines."""
    page = Paginator(sel.exits_with_filings(shop=request.shop), settings.SC_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"page_obj": page, "rows": [sel.filings(exit_=e) for e in page.object_list]}
    if request.htmx and request.htmx.target == "appeals-table":
        return render(request, "activities/postmortem_list.html#appeals-table", context)
    return render(request, "activities/postmortem_list.html", context)


def _metrics(exit_) -> list[tuple[str, str]]:
    return [(m, metric_label(m)) for m in exit_.metrics]


def _pm_form(request, exit_, f, data=None, files=None):
    postmortem = f.postmortem
    if postmortem is not None and postmortem.submitted_at is not None:
        # a revision starts from what was filed last time
        initial = {name: getattr(postmortem, name) for name in PM_FIELDS}
    else:
        initial = sel.postmortem_prefill(exit_=exit_, user=request.user).initial
    has_files = postmortem is not None and services.evidence_files(owner=postmortem).exists()
    return PostMortemForm(
        data, files, initial=initial, metrics=_metrics(exit_), needs_files=not has_files
    )


def _pm_context(request, exit_, f, form):
    postmortem = f.postmortem
    return {
        "exit": exit_,
        "f": f,
        "form": form if f.can_file else None,
        "postmortem": postmortem,
        "filed": postmortem is not None and postmortem.submitted_at is not None,
        "files": list(services.evidence_files(owner=postmortem)) if postmortem else [],
        "metric_label": metric_label(postmortem.metric)
        if postmortem is not None and postmortem.metric
        else "",
    }


@require_safe
@shop_required
def postmortem(request, exit_id):
    exit_ = sel.get_exit_with_filings(shop=request.shop, exit_id=exit_id)
    f = sel.filings(exit_=exit_)
    form = _pm_form(request, exit_, f) if f.can_file else None
    return render(request, "activities/postmortem_form.html", _pm_context(request, exit_, f, form))


@require_POST
@write_required
def postmortem_file(request, exit_id):
    exit_ = sel.get_exit_with_filings(shop=request.shop, exit_id=exit_id)
    f = sel.filings(exit_=exit_)
    form = _pm_form(request, exit_, f, request.POST, request.FILES)
    if not f.can_file:
        messages.error(request, _("This post-mortem cannot be filed now."))
        return redirect("activities:postmortem", exit_id=exit_.pk)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.postmortem_file(
                shop=request.shop,
                exit_id=exit_.pk,
                data=services.PostMortemInput(**{name: data[name] for name in PM_FIELDS}),
                files=data["evidence"],
                by=request.user,
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Your post-mortem is filed. The platform reviews it; you will be told.")
            )
            return redirect("activities:postmortem", exit_id=exit_.pk)
    return render(
        request,
        "activities/postmortem_form.html",
        _pm_context(request, exit_, f, form),
        status=400,
    )


def _appeal_context(exit_, f, form):
    appeal = getattr(exit_, "appeal", None)
    return {
        "exit": exit_,
        "f": f,
        "form": form if f.can_appeal else None,
        "appeal": appeal,
        "files": list(services.evidence_files(owner=appeal)) if appeal else [],
    }


@require_safe
@shop_required
def appeal(request, exit_id):
    exit_ = sel.get_exit_with_filings(shop=request.shop, exit_id=exit_id)
    f = sel.filings(exit_=exit_)
    form = AppealForm(initial=sel.appeal_prefill(exit_=exit_).initial) if f.can_appeal else None
    return render(request, "activities/postmortem_appeal.html", _appeal_context(exit_, f, form))


@require_POST
@write_required
def appeal_open(request, exit_id):
    exit_ = sel.get_exit_with_filings(shop=request.shop, exit_id=exit_id)
    f = sel.filings(exit_=exit_)
    if not f.can_appeal:
        messages.error(request, _("This removal cannot be appealed now."))
        return redirect("activities:appeal", exit_id=exit_.pk)
    form = AppealForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.appeal_open(
                shop=request.shop,
                exit_id=exit_.pk,
                statement=data["statement"],
                logistics_lines=data["logistics_lines"],
                files=data["evidence"],
                by=request.user,
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Your appeal is open. The platform reviews it."))
            return redirect("activities:appeal", exit_id=exit_.pk)
    return render(
        request, "activities/postmortem_appeal.html", _appeal_context(exit_, f, form), status=400
    )
