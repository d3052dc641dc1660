"""SPEC M-13: the CSV import pages — upload, field mapping with the consent attestation, the
validation report, and a progress bar (htmx polling; a refresh link without JavaScript)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.errors import DomainError
from core.ratelimit import client_ip
from shops.decorators import shop_required, write_required

from .models import ImportStatus
from .selectors_audience import get_import_for_shop, import_allowed, imports_for_shop
from .services import imports as services

RUNNING = (ImportStatus.VALIDATING, ImportStatus.IMPORTING)
TARGET_LABELS = {
    "email": gettext_lazy("Email address"),
    "name": gettext_lazy("Name"),
    "country": gettext_lazy("Country (two-letter code)"),
    "site": gettext_lazy("Site"),
    "language": gettext_lazy("Language"),
}


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file (UTF-8, header row first)"))


class MappingForm(forms.Form):
    attested = forms.BooleanField(
        label=gettext_lazy(
            "I confirm that every contact in this file agreed to receive marketing emails from "
            "my shop."
        ),
        required=False,
    )
    attestation = forms.CharField(
        label=gettext_lazy("How and when did they agree?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )

    def __init__(self, *args, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("(not in the file)"))] + [
            (str(i), h or f"#{i + 1}") for i, h in enumerate(headers)
        ]
        for target in services.TARGETS:
            self.fields[f"col_{target}"] = forms.ChoiceField(
                label=TARGET_LABELS[target], choices=choices, required=target == "email"
            )
        self.order_fields([f"col_{t}" for t in services.TARGETS] + ["attested", "attestation"])

    def mapping(self) -> dict[str, int]:
        return {
            t: int(self.cleaned_data[f"col_{t}"])
            for t in services.TARGETS
            if self.cleaned_data.get(f"col_{t}") not in (None, "")
        }


@require_http_methods(["GET", "HEAD", "POST"])
@shop_required
def import_list(request):
    shop = request.shop
    allowed = import_allowed(shop=shop)
    form = UploadForm()
    status = 200
    if request.method == "POST":
        if not request.membership.can_write:
            return render(request, "403.html", status=403)
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                data = upload.read(services.MAX_BYTES + 1)
                imp = services.import_upload(
                    shop=shop, user=request.user, name=upload.name, data=data
                )
                return redirect("mailing:import_detail", import_id=imp.pk)
            except DomainError as exc:
                form.add_error("file", exc.message)
        status = 400
    page = Paginator(imports_for_shop(shop=shop), settings.SC_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "mailing/imports.html",
        {
            "allowed": allowed,
            "form": form,
            "page_obj": page,
            "can_write": request.membership.can_write,
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@shop_required
def import_detail(request, import_id: int):
    imp = get_import_for_shop(shop=request.shop, import_id=import_id)
    form = MappingForm(
        initial={f"col_{k}": str(v) for k, v in (imp.mapping or {}).items()},
        headers=imp.headers,
    )
    status = 200
    if request.method == "POST":
        if not request.membership.can_write:
            return render(request, "403.html", status=403)
        form = MappingForm(request.POST, headers=imp.headers)
        if form.is_valid():
            try:
                services.import_map(
                    contact_import=imp,
                    mapping=form.mapping(),
                    attestation=form.cleaned_data["attestation"],
                    attested=form.cleaned_data["attested"],
                    ip=client_ip(request),
                )
                return redirect("mailing:import_detail", import_id=imp.pk)
            except DomainError as exc:
                form.add_error(None, exc.message)
        status = 400
    return render(
        request,
        "mailing/import_detail.html",
        {
            "imp": imp,
            "form": form,
            "running": imp.status in RUNNING,
            "can_write": request.membership.can_write,
            "ImportStatus": ImportStatus,
            "percent": _percent(imp),
            "problems": [
                {"row": e["row"], "text": "; ".join(services.problem_text(p) for p in e["errors"])}
                for e in imp.errors
            ],
        },
        status=status,
    )


def _percent(imp) -> int:
    if imp.status == ImportStatus.DONE:
        return 100
    if imp.status == ImportStatus.IMPORTING and imp.total_rows:
        return min(100, imp.processed_rows * 100 // imp.total_rows)
    return 0


@require_safe
@shop_required
def import_progress(request, import_id: int):
    """The progress region, polled by htmx while the worker runs; once it stops, the page
    reloads to show the report."""
    imp = get_import_for_shop(shop=request.shop, import_id=import_id)
    response = render(
        request,
        "mailing/import_detail.html#import-progress",
        {"imp": imp, "running": imp.status in RUNNING, "percent": _percent(imp)},
    )
    if imp.status not in RUNNING and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@write_required
def import_confirm(request, import_id: int):
    imp = get_import_for_shop(shop=request.shop, import_id=import_id)
    try:
        services.import_confirm(contact_import=imp)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("mailing:import_detail", import_id=imp.pk)
