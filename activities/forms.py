"""Forms of the activities pages."""

from dataclasses import replace
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import Money
from shops.models import Category

from . import rules
from .models import CarrierIncident


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


class ThresholdPreviewForm(forms.Form):
    """The registry numbers an admin is considering (SPEC E-3, E-3a, E-4), pre-filled with the
    current ones; nothing is saved — ``selectors.threshold_preview`` re-judges the snapshots."""

    cancel = forms.DecimalField(
        label=_("Cancel rate limit, percent"), min_value=0, max_value=100, decimal_places=2
    )
    late_shipment = forms.DecimalField(
        label=_("Late-shipment rate limit, percent"), min_value=0, max_value=100, decimal_places=2
    )
    logistics_anomaly = forms.DecimalField(
        label=_("Logistics anomaly rate limit, percent"),
        min_value=0,
        max_value=100,
        decimal_places=2,
    )
    negative_review = forms.DecimalField(
        label=_("Negative review rate limit, percent"),
        min_value=0,
        max_value=100,
        decimal_places=2,
    )
    min_orders = forms.IntegerField(
        label=_("Minimum orders before a rate counts"), min_value=1, max_value=100000
    )
    min_reviews = forms.IntegerField(
        label=_("Minimum reviews before the negative review rate counts"),
        min_value=1,
        max_value=100000,
    )
    relaxed_categories = forms.MultipleChoiceField(
        label=_("Relaxed main categories"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    relaxation_factor = forms.DecimalField(
        label=_("Relaxation factor"), min_value=1, max_value=10, decimal_places=3
    )
    official_weight = forms.DecimalField(
        label=_("Weight of an official-logistics anomaly"),
        min_value=0,
        max_value=1,
        decimal_places=3,
    )

    @classmethod
    def initial_from(cls, limits: rules.Limits) -> dict:
        return {
            **{m: limits.thresholds[m] for m in limits.thresholds},
            "min_orders": limits.min_samples[rules.Metric.CANCEL],
            "min_reviews": limits.min_samples[rules.Metric.NEGATIVE_REVIEW],
            "relaxed_categories": sorted(limits.relaxed_categories),
            "relaxation_factor": limits.relaxation_factor,
            "official_weight": limits.official_weight,
        }

    def limits(self, base: rules.Limits) -> rules.Limits:
        """``base`` (the current numbers) with this form's numbers in place."""
        d = self.cleaned_data
        orders = d["min_orders"]
        return replace(
            base,
            thresholds={m.value: d[m.value] for m in rules.METRICS},
            min_samples={
                rules.Metric.CANCEL.value: orders,
                rules.Metric.LATE_SHIPMENT.value: orders,
                rules.Metric.ANOMALY.value: orders,
                rules.Metric.NEGATIVE_REVIEW.value: d["min_reviews"],
            },
            relaxed_categories=frozenset(d["relaxed_categories"]),
            relaxation_factor=d["relaxation_factor"],
            official_weight=d["official_weight"],
        )


class CarrierIncidentForm(forms.ModelForm):
    """The admin's carrier incident (SPEC E-3a), checked and normalised by the service's own
    ``incident_validate``: "cn" is saved as "CN" (orders store the ship-to country upper-case,
    so a lower-case region would exempt nothing), a bad region or window is a form error."""

    ERRORS = {
        "invalid_carrier": ("carrier", _("Choose a carrier from the list.")),
        "invalid_region": (
            "region",
            _("Enter a two-letter country code such as FR, or leave it empty for every country."),
        ),
        "invalid_window": ("ends_at", _("The incident must end after it starts.")),
        "invalid_reason": ("reason", _("Say what happened.")),
    }

    class Meta:
        model = CarrierIncident
        fields = ["carrier", "region", "starts_at", "ends_at", "reason"]

    def clean(self):
        from core.errors import DomainError

        from .services import incident_validate

        data = super().clean()
        names = ("carrier", "region", "starts_at", "ends_at", "reason")
        if any(name in self.errors for name in names):
            return data  # each field's own error first
        try:
            valid = incident_validate(**{name: data.get(name) for name in names})
        except DomainError as exc:
            field, message = self.ERRORS.get(exc.code, (None, exc.message))
            self.add_error(field, message)
            return data
        data.update(
            carrier=valid.carrier,
            region=valid.region,
            starts_at=valid.starts_at,
            ends_at=valid.ends_at,
            reason=valid.reason,
        )
        return data
