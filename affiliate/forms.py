"""Seller forms of the affiliate programme (SPEC A-2). Rates are typed in percent and stored
in basis points; amounts in the shop currency's major units and stored in minor units."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import Money
from shops.models import Category, Product

from . import rules
from .models import CommissionStatus, RateScope


def _percent_field() -> forms.DecimalField:
    return forms.DecimalField(
        label=_("Commission rate (%)"),
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        decimal_places=2,
        max_digits=5,
    )


def _check_rate(value: Decimal) -> int:
    bp = int(value * 100)
    low, high = rules.rate_min_bp(), rules.rate_max_bp()
    if not low <= bp <= high:
        raise forms.ValidationError(
            _("Choose a rate from %(low)s%% to %(high)s%%.")
            % {"low": f"{low / 100:g}", "high": f"{high / 100:g}"}
        )
    return bp


class ProgrammeForm(forms.Form):
    rate = _percent_field()
    min_order = forms.DecimalField(
        label=_("Minimum order amount"),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("1000000"),
        decimal_places=2,
        max_digits=9,
        help_text=_("Orders paying less earn no commission. Leave empty for none."),
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_rate(self) -> int:
        return _check_rate(self.cleaned_data["rate"])

    def clean_min_order(self) -> int:
        value = self.cleaned_data.get("min_order") or Decimal("0")
        return Money.from_decimal(value, self.currency).amount


class RateForm(forms.Form):
    scope = forms.ChoiceField(
        label=_("Applies to"),
        choices=[(RateScope.CATEGORY, _("Category")), (RateScope.PRODUCT, _("Product"))],
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", "—"), *Category.choices], required=False
    )
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.none(), required=False
    )
    rate = _percent_field()

    def __init__(self, *args, shop, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(shop=shop).order_by("title")

    def clean_rate(self) -> int:
        return _check_rate(self.cleaned_data["rate"])

    def clean(self):
        data = super().clean()
        if data.get("scope") == RateScope.CATEGORY and not data.get("category"):
            self.add_error("category", _("Choose the category this rate applies to."))
        if data.get("scope") == RateScope.PRODUCT and not data.get("product"):
            self.add_error("product", _("Choose the product this rate applies to."))
        return data


class RateRemoveForm(forms.Form):
    """The rate to remove, by id: a whole number in the id column's range; anything else
    (letters, "²" and other characters ``str.isdigit`` accepts but ``int`` refuses, a number
    too long for the column) is invalid, never a 500."""

    rate_id = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class StatusFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", ""), *list(CommissionStatus.choices)], required=False)
