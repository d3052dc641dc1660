"""Forms of the issuance-rule pages (SPEC C-7) and the monthly ceiling (budget guardrail).

They turn what a seller typed into the service's arguments and say clearly what is wrong
(zero, negative, fractional or huge numbers, a window that ends before it starts, a share
outside its range); the services still check everything (forms are a courtesy, not the guard).
"""

from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import clock
from core.money import Money, exponent

from . import rules
from .models import RuleKind

DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2999, 12, 31)
PERCENT_MIN = Decimal("0.01")
PERCENT_MAX = Decimal("100")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _coins_field(label, *, required=True, help_text=""):
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=1,
        max_value=rules.MAX_COINS,
        help_text=help_text,
        error_messages={
            "invalid": _("Enter a whole number of coins, such as 500."),
            "min_value": _("Enter at least 1 coin."),
            "max_value": _("Enter at most %(limit_value)s coins."),
        },
    )


def _date_field(label, *, required=True):
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        error_messages={"invalid": _("Enter a date such as 2026-12-31.")},
    )


def _check_date(value: date | None) -> None:
    if value is not None and not DATE_MIN <= value <= DATE_MAX:
        raise ValidationError(
            _("Enter a date from %(min)s to %(max)s."),
            params={"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()},
        )


class RuleForm(forms.Form):
    """A new rule: kind, amount (fixed coins, or for completion cashback a share of paid),
    threshold (spend threshold), date window (natural days, platform time zone), budget and
    stacking."""

    FIXED, PERCENT = "fixed", "percent"

    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=RuleKind.choices)
    amount_mode = forms.ChoiceField(
        label=_("Grant size"),
        choices=[(FIXED, _("A fixed number of coins")), (PERCENT, _("A share of what was paid"))],
        initial=FIXED,
        help_text=_("A share of what was paid is possible for cashback on completion only."),
    )
    coins = _coins_field(_("Coins per grant"), required=False)
    percent = forms.DecimalField(
        label=_("Share of what was paid (%)"),
        required=False,
        max_digits=5,
        decimal_places=2,
        error_messages={
            "invalid": _("Enter a percentage such as 5 or 2.5."),
            "max_decimal_places": _("Use at most 2 decimal places."),
            "max_digits": _("Enter a percentage from 0.01 to 100."),
        },
    )
    threshold = forms.DecimalField(
        label=_("Spend threshold"),
        required=False,
        max_digits=14,
        decimal_places=2,
        help_text=_("What the buyer must pay in one order, in the shop currency."),
        error_messages={
            "invalid": _("Enter an amount such as 100 or 99.50."),
            "max_decimal_places": _("Use at most 2 decimal places."),
            "max_digits": _("Enter an amount below 1,000,000,000,000."),
        },
    )
    starts_on = _date_field(_("First day"))
    ends_on = _date_field(_("Last day"), required=False)
    budget_coins = _coins_field(
        _("Budget (coins)"), help_text=_("The rule stops when it has granted this many coins.")
    )
    stackable = forms.BooleanField(
        label=_("Combines with other rules on the same order"), required=False, initial=True
    )

    def __init__(self, *args, currency: str = "CNY", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        # What one coin is worth in this shop's currency (not always yuan).
        value = Money(rules.coin_value_minor(), currency).format()
        self.fields["coins"].help_text = gettext("1 coin = %(v)s") % {"v": value}
        if not self.is_bound:
            self.initial.setdefault("starts_on", clock.natural_day())

    def clean_starts_on(self):
        value = self.cleaned_data["starts_on"]
        _check_date(value)
        return value

    def clean_ends_on(self):
        value = self.cleaned_data.get("ends_on")
        _check_date(value)
        return value

    def clean(self):
        data = super().clean()
        kind, mode = data.get("kind"), data.get("amount_mode")
        if mode == self.PERCENT:
            if kind and kind != RuleKind.COMPLETION_CASHBACK:
                self.add_error(
                    "amount_mode",
                    _("Only cashback on completion can be a share of what was paid."),
                )
            pct = data.get("percent")
            if pct is None and "percent" not in self.errors:
                self.add_error("percent", _("Enter the share of what was paid, e.g. 5 for 5%."))
            elif pct is not None and not PERCENT_MIN <= pct <= PERCENT_MAX:
                self.add_error("percent", _("Enter a percentage from 0.01 to 100."))
        elif mode == self.FIXED and data.get("coins") is None and "coins" not in self.errors:
            self.add_error("coins", _("Enter how many coins each grant gives."))
        if kind == RuleKind.SPEND_THRESHOLD:
            threshold = data.get("threshold")
            if threshold is None and "threshold" not in self.errors:
                self.add_error("threshold", _("Enter the amount an order must reach."))
            elif threshold is not None and threshold <= 0:
                self.add_error("threshold", _("Enter an amount above zero."))
        coins, budget = data.get("coins"), data.get("budget_coins")
        if mode == self.FIXED and coins and budget and coins > budget:
            self.add_error("budget_coins", _("The budget must cover at least one grant."))
        start, end = data.get("starts_on"), data.get("ends_on")
        if start and end and end < start:
            self.add_error("ends_on", _("The last day must be on or after the first day."))
        return data

    def service_kwargs(self) -> dict:
        """The arguments of ``rule_create`` (and of the cost preview)."""
        d = self.cleaned_data
        percent = d["amount_mode"] == self.PERCENT
        threshold = d.get("threshold") if d["kind"] == RuleKind.SPEND_THRESHOLD else None
        minor = 10 ** exponent(self.currency)
        return {
            "name": d["name"],
            "kind": d["kind"],
            "coins": 0 if percent else d["coins"],
            "percent_bp": int(d["percent"] * 100) if percent else 0,
            "threshold_minor": int(threshold * minor) if threshold is not None else 0,
            "starts_at": clock.day_start(d["starts_on"]),
            "ends_at": clock.day_start(d["ends_on"] + timedelta(days=1))
            if d.get("ends_on")
            else None,
            "budget_coins": d["budget_coins"],
            "stackable": d["stackable"],
        }


class RuleEditForm(forms.Form):
    """What can change on a live rule: name, last day, budget and stacking."""

    name = forms.CharField(label=_("Name"), max_length=120)
    ends_on = _date_field(_("Last day"), required=False)
    budget_coins = _coins_field(_("Budget (coins)"))
    stackable = forms.BooleanField(
        label=_("Combines with other rules on the same order"), required=False
    )

    def __init__(self, *args, rule=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule = rule

    def clean_ends_on(self):
        value = self.cleaned_data.get("ends_on")
        _check_date(value)
        if (
            value
            and self.rule is not None
            and clock.day_start(value + timedelta(days=1)) <= self.rule.starts_at
        ):
            raise ValidationError(_("The last day must be on or after the first day."))
        return value

    def clean_budget_coins(self):
        value = self.cleaned_data["budget_coins"]
        if self.rule is not None and value < self.rule.granted_coins:
            raise ValidationError(
                _("The rule has already granted %(n)s coins: the budget cannot be lower."),
                params={"n": self.rule.granted_coins},
            )
        return value

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "ends_at": clock.day_start(d["ends_on"] + timedelta(days=1))
            if d.get("ends_on")
            else None,
            "budget_coins": d["budget_coins"],
            "stackable": d["stackable"],
        }


class CeilingForm(forms.Form):
    """The shop's monthly issuance ceiling; empty removes it."""

    ceiling_coins = _coins_field(
        _("Monthly issuance ceiling (coins)"),
        required=False,
        help_text=_("Leave empty for no ceiling."),
    )
