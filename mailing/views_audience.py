"""The Audience pages (SPEC B-8 seller CRM, M-3 consent and suppression, M-4 segments): the
shop's buyers with their figures and consent, one buyer's evidence, the suppression list, the
segment editor with its live count, and the CSV export. Pages showing contacts are never
cached, and mask contacts for roles that may not see them (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from buyers.session import buyer_page
from core import clock, csvexport
from core.errors import DomainError
from core.money import Money, exponent
from core.ratelimit import client_ip
from shops.decorators import shop_required, write_required
from shops.selectors import can_see_buyer_contacts

from . import segments
from .forms_audience import (
    AudienceFilterForm,
    DefinitionFields,
    SegmentForm,
    SuppressionAddForm,
    SuppressionFilterForm,
)
from .models import ConsentStatus, SuppressionReason
from .selectors_audience import (
    audience_page_queryset,
    consent_for,
    get_buyer_for_shop,
    get_segment_for_shop,
    has_builtin_segment,
    segments_for_shop,
    suppression_for,
    suppressions_for_shop,
)
from .services import audience as services
from .services import segments as segment_services

contacts_page = cache_control(private=True, no_store=True)


def _minor_per_unit(shop) -> int:
    return 10 ** exponent(shop.currency)


def _mask(email: str | None, phone: str | None = None) -> str:
    """SPEC B-8: a contact for roles that may not see it in full (as buyers' ``masked_contact``)."""
    if email:
        local, _sep, domain = email.partition("@")
        return f"{local[:1]}***@{domain}"
    if phone:
        return f"{phone[:4]}****{phone[-2:]}"
    return ""


def _contact(row: dict, show: bool) -> str:
    if show:
        return row.get("buyer_email") or row.get("buyer_phone") or ""
    return _mask(row.get("buyer_email"), row.get("buyer_phone"))


def _rows(page, shop, show_contacts: bool) -> list[dict]:
    out = []
    for r in page:
        out.append(
            {
                **r,
                "contact": _contact(r, show_contacts),
                "spend": Money(int(r["spend_minor"] or 0), shop.currency),
                "repeat": (r["orders"] or 0) >= 2,
                "rfm_label": segments.RFM_GROUPS.get(r["rfm"], ""),
                "consent_label": segments.CONSENT_STATES.get(r["consent_state"], ""),
            }
        )
    return out


def _filtered(request) -> tuple[AudienceFilterForm, segments.SegmentDefinition, dict]:
    """The audience filter from the query string (a saved segment's conditions when
    ``segment`` names one of the shop's)."""
    shop = request.shop
    data = request.GET.copy()
    segment = None
    if data.get("segment"):
        segment = get_segment_for_shop(shop=shop, segment_id=data.get("segment"))
        for k, v in DefinitionFields.initial_from(
            segments.definition_of(segment), _minor_per_unit(shop)
        ).items():
            if k not in data and v not in (None, "", []):
                if isinstance(v, list):
                    data.setlist(k, v)
                else:
                    data[k] = str(v)
    form = AudienceFilterForm(data or None, minor_per_unit=_minor_per_unit(shop))
    if form.is_bound and form.is_valid():
        definition = form.definition()
        extra = {
            "q": form.cleaned_data.get("q") or "",
            "consent": form.cleaned_data.get("consent") or "",
            "sort": form.cleaned_data.get("sort") or "-last_order",
        }
    else:
        definition, extra = segments.ALL, {"q": "", "consent": "", "sort": "-last_order"}
    extra["segment"] = segment
    return form, definition, extra


@require_safe
@contacts_page
@shop_required
def audience(request):
    """SPEC B-8: the shop's buyers, filterable by any segment condition, consent and search."""
    shop = request.shop
    show = can_see_buyer_contacts(request.membership)
    form, definition, extra = _filtered(request)
    qs = audience_page_queryset(
        shop=shop,
        definition=definition,
        consent=extra["consent"],
        q=extra["q"],
        search_contacts=show,
        sort=extra["sort"],
    )
    page = Paginator(qs, settings.SC_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page_obj": page,
        "rows": _rows(page.object_list, shop, show),
        "contacts": show,
        "segment": extra["segment"],
        "export_query": request.GET.urlencode(),
        "can_write": request.membership.can_write,
        "awaiting": extra["consent"] == segments.CONSENT_AWAITING,
    }
    template = "mailing/audience.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#audience-list"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@contacts_page
@shop_required
def audience_buyer(request, buyer_id: int):
    """SPEC B-8, M-3: one buyer's figures, consent with its evidence, suppression and the saved
    segments that include them."""
    shop = request.shop
    show = can_see_buyer_contacts(request.membership)
    row = get_buyer_for_shop(shop=shop, buyer_id=buyer_id)
    (view,) = _rows([row], shop, show)
    email = row["buyer_email"]
    saved = list(segments_for_shop(shop=shop)[: settings.SC_PAGE_SIZE])
    member_of = segments.memberships(shop=shop, buyer_id=buyer_id, saved=saved)
    consent = consent_for(shop=shop, email=email)
    return render(
        request,
        "mailing/audience_buyer.html",
        {
            "row": view,
            "consent": consent,
            "suppression": suppression_for(shop=shop, email=email),
            "member_of": member_of,
            "contacts": show,
            "can_write": request.membership.can_write,
            "can_request": email
            and view["consent_state"] == segments.CONSENT_AWAITING
            and request.membership.can_write,
            "ConsentStatus": ConsentStatus,
        },
    )


@require_POST
@write_required
def audience_buyer_confirm_request(request, buyer_id: int):
    """SPEC M-3: send this buyer the double opt-in confirmation mail."""
    shop = request.shop
    row = get_buyer_for_shop(shop=shop, buyer_id=buyer_id)
    try:
        if not row["buyer_email"]:
            raise DomainError(_("This buyer has no email address."), code="mailing_doi_no_email")
        services.double_opt_in_request(
            shop=shop, email=row["buyer_email"], buyer_id=buyer_id, ip=client_ip(request)
        )
        messages.success(request, _("Confirmation request sent."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("mailing:audience_buyer", buyer_id=buyer_id)


@require_POST
@write_required
def audience_confirm_requests(request):
    """SPEC M-3: ask every buyer awaiting double opt-in to confirm (in the worker)."""
    from .tasks import double_opt_in_request_awaiting_task

    double_opt_in_request_awaiting_task.delay_on_commit(request.shop.pk)
    messages.success(
        request,
        _(
            "Confirmation requests are on their way to the buyers awaiting double opt-in "
            "(those asked in the last days are not asked again)."
        ),
    )
    return redirect(f"{reverse('mailing:audience')}?consent={segments.CONSENT_AWAITING}")


@require_POST
@write_required
def audience_buyer_suppress(request, buyer_id: int):
    shop = request.shop
    row = get_buyer_for_shop(shop=shop, buyer_id=buyer_id)
    if row["buyer_email"]:
        services.suppress(
            shop=shop,
            email=row["buyer_email"],
            reason=SuppressionReason.MANUAL,
            source=_("Added by %(user)s") % {"user": request.user.get_username()},
        )
        messages.success(request, _("The buyer will no longer receive your marketing emails."))
    return redirect("mailing:audience_buyer", buyer_id=buyer_id)


# --- suppression list (SPEC M-3) ----------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@contacts_page
@shop_required
def suppressions(request):
    shop = request.shop
    show = can_see_buyer_contacts(request.membership)
    add_form = SuppressionAddForm()
    if request.method == "POST":
        if not request.membership.can_write:
            return render(request, "403.html", status=403)
        add_form = SuppressionAddForm(request.POST)
        if add_form.is_valid():
            services.suppress(
                shop=shop,
                email=add_form.cleaned_data["email"],
                reason=SuppressionReason.MANUAL,
                source=_("Added by %(user)s") % {"user": request.user.get_username()},
            )
            messages.success(request, _("Added to the suppression list."))
            return redirect("mailing:suppressions")
    filters = SuppressionFilterForm(request.GET or None)
    reason, active = "", False
    if filters.is_bound and filters.is_valid():
        reason, active = filters.cleaned_data["reason"], filters.cleaned_data["active"]
    qs = suppressions_for_shop(shop=shop, reason=reason, active_only=active)
    page = Paginator(qs, settings.SC_PAGE_SIZE).get_page(request.GET.get("page"))
    now = clock.now()
    rows = [
        {
            "s": s,
            "email": s.email if show else _mask(s.email),
            "active": s.expires_at is None or s.expires_at > now,
        }
        for s in page.object_list
    ]
    context = {
        "page_obj": page,
        "rows": rows,
        "filters": filters,
        "add_form": add_form,
        "can_write": request.membership.can_write,
    }
    template = "mailing/suppressions.html"
    if request.htmx and not request.htmx.history_restore_request and request.method == "GET":
        template += "#suppression-list"
    response = render(request, template, context, status=400 if add_form.errors else 200)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
@write_required
def suppression_remove(request, suppression_id: int):
    try:
        services.unsuppress(shop=request.shop, suppression_id=suppression_id)
        messages.success(request, _("Removed from the suppression list."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("mailing:suppressions")


# --- segments (SPEC M-4) ------------------------------------------------------------------------


@require_safe
@shop_required
def segment_list(request):
    shop = request.shop
    page = Paginator(segments_for_shop(shop=shop), settings.SC_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "mailing/segments.html",
        {
            "page_obj": page,
            "can_write": request.membership.can_write,
            # Until a campaign first uses it, the built-in segment is shown without a row.
            "builtin_missing": not has_builtin_segment(shop=shop),
        },
    )


@require_safe
@shop_required
def segment_count(request, segment_id: int):
    """One saved segment's live count (loaded by htmx on the list; a plain page without JS)."""
    segment = get_segment_for_shop(shop=request.shop, segment_id=segment_id)
    n = segments.count(segment, shop=request.shop)
    return render(request, "mailing/_segment_count.html", {"count": n, "segment": segment})


@require_safe
@shop_required
def segment_preview(request):
    """SPEC M-4 live count while the seller edits: the editor's fields → the count now."""
    form = SegmentForm(request.GET, minor_per_unit=_minor_per_unit(request.shop))
    form.fields["name"].required = False
    count = segments.count(form.definition(), shop=request.shop) if form.is_valid() else None
    return render(request, "mailing/_segment_count.html", {"count": count, "errors": form.errors})


@require_http_methods(["GET", "HEAD", "POST"])
@write_required
def segment_edit(request, segment_id: int | None = None):
    """Create or edit a segment; the count follows each change (htmx), and "Count" without
    JavaScript re-renders the page with it."""
    shop = request.shop
    unit = _minor_per_unit(shop)
    segment = get_segment_for_shop(shop=shop, segment_id=segment_id) if segment_id else None
    if segment is not None and segment.builtin:
        return redirect("mailing:segments")
    count = None
    if request.method == "POST":
        form = SegmentForm(request.POST, minor_per_unit=unit)
        if "preview" in request.POST:
            form.fields["name"].required = False
            if form.is_valid():
                count = segments.count(form.definition(), shop=shop)
        elif form.is_valid():
            try:
                segment_services.segment_save(
                    shop=shop,
                    name=form.cleaned_data["name"],
                    definition=form.definition(),
                    segment_id=segment.pk if segment is not None else None,
                )
                messages.success(request, _("Segment saved."))
                return redirect("mailing:segments")
            except DomainError as exc:
                form.add_error("name", exc.message)
    else:
        initial = {}
        if segment is not None:
            initial = DefinitionFields.initial_from(segments.definition_of(segment), unit)
            initial["name"] = segment.name
        form = SegmentForm(initial=initial, minor_per_unit=unit)
        count = segments.count(segment if segment is not None else segments.ALL, shop=shop)
    status = 400 if form.errors and "preview" not in request.POST else 200
    return render(
        request,
        "mailing/segment_edit.html",
        {"form": form, "segment": segment, "count": count},
        status=status,
    )


@require_POST
@write_required
def segment_delete(request, segment_id: int):
    try:
        segment_services.segment_delete(shop=request.shop, segment_id=segment_id)
        messages.success(request, _("Segment deleted."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("mailing:segments")


# --- CSV export (SPEC B-8) ----------------------------------------------------------------------


def _export_header() -> list[str]:
    return [
        _("Buyer id"),
        _("Contact"),
        _("Country"),
        _("Site"),
        _("Orders"),
        _("Spend"),
        _("Currency"),
        _("Last order (UTC)"),
        _("Repeat buyer"),
        _("Buyer group"),
        _("Coins"),
        _("Consent"),
    ]


def _export_rows(qs, shop, show: bool) -> Iterator[list[object]]:
    unit = _minor_per_unit(shop)
    for r in qs.iterator(chunk_size=2000):
        last = r["last_order_at"]
        yield [
            r["buyer_external_id"],
            _contact(r, show),
            r["buyer_country"],
            r["buyer_site"],
            r["orders"] or 0,
            f"{(r['spend_minor'] or 0) / unit:.{exponent(shop.currency)}f}",
            shop.currency,
            last.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if last else "",
            _("yes") if (r["orders"] or 0) >= 2 else _("no"),
            str(segments.RFM_GROUPS.get(r["rfm"], "")),
            r["coins"] or 0,
            str(segments.CONSENT_STATES.get(r["consent_state"], "")),
        ]


@require_safe
@contacts_page
@shop_required
def audience_export(request):
    """SPEC B-8: the filtered audience as CSV, streamed row by row from a server-side cursor;
    contacts masked unless the role may see them; cells safe from formula injection."""
    shop = request.shop
    show = can_see_buyer_contacts(request.membership)
    form, definition, extra = _filtered(request)
    if form.is_bound and not form.is_valid():
        return HttpResponseBadRequest(_("The filter is not valid; correct it on the page first."))
    qs = audience_page_queryset(
        shop=shop,
        definition=definition,
        consent=extra["consent"],
        q=extra["q"],
        search_contacts=show,
        sort=extra["sort"],
    )
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    return csvexport.response(
        _export_header(), _export_rows(qs, shop, show), filename=f"audience-{shop.pk}-{stamp}.csv"
    )


# --- the recipient's confirmation page (SPEC M-3 double opt-in; public, no seller login) --------


@require_http_methods(["GET", "HEAD", "POST"])
@buyer_page
def confirm(request, token: str):
    """GET shows what is being confirmed and a button; only the POST confirms (mail scanners
    open links). A tampered, expired or superseded link says so and changes nothing."""
    token = token[:512]
    done, error, consent = False, "", None
    try:
        consent = services.consent_from_token(token)
        if request.method == "POST":
            consent = services.double_opt_in_confirm(token=token, ip=client_ip(request))
            done = True
        elif consent.status == ConsentStatus.CONFIRMED:
            done = True
    except DomainError as exc:
        error = exc.message
    return render(
        request,
        "mailing/confirm.html",
        {
            "consent": consent,
            "done": done,
            "error": error,
            "action": reverse("mailing:confirm", args=[token]),
        },
        status=400 if error else 200,
    )
