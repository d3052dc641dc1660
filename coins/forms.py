"""Forms of the coin seller pages: they parse and check input; the services write."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import Money, exponent

from . import rules

# A decimal amount as a person types it: digits, at most one point, no sign, no exponent.
_AMOUNT = re.compile(r"^[0-9]{1,12}(?:\.[0-9]*)?$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# Far above any real top-up, far below the coin limit of one operation (rules.MAX_COINS).
MAX_TOP_UP_MAJOR = 100_000_000


def new_token() -> str:
    """The hidden token of a form: its idempotency key, so a double submit writes once."""
    return secrets.token_urlsafe(24)


def parse_amount(text: str, *, currency: str) -> Money:
    """Major units typed by a seller ("1,200.50" is refused: no separators) to exact Money:
    no float on the way, more decimals than the currency has refused, never rounded."""
    text = (text or "").strip()
    if not _AMOUNT.match(text):
        raise forms.ValidationError(
            _("Enter an amount such as 500 or 500.50, with digits only."), code="invalid"
        )
    whole, _sep, fraction = text.partition(".")
    places = exponent(currency)
    if len(fraction) > places:
        raise forms.ValidationError(
            _("Enter at most %(n)s decimal places.") % {"n": places}, code="precision"
        )
    value = Decimal(text)
    if value <= 0:
        raise forms.ValidationError(_("Enter an amount above zero."), code="min_value")
    if value > MAX_TOP_UP_MAJOR:
        raise forms.ValidationError(
            _("Enter at most %(max)s.") % {"max": f"{MAX_TOP_UP_MAJOR:,}"}, code="max_value"
        )
    minor = int(whole or "0") * 10**places + int((fraction or "0").ljust(places, "0") or "0")
    return Money(minor, currency)


class TopUpForm(forms.Form):
    """SPEC C-5: money from the shop balance into the coin fund."""

    amount = forms.CharField(label=_("Amount"), max_length=32)
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, currency: str, balance: Money, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.balance = balance
        self.fields["amount"].widget.attrs.update(
            {"inputmode": "decimal", "autocomplete": "off", "placeholder": "500.00"}
        )
        if not self.is_bound:
            self.initial.setdefault("token", new_token())

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if not _TOKEN.match(token):
            raise forms.ValidationError(_("The form expired; reload the page and try again."))
        return token

    def clean_amount(self) -> Money:
        amount = parse_amount(self.cleaned_data["amount"], currency=self.currency)
        value = rules.coin_value_minor()
        if amount.amount % value:
            raise forms.ValidationError(
                _("Enter an amount worth a whole number of coins (one coin is %(value)s).")
                % {"value": Money(value, self.currency).format()}
            )
        if amount > self.balance:
            raise forms.ValidationError(
                _(
                    "Your shop balance is %(balance)s, less than %(amount)s: top up at most "
                    "the balance."
                )
                % {"balance": self.balance.format(), "amount": amount.format()},
                code="insufficient",
            )
        return amount


SWITCH_CHOICES = [
    ("", _("Keep as is")),
    ("on", _("On")),
    ("off", _("Off")),
]


class ProductIdsField(forms.Field):
    """Product ids ticked in a list (``?product=1&product=2``): positive integers; whose shop
    they belong to is the view's to check (404 for another shop's)."""

    widget = forms.MultipleHiddenInput
    MAX = 1000

    def to_python(self, value) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        if not values:
            raise forms.ValidationError(_("Select at least one product."), code="required")
        if len(values) > self.MAX:
            raise forms.ValidationError(
                _("Select at most %(n)s products at once.") % {"n": self.MAX}, code="max"
            )
        ids = []
        for v in values:
            text = str(v).strip()
            if not text.isascii() or not text.isdigit() or len(text) > 18 or int(text) <= 0:
                raise forms.ValidationError(_("Select products from the list."), code="invalid")
            ids.append(int(text))
        return sorted(set(ids))


class ProductDeductionForm(forms.Form):
    """SPEC C-3: the switch and/or the maximum ratio of many products at once."""

    product = ProductIdsField(label=_("Products"))
    switch = forms.ChoiceField(label=_("Coin deduction"), choices=SWITCH_CHOICES, required=False)
    ratio = forms.CharField(label=_("Maximum ratio (%)"), max_length=8, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ratio"].widget.attrs.update({"inputmode": "decimal", "placeholder": "10"})

    def clean_ratio(self) -> int | None:
        """Percent with at most two decimals (one basis point) from 0 to the order cap."""
        text = (self.cleaned_data.get("ratio") or "").strip()
        if not text:
            return None
        if not re.match(r"^[0-9]{1,3}(?:\.[0-9]{1,2})?$", text):
            raise forms.ValidationError(
                _("Enter a percentage such as 10 or 12.5, with at most two decimals.")
            )
        whole, _sep, fraction = text.partition(".")
        bp = int(whole) * 100 + int(fraction.ljust(2, "0") or "0")
        cap = rules.deduction_cap_bp()
        if bp > cap:
            raise forms.ValidationError(
                _("The maximum ratio is at most %(cap)s%%.") % {"cap": f"{cap / 100:g}"}
            )
        return bp

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("switch") and cleaned.get("ratio") is None and not self.errors:
            raise forms.ValidationError(_("Choose a switch setting, a maximum ratio, or both."))
        return cleaned
