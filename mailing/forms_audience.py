"""Forms of the audience pages (SPEC B-8, M-3, M-4, M-13). They validate input and build
``SegmentDefinition``s; the rules live in services and segments."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from buyers.models import Site

from . import segments
from .models import SuppressionReason
from .segments import SegmentDefinition

BLANK = [("", _("Any"))]
MAX_DAYS = 3650


def _codes(value: str) -> tuple[str, ...]:
    return tuple(
        sorted({c.strip().upper() for c in value.replace(";", ",").split(",") if c.strip()})
    )


class DefinitionFields(forms.Form):
    """The segment conditions (SPEC M-4), shared by the segment editor and the audience filter."""

    abandoned_cart_days = forms.IntegerField(
        label=_("Abandoned cart: no order for at least (days) after cart activity"),
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
    )
    fulfilment = forms.ChoiceField(
        label=_("Fulfilment"),
        required=False,
        choices=[
            *BLANK,
            (segments.FULFILMENT_DELIVERED, _("Delivered recently")),
            (segments.FULFILMENT_SHIPPED, _("Shipped recently")),
        ],
    )
    fulfilment_days = forms.IntegerField(
        label=_("…within the last (days)"), required=False, min_value=1, max_value=MAX_DAYS
    )
    last_order_min_days = forms.IntegerField(
        label=_("Last order at least (days ago)"), required=False, min_value=0, max_value=MAX_DAYS
    )
    last_order_max_days = forms.IntegerField(
        label=_("Last order at most (days ago)"), required=False, min_value=0, max_value=MAX_DAYS
    )
    spend_min = forms.DecimalField(
        label=_("Spend from"), required=False, min_value=0, decimal_places=2, max_digits=14
    )
    spend_max = forms.DecimalField(
        label=_("Spend up to"), required=False, min_value=0, decimal_places=2, max_digits=14
    )
    countries = forms.CharField(
        label=_("Countries (ISO codes, comma-separated)"), required=False, max_length=300
    )
    sites = forms.MultipleChoiceField(
        label=_("Sites"), required=False, choices=Site.choices, widget=forms.CheckboxSelectMultiple
    )
    coins_expiring_days = forms.IntegerField(
        label=_("Coins expiring within (days)"), required=False, min_value=1, max_value=MAX_DAYS
    )
    rfm_groups = forms.MultipleChoiceField(
        label=_("Buyer groups"),
        required=False,
        choices=list(segments.RFM_GROUPS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    repeat = forms.ChoiceField(
        label=_("Repeat buyers"),
        required=False,
        choices=[*BLANK, ("yes", _("Repeat buyers only")), ("no", _("One order or none"))],
    )

    def __init__(self, *args, minor_per_unit: int = 100, **kwargs):
        super().__init__(*args, **kwargs)
        self.minor_per_unit = minor_per_unit

    def clean_countries(self):
        codes = _codes(self.cleaned_data.get("countries") or "")
        bad = [c for c in codes if len(c) != 2 or not c.isalpha()]
        if bad:
            raise forms.ValidationError(
                _("Use two-letter country codes such as FR or US (not: %(bad)s).")
                % {"bad": ", ".join(bad)}
            )
        return codes

    def clean(self):
        data = super().clean() or {}
        lo, hi = data.get("last_order_min_days"), data.get("last_order_max_days")
        if lo is not None and hi is not None and lo > hi:
            self.add_error(
                "last_order_max_days",
                _("The upper end must be at least the lower end (%(lo)s days).") % {"lo": lo},
            )
        smin, smax = data.get("spend_min"), data.get("spend_max")
        if smin is not None and smax is not None and smin > smax:
            self.add_error("spend_max", _("The upper end must be at least the lower end."))
        if data.get("fulfilment_days") and not data.get("fulfilment"):
            self.add_error("fulfilment", _("Choose delivered or shipped for this window."))
        return data

    def _minor(self, value) -> int | None:
        if value is None:
            return None
        try:
            return int((Decimal(value) * self.minor_per_unit).to_integral_value())
        except InvalidOperation:  # pragma: no cover - the field validated it
            return None

    def definition(self) -> SegmentDefinition:
        d = self.cleaned_data
        repeat = {"yes": True, "no": False}.get(d.get("repeat") or "")
        return SegmentDefinition(
            abandoned_cart_days=d.get("abandoned_cart_days"),
            fulfilment=d.get("fulfilment") or "",
            fulfilment_days=d.get("fulfilment_days"),
            last_order_min_days=d.get("last_order_min_days"),
            last_order_max_days=d.get("last_order_max_days"),
            spend_min_minor=self._minor(d.get("spend_min")),
            spend_max_minor=self._minor(d.get("spend_max")),
            countries=tuple(d.get("countries") or ()),
            sites=tuple(d.get("sites") or ()),
            coins_expiring_days=d.get("coins_expiring_days"),
            rfm_groups=tuple(d.get("rfm_groups") or ()),
            repeat=repeat,
        )

    @classmethod
    def initial_from(cls, definition: SegmentDefinition, minor_per_unit: int = 100) -> dict:
        d = definition
        return {
            "abandoned_cart_days": d.abandoned_cart_days,
            "fulfilment": d.fulfilment,
            "fulfilment_days": d.fulfilment_days,
            "last_order_min_days": d.last_order_min_days,
            "last_order_max_days": d.last_order_max_days,
            "spend_min": None
            if d.spend_min_minor is None
            else Decimal(d.spend_min_minor) / minor_per_unit,
            "spend_max": None
            if d.spend_max_minor is None
            else Decimal(d.spend_max_minor) / minor_per_unit,
            "countries": ", ".join(d.countries),
            "sites": list(d.sites),
            "coins_expiring_days": d.coins_expiring_days,
            "rfm_groups": list(d.rfm_groups),
            "repeat": "" if d.repeat is None else ("yes" if d.repeat else "no"),
        }


class SegmentForm(DefinitionFields):
    name = forms.CharField(label=_("Name"), max_length=120)

    field_order = ["name"]


class AudienceFilterForm(DefinitionFields):
    q = forms.CharField(label=_("Search"), required=False, max_length=254)
    consent = forms.ChoiceField(
        label=_("Consent"), required=False, choices=BLANK + list(segments.CONSENT_STATES.items())
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("-last_order", _("Last order")),
            ("-spend", _("Spend")),
            ("-orders", _("Orders")),
            ("-buyer", _("Newest buyer id")),
        ],
    )
    segment = forms.IntegerField(required=False, widget=forms.HiddenInput)


class SuppressionAddForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)


class SuppressionFilterForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"), required=False, choices=BLANK + list(SuppressionReason.choices)
    )
    active = forms.BooleanField(label=_("Only those in force"), required=False)
