from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.money import EXPONENTS

from .models import Category, NotificationKind, Region, ReviewStatus

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
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("title", _("Title (A-Z)")),
            ("newest", _("Newest first")),
            ("units", _("Units sold, 30 days")),
            ("gmv", _("GMV, 30 days")),
        ],
    )

    DEFAULTS = {"q": "", "status": "", "category": "", "sort": "title"}

    def filters(self) -> dict[str, str]:
        """The valid filters (an invalid field is dropped, never applied)."""
        self.is_valid()  # cleaned_data then holds only the fields that validated
        data = self.cleaned_data
        return {
            "q": (data.get("q") or "").strip(),
            "status": data.get("status") or "",
            "category": data.get("category") or "",
            "sort": data.get("sort") or "title",
        }


# --- fields of the rule-number registry (settings.CONSTANCE_ADDITIONAL_FIELDS) ----------------


class RegionRuleField(forms.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Region.choices, **kwargs)


class CurrencyRuleField(forms.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=[(c, c) for c in sorted(EXPONENTS)], **kwargs)


class CategoriesRuleField(forms.CharField):
    """Main-category codes, comma-separated (stored as text); each must be a known category."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", ", ".join(Category.values))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        codes = [c.strip() for c in (value or "").split(",") if c.strip()]
        unknown = [c for c in codes if c not in Category.values]
        if unknown:
            raise ValidationError(
                _("Unknown category: %(codes)s. Known: %(known)s.")
                % {"codes": ", ".join(unknown), "known": ", ".join(Category.values)}
            )
        return ",".join(dict.fromkeys(codes))


class NotificationPreferencesForm(forms.Form):
    """Two switches per kind: in the seller center, and by email."""

    def __init__(self, *args, initial_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        chosen = {kind: (in_app, email) for kind, _l, in_app, email in initial_choices or []}
        for kind, label in NotificationKind.choices:
            in_app, email = chosen.get(kind, (True, True))
            self.fields[f"{kind}__in_app"] = forms.BooleanField(
                label=label, required=False, initial=in_app
            )
            self.fields[f"{kind}__email"] = forms.BooleanField(
                label=label, required=False, initial=email
            )

    def rows(self):
        """(label, in-app field, email field) per kind, for the template."""
        return [
            (label, self[f"{kind}__in_app"], self[f"{kind}__email"])
            for kind, label in NotificationKind.choices
        ]

    def choices(self) -> dict[str, tuple[bool, bool]]:
        data = self.cleaned_data
        return {
            kind: (data[f"{kind}__in_app"], data[f"{kind}__email"])
            for kind in NotificationKind.values
        }
