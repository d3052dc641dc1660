"""Forms of the activities pages."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import Money


class EnrolForm(forms.Form):
    """A SKU, its activity price (in the shop currency, e.g. 12.90) and the stock committed."""

    sku = forms.ModelChoiceField(queryset=None, label=_("SKU"), empty_label=None)
    price = forms.DecimalField(
        label=_("Activity price"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    stock = forms.IntegerField(label=_("Activity stock"), min_value=1, max_value=1_000_000)

    def __init__(self, *args, skus, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sku"].queryset = skus
        self.fields["sku"].label_from_instance = lambda s: (
            f"{s.code} — {s.price} ({_('stock')} {s.stock})"
        )

    def clean(self):
        data = super().clean()
        sku, price = data.get("sku"), data.get("price")
        if sku is not None and price is not None:
            try:
                data["price_minor"] = Money.from_decimal(price, sku.currency).amount
            except (InvalidOperation, ValueError):
                self.add_error("price", _("Enter a price in %(c)s.") % {"c": sku.currency})
        return data
