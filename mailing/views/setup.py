"""Enabling marketing email (SPEC M-1) and the set-up pages (M-2): sender domain and its DNS
records, brand profile, templates with their preview. Every page is the current shop's only:
another shop's ids are 404."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.csp import CSP
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core import ratelimit
from core.checks import all_passed
from core.errors import DomainError
from core.pagination import InvalidCursor, KeysetPaginator
from shops.decorators import shop_required, write_required

from .. import builtin_templates, dns, rendering
from ..forms_setup import BrandForm, LanguageForm, OwnDomainForm, TemplateVariantForm
from ..models import BrandProfile, DomainKind, TemplateLanguage
from ..rendering import MERGE_TAGS, TemplateRejected, TemplateSource, sample_context
from ..selectors import (
    brand_for_shop,
    eligibility_checks,
    get_template_for_shop,
    mailing_account,
    sender_domains,
    setup_checks,
    templates_for_shop,
)
from ..services import setup as services

# A seller may ask for a DNS check this often (each is four to five look-ups).
DNS_CHECK_RATE = "10/10m"


def _account_or_redirect(request):
    account = mailing_account(shop=request.shop)
    if account is None:
        messages.info(request, _("Enable marketing email first."))
    return account


@require_safe
@shop_required
def index(request):
    """M-1 eligibility and the enable button; once enabled, the M-2 set-up checklist."""
    account = mailing_account(shop=request.shop)
    context = {"account": account, "can_write": request.membership.can_write}
    if account is None:
        checks = eligibility_checks(shop=request.shop)
        context.update(checks=checks, eligible=all_passed(checks))
    else:
        steps = setup_checks(shop=request.shop)
        context.update(steps=steps, ready=all_passed(steps))
    return render(request, "mailing/index.html", context)


@require_POST
@write_required
def enable(request):
    """SPEC M-1: self-service and immediate; the checks run again here."""
    try:
        services.mailing_enable(shop=request.shop)
    except DomainError:
        messages.error(
            request,
            _("Marketing email cannot be enabled yet: the checks below say what to fix."),
        )
    else:
        messages.success(
            request,
            _("Marketing email is enabled. Complete the set-up below before your first campaign."),
        )
    return redirect("mailing:index")


def _record_rows(domain):
    """The records of an own domain: expected values, with the last check's findings."""
    if domain is None:
        return []
    last = {r["code"]: r for r in (domain.last_results or [])}
    rows = []
    for expected in dns.expected_records(domain):
        found = last.get(expected.code)
        problem = found.get("problem") if found else ""
        rows.append(
            {
                "code": expected.code,
                "label": {
                    "verification": _("Ownership (verification token)"),
                    "spf": "SPF",
                    "dkim": "DKIM",
                    "dmarc": "DMARC",
                }[expected.code],
                "name": expected.name,
                "type": expected.type,
                "expected": expected.expected,
                "checked": found is not None,
                "ok": bool(found and found.get("ok")),
                "found": (found or {}).get("found", []),
                "where": (found or {}).get("where", ""),
                "problem": dns.problem_text(problem) if problem else "",
            }
        )
    return rows


@require_http_methods(["GET", "HEAD", "POST"])
@shop_required
def domain(request):
    """SPEC M-2 a: the default domain or an own subdomain, and the records to publish."""
    account = _account_or_redirect(request)
    if account is None:
        return redirect("mailing:index")
    shop = request.shop
    form = OwnDomainForm()
    if request.method == "POST":
        if not request.membership.can_write:
            raise PermissionDenied("Your role in this shop cannot do this.")
        action = request.POST.get("action")
        if action == "own":
            form = OwnDomainForm(request.POST)
            if form.is_valid():
                try:
                    services.own_domain_set(shop=shop, domain=form.cleaned_data["domain"])
                except DomainError as exc:
                    if exc.code != "domain_taken":
                        raise
                    form.add_error("domain", _("Another shop already uses this domain."))
                else:
                    messages.success(
                        request,
                        _(
                            "Your subdomain is saved. Publish the records below at your DNS "
                            "provider, then check them."
                        ),
                    )
                    return redirect("mailing:domain")
        elif action in DomainKind.values:
            try:
                services.sender_kind_set(shop=shop, kind=action)
            except DomainError:
                messages.error(request, _("Enter your own subdomain first."))
            else:
                messages.success(request, _("The sender domain is changed."))
            return redirect("mailing:domain")
        else:
            messages.error(request, _("Unknown action."))
            return redirect("mailing:domain")
    domains = sender_domains(shop=shop)
    own = domains.get(DomainKind.OWN)
    if own is not None and request.method != "POST":
        form = OwnDomainForm(initial={"domain": own.domain})
    return render(
        request,
        "mailing/setup/domain.html",
        {
            "account": account,
            "default": domains.get(DomainKind.DEFAULT),
            "own": own,
            "rows": _record_rows(own),
            "form": form,
            "can_write": request.membership.can_write,
            "spf_include": dns.spf_include(),
        },
    )


@require_POST
@write_required
def domain_check(request):
    """Look the own domain's records up now (also done by the beat)."""
    own = sender_domains(shop=request.shop).get(DomainKind.OWN)
    if own is None:
        raise Http404("No own sender domain.")
    if ratelimit.hit(
        request, group="mailing-dns-check", key=f"shop:{own.shop_id}", rate=DNS_CHECK_RATE
    ):
        messages.error(
            request, _("Too many checks in a short time: wait a few minutes and check again.")
        )
        return redirect("mailing:domain")
    checked = services.domain_verify(domain=own)
    if checked.is_verified:
        messages.success(
            request,
            _("All records are right: %(domain)s is verified.") % {"domain": checked.domain},
        )
    else:
        messages.warning(
            request,
            _(
                "Some records are missing or wrong: see below what to change. DNS changes can "
                "take up to 48 hours to be visible."
            ),
        )
    return redirect("mailing:domain")


@require_http_methods(["GET", "HEAD", "POST"])
@shop_required
def brand(request):
    """SPEC M-2 b: logo, colours, sender name and the footer's address and phone."""
    account = _account_or_redirect(request)
    if account is None:
        return redirect("mailing:index")
    shop = request.shop
    profile = brand_for_shop(shop=shop) or BrandProfile(shop=shop, sender_name=shop.name[:80])
    can_write = request.membership.can_write
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied("Your role in this shop cannot do this.")
        form = BrandForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.brand_save(
                    shop=shop,
                    sender_name=data["sender_name"],
                    primary_colour=data["primary_colour"],
                    background_colour=data["background_colour"],
                    physical_address=data["physical_address"],
                    service_phone=data["service_phone"],
                    logo=data.get("logo") or None,
                    uploaded_by=request.user,
                )
            except DomainError as exc:
                if exc.code != "logo_invalid":
                    raise
                form.add_error(
                    "logo", _("Upload the logo as a PNG or JPEG image of at most 10 MB.")
                )
            else:
                messages.success(request, _("The brand profile is saved."))
                return redirect("mailing:brand")
    else:
        form = BrandForm(
            initial={
                "sender_name": profile.sender_name,
                "primary_colour": profile.primary_colour,
                "background_colour": profile.background_colour,
                "physical_address": profile.physical_address,
                "service_phone": profile.service_phone,
            }
        )
    return render(
        request,
        "mailing/setup/brand.html",
        {"form": form, "profile": profile, "can_write": can_write},
    )


def _logo_response(private_file, *, public: bool):
    try:
        handle = private_file.file.storage.open(str(private_file.file.name), "rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file is gone from the storage.") from None
    response = FileResponse(handle, content_type=private_file.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    if public:
        patch_cache_control(response, public=True, max_age=86400)
    else:
        patch_cache_control(response, private=True, no_store=True)
    return response


@require_safe
@shop_required
def brand_logo_private(request):
    """The current shop's logo, for its own staff."""
    profile = brand_for_shop(shop=request.shop)
    if profile is None or profile.logo is None:
        raise Http404("No logo.")
    return _logo_response(profile.logo, public=False)


@require_safe
def brand_logo(request, token: str):
    """The logo as mail clients load it: no login, a signed link naming shop and file (a
    replaced logo's old link is 404)."""
    try:
        data = signing.loads(token, salt="mailing.brand-logo")
    except signing.BadSignature:
        raise Http404("Bad link.") from None
    profile = (
        BrandProfile.objects.filter(shop_id=data.get("s"), logo_id=data.get("f"))
        .select_related("logo")
        .first()
    )
    if profile is None or profile.logo is None:
        raise Http404("No logo.")
    return _logo_response(profile.logo, public=True)


@require_safe
@shop_required
def templates(request):
    """SPEC M-2 c: the 12 built-in templates to start from, and the shop's own (paginated)."""
    account = _account_or_redirect(request)
    if account is None:
        return redirect("mailing:index")
    paginator = KeysetPaginator(
        templates_for_shop(shop=request.shop), per_page=settings.SC_PAGE_SIZE
    )
    try:
        page = paginator.get_page(request.GET)
    except InvalidCursor:
        raise Http404("Bad page.") from None
    builtins = [
        {"key": key, "name": name, "description": description}
        for key, (name, description, _link) in builtin_templates.BUILTINS.items()
    ]
    return render(
        request,
        "mailing/setup/templates.html",
        {"page_obj": page, "builtins": builtins, "can_write": request.membership.can_write},
    )


@require_POST
@write_required
def template_copy(request):
    """Copy a built-in into the shop's templates, then edit it."""
    if mailing_account(shop=request.shop) is None:
        return redirect("mailing:index")
    try:
        template = services.template_copy(
            shop=request.shop, builtin_key=request.POST.get("builtin", "")
        )
    except DomainError:
        messages.error(request, _("Choose one of the built-in templates."))
        return redirect("mailing:templates")
    messages.success(request, _("Template created: edit it below."))
    return redirect("mailing:template_edit", template_id=template.pk)


def _language(request) -> str:
    form = LanguageForm(request.GET)
    lang = form.cleaned_data.get("lang") if form.is_valid() else ""
    return lang or TemplateLanguage.EN


@require_http_methods(["GET", "HEAD", "POST"])
@shop_required
def template_edit(request, template_id: int):
    """Edit one language of a template; the sandbox's rules apply when saving (M-2 c)."""
    template = get_template_for_shop(shop=request.shop, template_id=template_id)
    language = _language(request)
    variants = {v.language: v for v in template.variants.all()}
    variant = variants.get(language)
    can_write = request.membership.can_write
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied("Your role in this shop cannot do this.")
        form = TemplateVariantForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            services.template_variant_save(
                template=template,
                language=language,
                subject=data["subject"],
                preheader=data["preheader"],
                body=data["body"],
                name=data["name"],
            )
            messages.success(request, _("The template is saved."))
            return redirect(f"{request.path}?lang={language}")
    else:
        form = TemplateVariantForm(
            initial={
                "name": template.name,
                "subject": variant.subject if variant else "",
                "preheader": variant.preheader if variant else "",
                "body": variant.body if variant else "",
            }
        )
    return render(
        request,
        "mailing/setup/template_edit.html",
        {
            "template": template,
            "form": form,
            "language": language,
            "languages": [
                {"code": code, "label": label, "present": code in variants}
                for code, label in TemplateLanguage.choices
            ],
            "merge_tags": [
                (f"{{{{ {path} }}}}", label) for path, (label, _s) in MERGE_TAGS.items()
            ],
            "can_write": can_write,
        },
    )


def _preview(request, template_id: int):
    template = get_template_for_shop(shop=request.shop, template_id=template_id)
    language = _language(request)
    variants = {v.language: v for v in template.variants.all()}
    variant = variants.get(language) or variants.get(TemplateLanguage.EN)
    rendered, problems = None, []
    if variant is not None:
        source = TemplateSource(
            subject=variant.subject,
            preheader=variant.preheader,
            body=variant.body,
            language=variant.language,
            shop=request.shop,
        )
        try:
            rendered = rendering.render(
                source,
                context=sample_context(request.shop),
                language=language,
                brand=brand_for_shop(shop=request.shop),
                public_base="",  # the logo from this site, as the frame's policy allows
            )
        except TemplateRejected as exc:
            problems = exc.problems
    return template, language, rendered, problems


@require_safe
@shop_required
def template_preview(request, template_id: int):
    """The template rendered with sample values, as desktop and phone would show it (the email
    itself in sandboxed frames, from ``template_preview_frame``)."""
    template, language, rendered, problems = _preview(request, template_id)
    return render(
        request,
        "mailing/setup/template_preview.html",
        {"template": template, "rendered": rendered, "problems": problems, "language": language},
    )


# The rendered email, framed by the preview page only: no script, no form, no plugin; its own
# inline styles and images (sample content) only.
PREVIEW_FRAME_CSP: dict[str, list[str]] = {
    "default-src": [CSP.NONE],
    "style-src": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "https:"],
    "frame-ancestors": [CSP.SELF],
    "sandbox": [""],
}


@require_safe
@shop_required
@xframe_options_sameorigin
@csp_override(PREVIEW_FRAME_CSP)
def template_preview_frame(request, template_id: int):
    """The rendered email alone (what the preview page frames)."""
    _template, _language, rendered, _problems = _preview(request, template_id)
    if rendered is None:
        raise Http404("Nothing to preview.")
    response = HttpResponse(rendered.html, content_type="text/html; charset=utf-8")
    patch_cache_control(response, private=True, no_store=True)
    return response
