"""Forms of the post-mortem and the appeal of a forced exit (SPEC E-7)."""

from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from core import clock
from core.uploads import validate_upload
from shops.models import Carrier

from .models import ErpSyncStatus, StockStatus

MAX_FILES = 5
TEXT_MAX = 4000
# The fix date a post-mortem may promise: from today to this many days ahead.
FIX_DATE_MAX_DAYS = 180


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern), each checked by
    ``core.uploads.validate_upload`` (content-sniffed type, size)."""

    def __init__(self, *args, max_files: int = MAX_FILES, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("validators", [validate_upload])
        self.max_files = max_files
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = list(data) if isinstance(data, list | tuple) else ([data] if data else [])
        items = [d for d in items if d]
        if len(items) > self.max_files:
            raise forms.ValidationError(
                _("Attach at most %(n)s files at a time."),
                code="too_many_files",
                params={"n": self.max_files},
            )
        single = super().clean
        return [single(d, initial) for d in items]


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")
        if isinstance(widget, forms.Textarea):
            widget.attrs.setdefault("rows", 4)


def _text(label, help_text="", required=True):
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        max_length=TEXT_MAX,
        widget=forms.Textarea,
    )


class PostMortemForm(forms.Form):
    """The 12 fields of SPEC E-7, in its order."""

    metric = forms.ChoiceField(label=_("Metric"))
    root_cause = _text(_("Root cause"), _("What made the metric go over its limit."))
    affected_orders = _text(
        _("Affected orders"),
        _("Pre-filled from the removal's evidence: order, SKUs, carrier and tracking, last scan."),
    )
    carrier = forms.ChoiceField(label=_("Carrier"), choices=Carrier.choices)
    erp_sync_status = forms.ChoiceField(
        label=_("ERP / tracking sync status"), choices=ErpSyncStatus.choices
    )
    timeline = _text(_("Timeline"), _("What happened when, from the first late order on."))
    corrective_actions = _text(_("Corrective actions"), _("What you have done already."))
    evidence = MultipleFileField(
        label=_("Evidence files"),
        required=False,
        help_text=_("PDF, PNG, JPEG or WebP, up to 5 files; e.g. carrier statements, ERP logs."),
    )
    owner = forms.CharField(label=_("Owner"), max_length=120, help_text=_("Who is accountable."))
    prevention = _text(_("Prevention"), _("What keeps it from happening again."))
    expected_fix_date = forms.DateField(
        label=_("Expected fix date"),
        # an <input type=date> takes and gives ISO dates whatever the page's language
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Year-month-day, e.g. 2026-12-31."),
    )
    stock_status = forms.ChoiceField(label=_("Stock status"), choices=StockStatus.choices)
    stock_notes = _text(
        _("Stock of the SKUs that left"), _("Pre-filled with today's stock."), required=False
    )

    def __init__(self, *args, metrics: list[tuple[str, str]], needs_files: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = metrics  # type: ignore[attr-defined]
        self.needs_files = needs_files
        self.fields["evidence"].required = needs_files  # the label's mark; checked below
        _style(self)

    def clean_expected_fix_date(self):
        day = self.cleaned_data["expected_fix_date"]
        today = clock.natural_day()
        if day < today:
            raise forms.ValidationError(
                _("The expected fix date cannot be in the past."), code="past"
            )
        if day > today + timedelta(days=FIX_DATE_MAX_DAYS):
            raise forms.ValidationError(
                _("Choose a date within %(n)s days."),
                code="too_far",
                params={"n": FIX_DATE_MAX_DAYS},
            )
        return day

    def clean_evidence(self):
        files = self.cleaned_data.get("evidence") or []
        if not files and self.needs_files:
            raise forms.ValidationError(
                _("Attach at least one evidence file (PDF or image)."), code="required"
            )
        return files


class AppealForm(forms.Form):
    statement = _text(
        _("Why the removal was wrong"),
        _("E.g. the carrier lost scans for days; the parcels moved on time."),
    )
    logistics_lines = _text(
        _("Logistics lines"),
        _("Pre-filled from the removal's evidence; correct or add what the carrier shows."),
        required=False,
    )
    evidence = MultipleFileField(
        label=_("Logistics evidence"),
        required=False,
        help_text=_("Carrier statements or tracking screenshots: PDF, PNG, JPEG or WebP, up to 5."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)

    def clean_evidence(self):
        files = self.cleaned_data.get("evidence") or []
        if not files:
            raise forms.ValidationError(
                _("Attach the logistics evidence (carrier statements, tracking screenshots)."),
                code="required",
            )
        return files


class DecisionForm(forms.Form):
    """Admin: the reason of a decision, kept on the record and sent to the shop's staff."""

    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Sent to the shop's staff with the decision and kept on the record."),
    )
