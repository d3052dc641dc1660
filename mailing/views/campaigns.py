"""Campaign pages (SPEC M-5 to M-10): list, compose from a template, per-language content,
preview (desktop/phone), test send, schedule, A/B, the pre-send checklist and confirmation,
progress while sending (htmx polling), pause/resume/cancel, the send log with "diagnose"."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core import ratelimit
from core.errors import DomainError
from core.pagination import InvalidCursor, KeysetPaginator
from shops.decorators import shop_required, write_required

from ..forms_campaigns import (
    AbForm,
    CampaignCreateForm,
    ContentForm,
    LogFilterForm,
    ScheduleForm,
    TestSendForm,
)
from ..models import CampaignStatus, Message
from ..selectors_audience import is_suppressed
from ..selectors_campaigns import (
    campaigns_for_shop,
    get_campaign_for_shop,
    get_message_for_shop,
    open_pause,
    progress,
    send_log,
)
from ..services import campaigns as services
from ..services import dispatch


def _page(request, queryset):
    try:
        return KeysetPaginator(queryset, per_page=settings.SC_PAGE_SIZE).get_page(request.GET)
    except InvalidCursor:
        raise Http404("Bad page.") from None


@require_safe
@shop_required
def campaign_list(request):
    status = request.GET.get("status", "")
    if status not in CampaignStatus.values:
        status = ""
    page = _page(request, campaigns_for_shop(shop=request.shop, status=status))
    template = "mailing/campaigns/list.html"
    if request.htmx:
        template += "#campaign-list"
    return render(
        request,
        template,
        {
            "page_obj": page,
            "status": status,
            "statuses": CampaignStatus.choices,
            "can_write": request.membership.can_write,
            "pause": open_pause(shop=request.shop),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@write_required
def campaign_new(request):
    form = CampaignCreateForm(request.POST or None, shop=request.shop)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create_from_template(
                shop=request.shop,
                name=form.cleaned_data["name"],
                template=form.cleaned_data["template"],
                segment=form.cleaned_data["segment"],
                created_by=request.user,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("mailing:campaign_detail", campaign.pk)
    return render(request, "mailing/campaigns/new.html", {"form": form})


def _detail_context(request, campaign, **extra):
    contents = list(campaign.contents.order_by("variant", "language"))
    ctx = {
        "campaign": campaign,
        "contents": contents,
        "content_forms": [
            (
                c,
                ContentForm(
                    initial={
                        "language": c.language,
                        "variant": c.variant,
                        "subject": c.subject,
                        "preheader": c.preheader,
                        "body": c.body,
                    },
                    prefix=f"{c.variant}-{c.language}",
                ),
            )
            for c in contents
        ],
        "progress": progress(campaign=campaign),
        "can_write": request.membership.can_write,
        "schedule_form": ScheduleForm(
            initial={"send_on": campaign.send_on, "send_at_local": campaign.send_at_local}
        ),
        "ab_form": AbForm(
            initial={
                "enabled": campaign.ab_enabled,
                "test_percent": campaign.ab_test_percent,
                "metric": campaign.ab_metric,
                "wait_hours": campaign.ab_wait_hours,
            }
        ),
        "test_form": TestSendForm(
            initial={"to": request.user.email, "language": campaign.default_language}
        ),
        "checklist": services.checklist(campaign=campaign)
        if campaign.status == CampaignStatus.DRAFT
        else None,
        "pause": open_pause(shop=request.shop),
    }
    ctx.update(extra)
    return ctx


@require_safe
@shop_required
def campaign_detail(request, campaign_id: int):
    campaign = get_campaign_for_shop(shop=request.shop, campaign_id=campaign_id)
    return render(request, "mailing/campaigns/detail.html", _detail_context(request, campaign))


@require_safe
@shop_required
def campaign_progress(request, campaign_id: int):
    """The progress region, polled by htmx every 2 s while the campaign sends."""
    campaign = get_campaign_for_shop(shop=request.shop, campaign_id=campaign_id)
    return render(
        request,
        "mailing/campaigns/detail.html#progress",
        {"campaign": campaign, "progress": progress(campaign=campaign)},
    )


def _back(campaign_id):
    return redirect("mailing:campaign_detail", campaign_id)


def _refused(request, exc: DomainError) -> None:
    messages.error(request, exc.message)


@require_POST
@write_required
def campaign_content(request, campaign_id: int):
    campaign = get_campaign_for_shop(shop=request.shop, campaign_id=campaign_id)
    prefix = request.POST.get("prefix", "")
    form = ContentForm(request.POST, prefix=prefix or None)
    if not form.is_valid():
        messages.error(
            request,
            _("Check the subject and content: %(errors)s")
            % {"errors": "; ".join(str(e) for errs in form.errors.values() for e in errs)},
        )
        return _back(campaign.pk)
    try:
        services.campaign_content_set(
            campaign=campaign, content=services.ContentInput(**form.cleaned_data)
        )
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Content saved."))
    return _back(campaign.pk)


@require_POST
@write_required
def campaign_schedule(request, campaign_id: int):
    campaign = get_campaign_for_shop(shop=request.shop, campaign_id=campaign_id)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            " ".join(str(e) for e in form.non_field_errors()) or _("Enter a valid date and time."),
        )
        return _back(campaign.pk)
    try:
        services.campaign_schedule(
            campaign=campaign,
            send_on=form.cleaned_data["send_on"],
            send_at_local=form.cleaned_data["send_at_local"],
        )
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Schedule saved."))
    return _back(campaign.pk)


@require_POST
@write_required
def campaign_ab(request, campaign_id: int):
    campaign = get_campaign_for_shop(shop=request.shop, campaign_id=campaign_id)
    form = AbForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the A/B test settings."))
        return _back(campaign.pk)
    try:
        services.campaign_ab_set(campaign=campaign, **form.cleaned_data)
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("A/B test saved."))
    return _back(campaign.pk)


@require_POST
@write_required
def campaign_test_send(request, campaign_id: int):
    campaign = get_campaign_for_shop(shop=request.shop, campaign_id=campaign_id)
    if ratelimit.hit(
        request, group="mailing.test_send", key=f"user:{request.user.pk}", rate="10/h"
    ):
        messages.error(request, _("Too many test sends: try again in an hour."))
        return _back(campaign.pk)
    form = TestSendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a valid email address."))
        return _back(campaign.pk)
    try:
        services.campaign_test_send(
            campaign=campaign, to=form.cleaned_data["to"], language=form.cleaned_data["language"]
        )
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Test sent to %(to)s.") % {"to": form.cleaned_data["to"]})
    return _back(campaign.pk)


@require_POST
@write_required
def campaign_confirm(request, campaign_id: int):
    campaign = get_campaign_for_shop(shop=request.shop, campaign_id=campaign_id)
    try:
        services.campaign_confirm(campaign=campaign)
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Confirmed: the campaign is being sent."))
    return _back(campaign.pk)


def _transition(action):
    @require_POST
    @write_required
    def view(request, campaign_id: int):
        campaign = get_campaign_for_shop(shop=request.shop, campaign_id=campaign_id)
        try:
            action(campaign=campaign)
        except DomainError as exc:
            _refused(request, exc)
        return _back(campaign.pk)

    return view


campaign_pause = _transition(services.campaign_pause)
campaign_resume = _transition(services.campaign_resume)
campaign_cancel = _transition(services.campaign_cancel)


@require_safe
@shop_required
def campaign_preview(request, campaign_id: int):
    """SPEC issue 4: the message as desktop and phone show it, per language and variant."""
    from ..rendering import sample_context

    campaign = get_campaign_for_shop(shop=request.shop, campaign_id=campaign_id)
    contents = dispatch._contents(campaign)
    language = request.GET.get("lang", campaign.default_language)
    variant = request.GET.get("variant", "A")
    content = dispatch.pick_content(
        contents, variant=variant, language=language, default=campaign.default_language
    )
    built, problem = None, ""
    if content is not None:
        probe = Message(
            campaign=campaign,
            shop=campaign.shop,
            email="preview@example.com",
            language=content.language,
            variant=content.variant,
        )
        sender = dispatch.Sender(name=request.shop.name, address="", domain="example.com")
        try:
            built = dispatch.build_message(
                campaign, probe, sender, content, extra_context=sample_context(request.shop)
            )
        except DomainError as exc:
            problem = exc.message
    return render(
        request,
        "mailing/campaigns/preview.html",
        {
            "campaign": campaign,
            "built": built,
            "problem": problem,
            "content": content,
            "languages": sorted({lang for (_v, lang) in contents}),
            "variants": sorted({v for (v, _lang) in contents}),
        },
    )


@require_safe
@shop_required
def campaign_log(request, campaign_id: int):
    """SPEC M-10: the send log, filterable by failure, each row with "diagnose"."""
    campaign = get_campaign_for_shop(shop=request.shop, campaign_id=campaign_id)
    form = LogFilterForm(request.GET)
    code = form.cleaned_data.get("code", "") if form.is_valid() else ""
    page = _page(request, send_log(campaign=campaign, code=code))
    template = "mailing/campaigns/log.html"
    if request.htmx:
        template += "#log-list"
    response = render(request, template, {"campaign": campaign, "page_obj": page, "filters": form})
    response["Cache-Control"] = "private, no-store"  # buyer addresses
    return response


# Lazy: worded in the reader's language when the page renders, not at import.
DIAGNOSES = {
    401: (
        gettext_lazy("Your sender domain is not verified."),
        gettext_lazy(
            "Publish the SPF, DKIM and DMARC records shown on the sender domain page. DNS "
            "changes can take up to 48 hours; the messages wait and are sent once it verifies."
        ),
        "mailing:domain",
    ),
    429: (
        gettext_lazy("Your daily sending quota was reached."),
        gettext_lazy(
            "Nothing to do: the rest goes out from the next day. The quota is 2,000 a day for "
            "the first 30 days after enabling, then 5,000."
        ),
        "",
    ),
    550: (
        gettext_lazy("The recipient's mail server rejected the address (unknown or refused)."),
        gettext_lazy(
            "The address is quarantined for 30 days. Ask the buyer for a current address; "
            "repeated rejections hurt your delivery rate."
        ),
        "mailing:suppressions",
    ),
    422: (
        gettext_lazy("The message could not be built."),
        gettext_lazy(
            "Fix the content named in the detail, or complete the footer in your brand profile."
        ),
        "mailing:brand",
    ),
    0: (
        gettext_lazy("The sending worker stopped while handing this message over."),
        gettext_lazy(
            "It may or may not have arrived. It is never sent a second time, so the buyer "
            "never gets it twice; nothing to do."
        ),
        "",
    ),
}
SOFT = (
    gettext_lazy(
        "The recipient's server could not take the message for now (full mailbox, greylisting)."
    ),
    gettext_lazy(
        "It is retried on its own with growing delays; after the last attempt it is given up."
    ),
    "",
)
HARD = (
    gettext_lazy("The recipient's server refused the message permanently."),
    gettext_lazy("Check the detail below; the address is quarantined for 30 days."),
    "mailing:suppressions",
)
# SPEC M-10: a permanent refusal of the sender or the content (not of the address) fails the
# message without quarantining the address.
REFUSED = (
    gettext_lazy(
        "The recipient's server refused this message permanently, but not because of the "
        "address: it objected to the sender or to the content (see the detail below)."
    ),
    gettext_lazy(
        "The address is not quarantined. Check the content and links (and your sender domain) "
        "before the next campaign."
    ),
    "",
)


@require_safe
@shop_required
def message_diagnose(request, campaign_id: int, message_pk: int):
    campaign = get_campaign_for_shop(shop=request.shop, campaign_id=campaign_id)
    message = get_message_for_shop(shop=request.shop, campaign=campaign, message_pk=message_pk)
    code = message.error_code
    if code is None:
        diagnosis = (_("No problem recorded for this message."), "", "")
    elif 500 <= code < 600 and not is_suppressed(request.shop, message.email):
        diagnosis = REFUSED  # a 5xx that did not quarantine the address (SPEC M-10)
    else:
        diagnosis = DIAGNOSES.get(code) or (SOFT if 400 <= code < 500 else HARD)
    response = render(
        request,
        "mailing/campaigns/diagnose.html",
        {
            "campaign": campaign,
            "message": message,
            "what": diagnosis[0],
            "fix": diagnosis[1],
            "fix_url": diagnosis[2],
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response
