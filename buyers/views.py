"""Buyer-facing pages (SPEC B-1, B-2, B-7): register, verify, sign in/out, forgotten password,
account settings. Function views over the services; a refused operation is shown on its form
with the service's message (what to do next), never a 500.

The buyer session is ``buyers.session`` (its own signed cookie), not the seller session.
"""

from __future__ import annotations

import contextlib
import secrets

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.errors import DomainError
from core.ratelimit import client_ip

from . import geo, services
from .forms import (
    CodeForm,
    ContactChangeForm,
    ForgotForm,
    LoginForm,
    MarketingForm,
    RegisterForm,
    ResetForm,
)
from .models import Channel, CodePurpose, site_language
from .services import accounts
from .session import (
    DEVICE_COOKIE,
    LANG_COOKIE,
    buyer_page,
    buyer_required,
    get_pending,
    set_pending,
    sign_in,
    sign_out,
)

_FIELD_OF = {
    "invalid_contact": "contact",
    "invalid_password": "password",
    "invalid_code": "code",
    "code_locked": "code",
}


def _form_error(form, exc: DomainError, *, fields: dict[str, str] | None = None) -> None:
    field = (fields or _FIELD_OF).get(exc.code)
    form.add_error(field if field in form.fields else None, exc.message)


# Each language named in itself (not translated).
LANGUAGE_NAMES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("ru", "Русский"),
    ("pt", "Português"),
    ("zh-hans", "简体中文"),
]


def _page(request, template: str, **context):
    context["buyer_language_names"] = LANGUAGE_NAMES
    return render(request, f"buyers/{template}", context)


def _device_id(request) -> tuple[str, bool]:
    value = request.COOKIES.get(DEVICE_COOKIE, "")
    if value and len(value) == 32 and value.isalnum():
        return value, False
    return secrets.token_hex(16), True


@require_http_methods(["GET", "HEAD", "POST"])
@buyer_page
def register(request):
    if request.buyer is not None:
        return redirect("buyers:account")
    form = RegisterForm(request.POST or None)
    device_id, new_device = _device_id(request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ip = client_ip(request)
        try:
            contact = services.parse_contact(data["contact"])
            ip_country = geo.country_for(meta=request.META, ip=ip)
            accounts.buyer_register_public(
                contact=contact,
                password=data["password"],
                country=data["country"],
                site=data["site"],
                device_id=device_id,
                ip=ip,
                ip_country=ip_country,
                marketing_email_opt_in=data["marketing_email_opt_in"],
            )
        except DomainError as exc:
            _form_error(form, exc, fields={**_FIELD_OF, "invalid_input": "country"})
        else:
            from . import rules

            if rules.country_mismatch(declared=data["country"], ip_country=ip_country):
                messages.warning(
                    request,
                    _(
                        "Your country differs from where you are connecting from: your account "
                        "will be reviewed before you can use every feature."
                    ),
                )
            response = redirect("buyers:verify")
            set_pending(response, contact=contact.value, purpose=CodePurpose.REGISTER)
            if new_device:
                response.set_cookie(DEVICE_COOKIE, device_id, max_age=3 * 365 * 24 * 3600)
            # The next pages (verify) speak the language of the site just chosen.
            response.set_cookie(
                LANG_COOKIE, site_language(data["site"]), max_age=365 * 24 * 3600, samesite="Lax"
            )
            return response
    response = _page(request, "register.html", form=form)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@buyer_page
def verify(request):
    pending = get_pending(request, CodePurpose.REGISTER)
    if pending is None:
        messages.info(request, _("Your code request has expired. Sign in to get a new code."))
        return redirect("buyers:login")
    contact = services.parse_contact(pending)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "resend":
        try:
            services.code_request(
                contact=contact, purpose=CodePurpose.REGISTER, ip=client_ip(request)
            )
            messages.success(request, _("A new code is on its way."))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("buyers:verify")
    if request.method == "POST" and form.is_valid():
        try:
            buyer = services.buyer_verify_contact(
                contact=contact, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Your account is verified. Welcome!"))
            return sign_in(redirect("buyers:account"), buyer)
    return _page(request, "verify.html", form=form, contact=contact)


@require_http_methods(["GET", "HEAD", "POST"])
@buyer_page
def login(request):
    if request.buyer is not None:
        return redirect("buyers:account")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        try:
            contact = services.parse_contact(form.cleaned_data["contact"])
            buyer = services.buyer_authenticate(
                contact=contact, password=form.cleaned_data["password"], ip=ip
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            verified = (
                buyer.email_verified_at
                if contact.channel == Channel.EMAIL
                else buyer.phone_verified_at
            )
            if verified is None:
                # Not verified yet: a code to the contact, then the verify step.
                # An earlier code may still work (resend delay) or the limits are reached.
                with contextlib.suppress(DomainError):
                    services.code_request(contact=contact, purpose=CodePurpose.REGISTER, ip=ip)
                response = redirect("buyers:verify")
                return set_pending(response, contact=contact.value, purpose=CodePurpose.REGISTER)
            nxt = request.GET.get("next", "")
            target = (
                nxt
                if nxt.startswith("/buyer/") and not nxt.startswith("//")
                else reverse("buyers:account")
            )
            return sign_in(redirect(target), buyer)
    return _page(request, "login.html", form=form)


@require_POST
def logout(request):
    return sign_out(redirect("buyers:login"))


@require_http_methods(["GET", "HEAD", "POST"])
@buyer_page
def forgot(request):
    form = ForgotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.parse_contact(form.cleaned_data["contact"])
            services.code_request(contact=contact, purpose=CodePurpose.RESET, ip=client_ip(request))
        except DomainError as exc:
            if exc.code != "resend_too_soon":
                _form_error(form, exc)
                return _page(request, "forgot.html", form=form)
        # The same answer for every contact (no enumeration).
        messages.info(request, _("If an account uses this contact, a code is on its way."))
        response = redirect("buyers:reset")
        return set_pending(response, contact=contact.value, purpose=CodePurpose.RESET)
    return _page(request, "forgot.html", form=form)


@require_http_methods(["GET", "HEAD", "POST"])
@buyer_page
def reset(request):
    pending = get_pending(request, CodePurpose.RESET)
    if pending is None:
        return redirect("buyers:forgot")
    contact = services.parse_contact(pending)
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            buyer = services.buyer_password_reset(
                contact=contact,
                code=form.cleaned_data["code"],
                new_password=form.cleaned_data["new_password"],
                ip=client_ip(request),
            )
        except DomainError as exc:
            _form_error(form, exc, fields={**_FIELD_OF, "invalid_password": "new_password"})
        else:
            messages.success(request, _("Your password is changed."))
            return sign_in(redirect("buyers:account"), buyer)
    return _page(request, "reset.html", form=form, contact=contact)


@require_safe
@buyer_required
def account(request):
    buyer = request.buyer
    changes = list(buyer.contact_changes.all()[:10])
    return _page(
        request,
        "account.html",
        buyer=buyer,
        changes=changes,
        marketing_form=MarketingForm(
            initial={"marketing_email_opt_in": buyer.marketing_email_opt_in}
        ),
        contact_form=ContactChangeForm(),
    )


@require_POST
@buyer_required
def marketing(request):
    form = MarketingForm(request.POST)
    if form.is_valid():
        services.buyer_marketing_set(
            buyer=request.buyer, opt_in=form.cleaned_data["marketing_email_opt_in"]
        )
        messages.success(request, _("Your email preferences are saved."))
    return redirect("buyers:account")


@require_http_methods(["GET", "HEAD", "POST"])
@buyer_required
def contact_change(request):
    form = ContactChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.parse_contact(form.cleaned_data["new_contact"])
            services.contact_change_request(
                buyer=request.buyer,
                new_contact=new,
                password=form.cleaned_data["password"],
                ip=client_ip(request),
            )
        except DomainError as exc:
            _form_error(
                form,
                exc,
                fields={
                    "invalid_contact": "new_contact",
                    "invalid_input": "new_contact",
                    "invalid_credentials": "password",
                },
            )
        else:
            response = redirect("buyers:contact_confirm")
            return set_pending(response, contact=new.value, purpose=CodePurpose.CHANGE)
    return _page(request, "contact_change.html", form=form)


@require_http_methods(["GET", "HEAD", "POST"])
@buyer_required
def contact_confirm(request):
    pending = get_pending(request, CodePurpose.CHANGE)
    if pending is None:
        return redirect("buyers:contact_change")
    new = services.parse_contact(pending)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_change_confirm(
                buyer=request.buyer,
                new_contact=new,
                code=form.cleaned_data["code"],
                ip=client_ip(request),
            )
        except DomainError as exc:
            _form_error(form, exc, fields={**_FIELD_OF, "contact_taken": "code"})
        else:
            messages.success(request, _("Your contact is changed."))
            response = redirect("buyers:account")
            response.delete_cookie("sc_buyer_pending")
            return response
    return _page(request, "contact_confirm.html", form=form, contact=new)


@require_http_methods(["GET", "HEAD", "POST"])
@buyer_page
def report(request, token: str):
    done = False
    if request.method == "POST":
        try:
            services.contact_change_report(token=token[:128])
            done = True
        except DomainError as exc:
            messages.error(request, exc.message)
    return _page(request, "report.html", token=token, done=done)
