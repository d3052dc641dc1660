from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import OrderStatus
from .selectors import ORDER_SORTS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


DEFAULT_SORT = "-placed"
# Dates a filter accepts. Outside them a natural day has no UTC instant (0001-01-01 shifted to
# UTC is before year 1; 9999-12-31 has no next day): a form error, never an OverflowError.
FILTER_DATE_MIN = date(1970, 1, 1)
FILTER_DATE_MAX = date(2999, 12, 31)


def _within_filter_range(value: date) -> None:
    if not FILTER_DATE_MIN <= value <= FILTER_DATE_MAX:
        raise ValidationError(
            _("Enter a date from %(min)s to %(max)s."),
            code="out_of_range",
            params={"min": FILTER_DATE_MIN.isoformat(), "max": FILTER_DATE_MAX.isoformat()},
        )


def _filter_date(label) -> forms.DateField:
    return forms.DateField(
        label=label, required=False, widget=DateInput(), validators=[_within_filter_range]
    )


class SortField(forms.Field):
    """The list's sort key: anything unknown (junk, NUL bytes, a mile of text) falls back to
    the default order rather than failing the page."""

    widget = forms.HiddenInput

    def clean(self, value) -> str:
        return value if isinstance(value, str) and value in ORDER_SORTS else DEFAULT_SORT


class OrderFilterForm(forms.Form):
    """Filters of the orders list. Invalid fields are reported and left out, never applied."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *OrderStatus.choices]
    )
    date_from = _filter_date(_("Placed from"))
    date_to = _filter_date(_("Placed to"))
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
    sort = SortField(required=False)

    def __init__(self, *args, can_search_contacts: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # SPEC B-8: a role that may not see buyers' contacts may not search by them either
        # (an e-mail prefix search recovers an address letter by letter): buyer id only.
        self.can_search_contacts = can_search_contacts
        if not can_search_contacts:
            self.fields["buyer"].widget.attrs["placeholder"] = _("Buyer id")

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


class SearchForm(forms.Form):
    """The top-bar search box: one term, an order number, a buyer id or a SKU code."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=254,
        strip=True,
        widget=forms.TextInput(attrs={"placeholder": _("Order number, buyer id or SKU")}),
    )
