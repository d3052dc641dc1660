"""Forms of the mailing set-up pages (SPEC M-2): they parse and check input; the services write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

from .models import TemplateLanguage
from .rendering import header_safe, validate_content
from .services import setup as services

COLOUR_WIDGET = forms.TextInput(attrs={"type": "color", "class": "form-control form-control-color"})


class OwnDomainForm(forms.Form):
    domain = forms.CharField(
        label=_("Your subdomain"),
        max_length=253,
        help_text=_("A subdomain you control, such as promo.yourbrand.com."),
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )

    def clean_domain(self):
        try:
            return services.clean_own_domain(self.cleaned_data["domain"])
        except DomainError as exc:
            messages = {
                "domain_not_subdomain": _(
                    "Use a subdomain of your domain, such as promo.yourbrand.com, not the "
                    "domain itself: your other mail stays unaffected."
                ),
                "domain_platform": _(
                    "This domain belongs to the platform: choose the default domain instead."
                ),
            }
            raise forms.ValidationError(
                messages.get(exc.code, _("Enter only a domain name, such as promo.yourbrand.com.")),
                code=exc.code,
            ) from None


class BrandForm(forms.Form):
    sender_name = forms.CharField(
        label=_("Sender name"),
        max_length=80,
        required=False,
        help_text=_("Shown as the sender in the buyer's inbox; your shop's name when empty."),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG or JPEG, shown at the top of every email."),
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": "image/png,image/jpeg"}
        ),
    )
    primary_colour = forms.RegexField(
        label=_("Button colour"), regex=r"^#[0-9a-fA-F]{6}$", widget=COLOUR_WIDGET
    )
    background_colour = forms.RegexField(
        label=_("Background colour"), regex=r"^#[0-9a-fA-F]{6}$", widget=COLOUR_WIDGET
    )
    physical_address = forms.CharField(
        label=_("Physical address"),
        max_length=500,
        required=False,
        help_text=_("As on your business licence. Required in every email's footer."),
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )
    service_phone = forms.CharField(
        label=_("Customer-service phone"),
        max_length=32,
        required=False,
        help_text=_("International form, such as +86 571 8502 2088. Required in the footer."),
        widget=forms.TextInput(attrs={"class": "form-control", "type": "tel"}),
    )

    def clean_sender_name(self):
        value = self.cleaned_data["sender_name"]
        if header_safe(value, limit=80) != value.strip():
            raise forms.ValidationError(_("The sender name must be one line."), code="invalid")
        return value.strip()

    def clean_service_phone(self):
        try:
            return services.clean_phone(self.cleaned_data["service_phone"])
        except DomainError:
            raise forms.ValidationError(
                _(
                    "Enter the phone number in international form, starting with + and the "
                    "country code, such as +86 571 8502 2088."
                ),
                code="phone_invalid",
            ) from None


class TemplateVariantForm(forms.Form):
    name = forms.CharField(
        label=_("Template name"),
        max_length=120,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        help_text=_("Put the value for the buyer in the first 50 characters."),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    preheader = forms.CharField(
        label=_("Preheader"),
        max_length=200,
        required=False,
        help_text=_("The line inboxes show after the subject."),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    body = forms.CharField(
        label=_("Content"),
        max_length=20000,
        help_text=_(
            "Simple HTML (paragraphs, headings, lists, links, images). A button is "
            '<a class="sc-button" href="…">. Merge tags are listed beside the form.'
        ),
        widget=forms.Textarea(attrs={"class": "form-control font-monospace", "rows": 14}),
    )

    def clean(self):
        data = super().clean() or {}
        problems = validate_content(
            data.get("subject", ""), data.get("preheader", ""), data.get("body", "")
        )
        for problem in problems:
            self.add_error(None, problem)
        if data.get("subject") and not header_safe(data["subject"]):
            self.add_error("subject", _("A subject is required."))
        return data


class LanguageForm(forms.Form):
    lang = forms.ChoiceField(choices=TemplateLanguage.choices, required=False)
