"""Buyer page forms: field shapes only; the rules live in the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Site

_CONTACT = {"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}


class RegisterForm(forms.Form):
    contact = forms.CharField(
        label=_("Email or phone"),
        max_length=254,
        help_text=_("Phone in international form, e.g. +86 138 0013 8000."),
        widget=forms.TextInput(attrs=_CONTACT),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=128,
        strip=False,  # the services take a password as typed (the API does not strip either)
        help_text=_("At least 6 characters; not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        min_length=2,
        help_text=_("Two-letter code, e.g. CN, US, FR."),
    )
    site = forms.ChoiceField(label=_("Site"), choices=Site.choices, initial=Site.GLOBAL)
    marketing_email_opt_in = forms.BooleanField(label=_("Send me offers by email"), required=False)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=16,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class LoginForm(forms.Form):
    contact = forms.CharField(
        label=_("Email or phone"), max_length=254, widget=forms.TextInput(attrs=_CONTACT)
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=128,
        strip=False,  # the services take a password as typed (the API does not strip either)
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ForgotForm(forms.Form):
    contact = forms.CharField(
        label=_("Email or phone"), max_length=254, widget=forms.TextInput(attrs=_CONTACT)
    )


class ResetForm(CodeForm):
    new_password = forms.CharField(
        label=_("New password"),
        max_length=128,
        strip=False,  # the services take a password as typed (the API does not strip either)
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class MarketingForm(forms.Form):
    marketing_email_opt_in = forms.BooleanField(label=_("Send me offers by email"), required=False)


class ContactChangeForm(forms.Form):
    new_contact = forms.CharField(
        label=_("New email or phone"), max_length=254, widget=forms.TextInput(attrs=_CONTACT)
    )
    password = forms.CharField(
        label=_("Current password"),
        max_length=128,
        strip=False,  # the services take a password as typed (the API does not strip either)
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
