from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Category, ReviewStatus

# The id columns are PostgreSQL bigints: a larger number is no id at all (and would make the
# database refuse the query).
MAX_ID = 2**63 - 1


class SwitchShopForm(forms.Form):
    shop_id = forms.IntegerField(min_value=1, max_value=MAX_ID)


class ProductFilterForm(forms.Form):
    """Filters of the products list; every field optional, unknown choices are form errors."""

    q = forms.CharField(label=_("Title"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Review status"),
        required=False,
        choices=[("", _("All statuses")), *ReviewStatus.choices],
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All categories")), *Category.choices]
    )

    def filters(self) -> dict[str, str]:
        """The valid filters (an invalid field is dropped, never applied)."""
        self.is_valid()  # cleaned_data then holds only the fields that validated
        data = self.cleaned_data
        return {
            "q": (data.get("q") or "").strip(),
            "status": data.get("status") or "",
            "category": data.get("category") or "",
        }
