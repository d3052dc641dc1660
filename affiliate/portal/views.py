"""The promoter portal (SPEC A-1, A-3, A-8, A-10; issue 9 items 1 and 6): sign-up, sign-in and
password reset, onboarding documents, PIDs and the link generator, reports, payouts, the
"$0.01 minimum" switch and attribution diagnostics. The daily commission report and the CSV
exports (A-9) are in ``report_views``.

Its own session (``affiliate.portal.session``), never the seller staff session. Function views
over the services; a refused operation shows the service's message on its form, never a 500.
"""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.contrib import messages
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core import ratelimit, uploads
from core.errors import DomainError
from core.money import Money
from shops.models import Product, Shop

from .. import rules, services
from ..diagnostics import diagnose_for_promoter
from ..models import CommissionStatus, DocumentKind, Pid, Programme, Promoter, PromoterStatus
from ..services import onboarding
from . import selectors
from .forms import (
    CentMinimumForm,
    DocumentForm,
    ForgotForm,
    LinkForm,
    LoginForm,
    NewPasswordForm,
    PidForm,
    SignUpForm,
    StatusFilterForm,
)
from .session import (
    approved_required,
    current_promoter,
    promoter_for_reset_token,
    promoter_required,
    reset_token,
    sign_in,
    sign_out,
)

_LOGIN_GROUP_ACCOUNT = "promoter.login.account"
_LOGIN_GROUP_IP = "promoter.login.ip"
_RESET_GROUP = "promoter.reset"


def _form_error(form, exc: DomainError, field: str | None = None) -> None:
    form.add_error(field if field in form.fields else None, exc.message)


def _page(request, page_obj_qs, template: str, target: str, context: dict):
    page = Paginator(page_obj_qs, settings.SC_PAGE_SIZE).get_page(request.GET.get("page"))
    context["page_obj"] = page
    if request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request"):
        template += f"#{target}"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- signing up, in and out ----------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request):
    if current_promoter(request) is not None:
        return redirect("promoter:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            promoter = services.promoter_sign_up(
                name=data["name"], email=data["email"], password=data["password"]
            )
        except DomainError as exc:
            field = {"invalid_name": "name", "invalid_password": "password"}.get(exc.code, "email")
            _form_error(form, exc, field)
        else:
            messages.success(
                request, _("Welcome! Upload your documents to have your account reviewed.")
            )
            return sign_in(redirect("promoter:onboarding"), promoter)
    return render(request, "affiliate/portal/signup.html", {"form": form}, status=_status(form))


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


@require_http_methods(["GET", "HEAD", "POST"])
def login(request):
    if current_promoter(request) is not None:
        return redirect("promoter:home")
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        limits = (
            (_LOGIN_GROUP_ACCOUNT, email, settings.SC_LOGIN_FAILURES_PER_ACCOUNT),
            (_LOGIN_GROUP_IP, ratelimit.IP, settings.SC_LOGIN_FAILURES_PER_IP),
        )
        if any(ratelimit.exceeded(request, group=g, key=k, rate=r) for g, k, r in limits):
            form.add_error(
                None,
                _(
                    "Too many failed sign-in attempts. For your security, sign-in is paused "
                    "for this account or network: try again in a few minutes."
                ),
            )
            status = 429
        else:
            try:
                promoter = services.promoter_authenticate(
                    email=email, password=form.cleaned_data["password"]
                )
            except DomainError:
                for g, k, r in limits:
                    ratelimit.hit(request, group=g, key=k, rate=r)
                form.add_error(None, _("Wrong email or password."))
            else:
                nxt = request.GET.get("next", "")
                target = (
                    nxt
                    if nxt.startswith("/promoter/") and "//" not in nxt and "\\" not in nxt
                    else reverse("promoter:home")
                )
                return sign_in(redirect(target), promoter)
    if status == 200 and form.is_bound and form.errors:
        status = 400
    return render(request, "affiliate/portal/login.html", {"form": form}, status=status)


@require_POST
def logout(request):
    return sign_out(redirect("promoter:login"))


def _send_reset(*, email: str, link: str) -> None:
    send_mail(
        subject=_("Reset your promoter password"),
        message=_(
            "Someone asked to reset the password of your promoter account. If it was you, open "
            "this link within an hour:\n\n%(link)s\n\nIf it was not you, ignore this message."
        )
        % {"link": link},
        from_email=None,
        recipient_list=[email],
    )


@require_http_methods(["GET", "HEAD", "POST"])
def forgot(request):
    form = ForgotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        limited = ratelimit.hit(request, group=_RESET_GROUP, key=email, rate="3/h") or (
            ratelimit.hit(request, group=_RESET_GROUP, key=ratelimit.IP, rate="20/h")
        )
        promoter = Promoter.objects.filter(email=email).first()
        if promoter is not None and promoter.password and not limited:
            link = request.build_absolute_uri(
                reverse("promoter:reset", kwargs={"token": reset_token(promoter)})
            )
            transaction.on_commit(partial(_send_reset, email=promoter.email, link=link))
        # The same answer for every address (no enumeration).
        messages.info(
            request,
            _("If a promoter account uses this email, a link to reset its password is on its way."),
        )
        return redirect("promoter:login")
    return render(request, "affiliate/portal/forgot.html", {"form": form}, status=_status(form))


@require_http_methods(["GET", "HEAD", "POST"])
def reset(request, token: str):
    promoter = promoter_for_reset_token(token)
    if promoter is None:
        messages.error(
            request, _("This reset link has expired or was already used. Ask for a new one.")
        )
        return redirect("promoter:forgot")
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            promoter = services.promoter_password_set(
                promoter=promoter, password=form.cleaned_data["password"]
            )
        except DomainError as exc:
            _form_error(form, exc, "password")
        else:
            messages.success(request, _("Your password is changed."))
            return sign_in(redirect("promoter:home"), promoter)
    return render(request, "affiliate/portal/reset.html", {"form": form}, status=_status(form))


# --- home and onboarding (A-1) ---------------------------------------------------------------


@require_safe
@promoter_required
def home(request):
    promoter = request.promoter
    if promoter.status != PromoterStatus.APPROVED:
        return redirect("promoter:onboarding")
    return render(
        request,
        "affiliate/portal/home.html",
        {
            "report": selectors.report_for_promoter(promoter=promoter),
            "notices": selectors.notices_for_promoter(promoter=promoter),
            "pid_count": promoter.pids.count(),
        },
    )


def _onboarding_context(request, form=None) -> dict:
    promoter = request.promoter
    documents = selectors.documents_for_promoter(promoter=promoter)
    return {
        "form": form or DocumentForm(),
        "rows": [(value, label, documents.get(value)) for value, label in DocumentKind.choices],
        "complete": len(documents) == len(DocumentKind.values),
        "editable": promoter.status in onboarding.EDITABLE,
        "notices": selectors.notices_for_promoter(promoter=promoter, limit=5),
        "sla": rules.review_sla_working_days(),
    }


@require_safe
@promoter_required
def onboarding_page(request):
    return render(request, "affiliate/portal/onboarding.html", _onboarding_context(request))


@require_POST
@promoter_required
def document_upload(request):
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.document_upload(
                promoter=request.promoter,
                kind=form.cleaned_data["kind"],
                uploaded=form.cleaned_data["file"],
            )
        except DomainError as exc:
            _form_error(form, exc, "file")
        else:
            messages.success(request, _("Document uploaded."))
            return redirect("promoter:onboarding")
    ctx = _onboarding_context(request, form=form)
    return render(request, "affiliate/portal/onboarding.html", ctx, status=400)


@require_safe
@promoter_required
def document_file(request, document_id: int):
    document = selectors.get_document_for_promoter(
        promoter=request.promoter, document_id=document_id
    )
    return uploads.serve(request, document.file)


@require_POST
@promoter_required
def submit(request):
    try:
        services.promoter_submit(promoter=request.promoter)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Your documents are submitted. We review them within %(days)s working days.")
            % {"days": rules.review_sla_working_days()},
        )
    return redirect("promoter:onboarding")


# --- PIDs and links (A-3) --------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@approved_required
def pids(request):
    promoter = request.promoter
    form = PidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.pid_create(
                promoter=promoter,
                channel=form.cleaned_data["channel"],
                name=form.cleaned_data["name"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("PID created. Generate a tracking link with it."))
            return redirect("promoter:pids")
    qs = selectors.pids_for_promoter(promoter=promoter)
    response = _page(
        request,
        qs,
        "affiliate/portal/pids.html",
        "pid-list",
        {"form": form, "trial": promoter.trial},
    )
    if form.is_bound and form.errors:
        response.status_code = 400
    return response


@require_POST
@approved_required
def pid_reactivate(request, pid_id: int):
    pid = selectors.get_pid_for_promoter(promoter=request.promoter, pid_id=pid_id)
    try:
        services.pid_reactivate(pid=pid)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("PID %(code)s is active again.") % {"code": pid.code})
    return redirect("promoter:pids")


@require_safe
@approved_required
def shops(request):
    return _page(
        request, selectors.programmes_open(), "affiliate/portal/shops.html", "shop-list", {}
    )


def _destination(*, shop: Shop, product: Product | None, typed: str) -> str:
    if typed:
        return typed
    host = settings.SC_AFFILIATE_REDIRECT_HOSTS[0]
    if product is not None:
        return f"https://{host}/item/{product.external_id}.html"
    return f"https://{host}/store/{shop.external_id}"


@require_http_methods(["GET", "HEAD", "POST"])
@approved_required
def links(request):
    promoter = request.promoter
    own_pids = list(Pid.objects.filter(promoter=promoter).order_by("-pk"))
    initial = {"shop": request.GET.get("shop", "")[:64]}
    form = LinkForm(request.POST or None, pids=own_pids, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        pid = next((p for p in own_pids if p.pk == data["pid"]), None)
        programme = (
            Programme.objects.filter(enabled=True, shop__external_id=data["shop"].strip())
            .select_related("shop")
            .first()
        )
        product = None
        if programme is not None and data["product"].strip():
            product = Product.objects.filter(
                shop=programme.shop, external_id=data["product"].strip()
            ).first()
        if pid is None:
            form.add_error("pid", _("Choose one of your PIDs."))
        elif programme is None:
            form.add_error(
                "shop", _("No shop with this id runs an affiliate programme: see the shop list.")
            )
        elif data["product"].strip() and product is None:
            form.add_error("product", _("This shop has no product with this id."))
        else:
            try:
                link = services.link_create(
                    pid=pid,
                    shop=programme.shop,
                    product=product,
                    destination=_destination(
                        shop=programme.shop, product=product, typed=data["destination"].strip()
                    ),
                    utm_campaign=data["utm_campaign"].strip(),
                    sub_id=data["sub_id"],
                )
            except DomainError as exc:
                _form_error(form, exc, "destination")
            else:
                messages.success(
                    request,
                    _("Tracking link created: %(url)s")
                    % {"url": request.build_absolute_uri(f"/t/{link.code}")},
                )
                return redirect("promoter:links")
    response = _page(
        request,
        selectors.links_for_promoter(promoter=promoter),
        "affiliate/portal/links.html",
        "link-list",
        {"form": form, "has_pids": bool(own_pids), "base": request.build_absolute_uri("/t/")},
    )
    if form.is_bound and form.errors:
        response.status_code = 400
    return response


# --- reports, settings, diagnostics, payouts -------------------------------------------------


@require_safe
@approved_required
def reports(request):
    form = StatusFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    promoter = request.promoter
    return _page(
        request,
        selectors.commissions_for_promoter(promoter=promoter, status=status),
        "affiliate/portal/reports.html",
        "commission-list",
        {
            "report": selectors.report_for_promoter(promoter=promoter),
            "status": status,
            "statuses": CommissionStatus.choices,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@promoter_required
def account(request):
    promoter = request.promoter
    form = CentMinimumForm(
        request.POST if request.method == "POST" else None,
        initial={"cent_minimum": promoter.cent_minimum},
    )
    if request.method == "POST" and form.is_valid():
        if promoter.status != PromoterStatus.APPROVED:
            raise Http404
        services.cent_minimum_set(promoter=promoter, enabled=form.cleaned_data["cent_minimum"])
        messages.success(
            request,
            _("Saved: commissions from $0.01 are kept.")
            if form.cleaned_data["cent_minimum"]
            else _("Saved: commissions under $0.10 round to $0."),
        )
        return redirect("promoter:account")
    return render(
        request,
        "affiliate/portal/account.html",
        {
            "form": form,
            "floor": rules.rounding_floor_minor(),
            "approved": promoter.status == PromoterStatus.APPROVED,
        },
    )


@require_safe
@approved_required
def diagnose(request):
    number = (request.GET.get("number") or "").strip()[:64]
    diagnosis = diagnose_for_promoter(promoter=request.promoter, number=number) if number else None
    return render(
        request,
        "affiliate/portal/diagnose.html",
        {"number": number, "diagnosis": diagnosis, "not_found": bool(number) and not diagnosis},
    )


@require_safe
@approved_required
def payouts(request):
    promoter = request.promoter
    report = selectors.report_for_promoter(promoter=promoter)
    # The minimum is in minor units of whichever currency a balance is in (USD before any).
    currencies = [b.currency for b in report.balances] or ["USD"]
    minimum = rules.payout_minimum_minor()
    return _page(
        request,
        selectors.payout_lines_for_promoter(promoter=promoter),
        "affiliate/portal/payouts.html",
        "payout-list",
        {
            "report": report,
            "minimums": [Money(minimum, c) for c in currencies],
            "trial": promoter.trial,
        },
    )
