"""Forms of the promoter portal. Rules live in the services; these only parse input."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import Channel, CommissionStatus, DocumentKind


class SignUpForm(forms.Form):
    name = forms.CharField(label=_("Company or trading name"), max_length=120)
    email = forms.EmailField(label=_("Email"), max_length=254)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=128)


class LoginForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=128)


class ForgotForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)


class NewPasswordForm(forms.Form):
    password = forms.CharField(label=_("New password"), widget=forms.PasswordInput, max_length=128)


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=DocumentKind.choices)
    file = forms.FileField(
        label=_("File (PDF, PNG or JPEG)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )


class PidForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    name = forms.CharField(label=_("Name (for you)"), max_length=120, required=False)


class LinkForm(forms.Form):
    """The link generator (SPEC A-3): a PID, a shop whose programme is on, optionally a product
    of it, and the UTM campaign and sub-id. The destination is built from the shop or product,
    or typed (then it must be a marketplace address: A-4)."""

    pid = forms.TypedChoiceField(label=_("PID"), coerce=int)
    shop = forms.CharField(label=_("Shop id"), max_length=64)
    product = forms.CharField(label=_("Product id (optional)"), max_length=64, required=False)
    destination = forms.CharField(
        label=_("Landing page (optional)"),
        max_length=1000,
        required=False,
        help_text=_("An https address on the marketplace; empty: the shop or product page."),
    )
    utm_campaign = forms.CharField(
        label=_("Campaign (utm_campaign)"), max_length=64, required=False
    )
    sub_id = forms.CharField(label=_("Sub-id"), max_length=64, required=False)

    def __init__(self, *args, pids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pid"].choices = [(p.pk, f"{p.code} · {p.get_channel_display()}") for p in pids]


class StatusFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", ""), *CommissionStatus.choices], required=False)


class CentMinimumForm(forms.Form):
    cent_minimum = forms.BooleanField(
        label=_("Keep commissions from $0.01 (instead of rounding those under $0.10 to $0)"),
        required=False,
    )
