"""Admin building blocks shared by every app, and the exchange-rate table's page (PrivateFile
has no admin page).

- ``money_field``: a list/readonly column that shows an integer minor-units field as Money.
- ``ReadOnlyAdminMixin`` / ``ReadOnlyTabularInline``: view-only admin for marketplace facts,
  which change only through the services (they keep stats and domain events in step).
- ``BigTableAdminMixin``: what a changelist over a million rows needs to stay fast.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from django import forms
from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .models import FxRate
from .money import EXPONENTS, Money


def _resolve(obj, dotted: str):
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def money_field(
    field: str, *, currency: str = "currency", description=None, ordering: bool = True
) -> Callable:
    """A column rendering ``obj.<field>`` (minor units) in ``obj.<currency>`` (a dotted path,
    e.g. ``"order.currency"`` — add the relation to ``list_select_related``)."""

    def display(obj) -> str:
        value = _resolve(obj, field)
        if value is None:
            return "—"
        return Money(int(value), _resolve(obj, currency)).format()

    display.__name__ = f"{field}_money"
    return admin.display(description=description or field, ordering=field if ordering else None)(
        display
    )


class ReadOnlyAdminMixin:
    """View-only: no add, change or delete. Superusers still open the change page (view mode)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    max_num = 0
    show_change_link = True
    can_delete = False


class EstimatedCountPaginator(Paginator):
    """Unfiltered changelists of big PostgreSQL tables use the planner's row estimate
    (``pg_class.reltuples``) instead of ``COUNT(*)``, which reads the whole table.
    Filtered or small lists count exactly."""

    ESTIMATE_ABOVE = 100_000

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if isinstance(qs, QuerySet) and not qs.query.where:
            connection = connections[qs.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                        [qs.model._meta.db_table],
                    )
                    row = cursor.fetchone()
                if row and row[0] >= self.ESTIMATE_ABOVE:
                    return int(row[0])
        return super().count


class BigTableAdminMixin:
    """For tables that reach millions of rows (orders and their children, buyers, stats).

    - no second ``COUNT(*)`` of the whole table beside the filtered count;
    - an estimated count when nothing is filtered;
    - the date hierarchy only on a narrowed list (see ``date_hierarchy_when``);
    - newest first by primary key (the pk index serves it; ``-placed_at`` has no global index,
      only per shop);
    - subclasses list their FK columns in ``list_select_related`` (one query per page).
    """

    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    ordering = ["-pk"]
    # ``date_hierarchy`` asks the database for MIN/MAX and the DISTINCT years (months, days)
    # of the whole filtered list: two full scans of a million rows (~1 s measured on 1M
    # orders). It is shown only once the list is narrowed by one of these GET parameters (an
    # indexed prefix such as the shop); a date ``list_filter`` (today / 7 days / this month /
    # this year, no query) serves the unfiltered list. Avoid ``list_filter`` on a plain field
    # without choices too: its options come from ``SELECT DISTINCT`` over the table.
    date_hierarchy_when: tuple[str, ...] = ()

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)  # type: ignore[misc]  # a mixin
        if changelist.date_hierarchy and not any(
            request.GET.get(param) for param in self.date_hierarchy_when
        ):
            # The drill-down parameters, if any, were applied already; only the widget goes.
            changelist.date_hierarchy = None
        return changelist


# --- SPEC §0: the dated exchange-rate table ---------------------------------------------------


class FxRateForm(forms.ModelForm):
    class Meta:
        model = FxRate
        fields = ["currency", "day", "units_per_usd", "source"]

    def clean_currency(self) -> str:
        value = (self.cleaned_data.get("currency") or "").strip().upper()
        if value == "USD":
            raise forms.ValidationError(_("USD is the base of the table: it is always 1."))
        if value not in EXPONENTS:
            raise forms.ValidationError(
                _("Unsupported currency %(currency)s; use one of %(known)s.")
                % {"currency": value, "known": ", ".join(sorted(set(EXPONENTS) - {"USD"}))}
            )
        return value

    def clean_units_per_usd(self):
        value = self.cleaned_data.get("units_per_usd")
        if value is not None and value <= 0:
            raise forms.ValidationError(_("A rate must be greater than zero."))
        return value


@admin.register(FxRate)
class FxRateAdmin(admin.ModelAdmin):
    form = FxRateForm
    list_display = ("currency", "day", "units_per_usd", "source", "created_at")
    list_filter = ("currency",)
    search_fields = ("currency", "source")
    date_hierarchy = "day"
    ordering = ("currency", "-day")
