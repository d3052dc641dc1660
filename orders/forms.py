from django import forms
from django.utils.translation import gettext_lazy as _

from .models import OrderStatus
from .selectors import ORDER_SORTS

DEFAULT_SORT = "-placed"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class OrderFilterForm(forms.Form):
    """Filters of the orders list. Invalid fields are reported and left out, never applied."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *OrderStatus.choices]
    )
    date_from = forms.DateField(label=_("Placed from"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("Placed to"), required=False, widget=DateInput())
    buyer = forms.CharField(
        label=_("Buyer"),
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"placeholder": _("Email prefix or buyer id")}),
    )
    number = forms.CharField(
        label=_("Order number"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": _("Starts with…")}),
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput())

    def clean_sort(self) -> str:
        # An unknown sort key falls back to the default order rather than failing the page.
        value = self.cleaned_data.get("sort") or DEFAULT_SORT
        return value if value in ORDER_SORTS else DEFAULT_SORT

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> dict:
        """Keyword arguments for ``orders_for_shop`` from the fields that validated."""
        if not self.is_bound:
            return {"sort": DEFAULT_SORT}
        self.is_valid()  # cleaned_data then holds only the valid fields
        data = self.cleaned_data
        return {
            "status": data.get("status") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "buyer": (data.get("buyer") or "").strip(),
            "number": (data.get("number") or "").strip(),
            "sort": data.get("sort") or DEFAULT_SORT,
        }
