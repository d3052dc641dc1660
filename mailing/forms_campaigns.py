"""Forms of the campaign pages (SPEC M-5 to M-7, M-10)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AbMetric
from .services.campaigns import LANGUAGES


class CampaignCreateForm(forms.Form):
    name = forms.CharField(label=_("Campaign name"), max_length=120)
    template: forms.ModelChoiceField = forms.ModelChoiceField(label=_("Template"), queryset=None)
    segment: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=None,
        required=False,
        empty_label=_("All consenting contacts"),
    )

    def __init__(self, *args, shop, **kwargs):
        from .models import MailTemplate, Segment

        super().__init__(*args, **kwargs)
        template = self.fields["template"]
        segment = self.fields["segment"]
        assert isinstance(template, forms.ModelChoiceField)
        assert isinstance(segment, forms.ModelChoiceField)
        template.queryset = MailTemplate.objects.filter(shop=shop).order_by("-id")
        segment.queryset = Segment.objects.filter(shop=shop).order_by("name")


class ContentForm(forms.Form):
    language = forms.ChoiceField(choices=[(x, x) for x in LANGUAGES], widget=forms.HiddenInput)
    variant = forms.ChoiceField(choices=[("A", "A"), ("B", "B")], widget=forms.HiddenInput)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    preheader = forms.CharField(label=_("Preview text"), max_length=200, required=False)
    body = forms.CharField(label=_("Content"), widget=forms.Textarea, max_length=20000)


class ScheduleForm(forms.Form):
    send_on = forms.DateField(label=_("Date (recipients' local)"), required=False)
    send_at_local = forms.TimeField(label=_("Local time"), required=False)

    def clean(self):
        data = super().clean() or {}
        if bool(data.get("send_on")) != bool(data.get("send_at_local")):
            raise forms.ValidationError(_("Choose both a date and a local time, or neither."))
        return data


class AbForm(forms.Form):
    enabled = forms.BooleanField(label=_("Test two versions first"), required=False)
    test_percent = forms.IntegerField(
        label=_("Test share (%)"), min_value=2, max_value=50, initial=20
    )
    metric = forms.ChoiceField(label=_("Winner by"), choices=AbMetric.choices)
    wait_hours = forms.IntegerField(
        label=_("Decide after (hours)"), min_value=1, max_value=72, initial=4
    )


class TestSendForm(forms.Form):
    to = forms.EmailField(label=_("Send a test to"))
    language = forms.ChoiceField(label=_("Language"), choices=[(x, x) for x in LANGUAGES])


class LogFilterForm(forms.Form):
    code = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("All messages")),
            ("failed", _("Every failure")),
            ("401", _("401 sender domain not verified")),
            ("429", _("429 daily quota reached")),
            ("550", _("550 recipient rejected")),
            ("451", _("451 temporary failure")),
            ("422", _("422 message could not be built")),
            ("0", _("Outcome unknown")),
        ],
    )
