"""Platform-admin review of post-mortems and appeals (SPEC E-7): the queue oldest first with
its review target, the filed fields and evidence files, and the decisions — each with a reason,
through the services, which notify the shop's staff."""

from datetime import timedelta

from django.contrib import admin
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import clock
from core.admin import ReadOnlyAdminMixin
from core.errors import DomainError

from . import rules, services
from .forms_postmortem import DecisionForm
from .models import Appeal, AppealStatus, PostMortem, PostMortemStatus


def _files(obj):
    rows = [
        (reverse("private_file", args=[f.pk]), f.original_name, f.content_type)
        for f in services.evidence_files(owner=obj)
    ]
    if not rows:
        return "—"
    return format_html(
        "<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a> ({})</li>', rows)
    )


class DecideMixin:
    """Admin actions that take a reason on an intermediate page, then call ``decide`` per row."""

    decide_template = "admin/activities/decide.html"

    def has_decide_permission(self, request) -> bool:
        opts = self.model._meta  # type: ignore[attr-defined]
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def _decide(self, request, queryset, *, title, call):
        form = DecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done, refused = 0, 0
            for obj in queryset.order_by("pk"):
                try:
                    call(obj, form.cleaned_data["reason"])
                    done += 1
                except DomainError:
                    refused += 1
            self.message_user(  # type: ignore[attr-defined]
                request,
                ngettext(
                    "%(done)s decided, %(refused)s refused: not in a state for this decision.",
                    "%(done)s decided, %(refused)s refused: not in a state for this decision.",
                    done,
                )
                % {"done": done, "refused": refused},
            )
            return None
        return TemplateResponse(
            request,
            self.decide_template,
            {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                "title": title,
                "form": form,
                "objects": queryset,
                "action": request.POST.get("action"),
                "opts": self.model._meta,  # type: ignore[attr-defined]
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


def _review_by(submitted_at):
    if submitted_at is None:
        return "—"
    due = submitted_at + timedelta(hours=rules.review_target_hours())
    text = due.astimezone(clock.platform_tz()).strftime("%Y-%m-%d %H:%M")
    if due < clock.now():
        return format_html("<strong>{} ({})</strong>", text, _("late"))
    return text


@admin.register(PostMortem)
class PostMortemAdmin(DecideMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["shop", "exit", "status", "revision", "submitted_at", "review_by"]
    list_filter = ["status"]
    list_select_related = ["shop", "exit"]
    search_fields = ["shop__name", "=shop__external_id"]
    ordering = ["submitted_at", "pk"]
    actions = ["approve", "reject"]
    readonly_fields = ["evidence_files"]
    fields = [
        "shop",
        "exit",
        "status",
        "due_at",
        "revision",
        "submitted_at",
        "submitted_by",
        "metric",
        "root_cause",
        "affected_orders",
        "carrier",
        "erp_sync_status",
        "timeline",
        "corrective_actions",
        "evidence_files",
        "owner",
        "prevention",
        "expected_fix_date",
        "stock_status",
        "stock_notes",
        "decided_at",
        "decided_by",
        "decision_reason",
        "history",
    ]

    @admin.display(description=_("decide by (target)"))
    def review_by(self, obj):
        if obj.status != PostMortemStatus.SUBMITTED:
            return "—"
        return _review_by(obj.submitted_at)

    @admin.display(description=_("evidence files"))
    def evidence_files(self, obj):
        return _files(obj)

    @admin.action(description=_("Approve with a reason"), permissions=["decide"])
    def approve(self, request, queryset):
        return self._decide(
            request,
            queryset,
            title=_("Approve post-mortems"),
            call=lambda obj, reason: services.postmortem_decide(
                postmortem_id=obj.pk, approve=True, reason=reason, by=request.user
            ),
        )

    @admin.action(
        description=_("Reject with a reason (the seller files a revised one)"),
        permissions=["decide"],
    )
    def reject(self, request, queryset):
        return self._decide(
            request,
            queryset,
            title=_("Reject post-mortems"),
            call=lambda obj, reason: services.postmortem_decide(
                postmortem_id=obj.pk, approve=False, reason=reason, by=request.user
            ),
        )


@admin.register(Appeal)
class AppealAdmin(DecideMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["shop", "exit", "status", "opened_at", "review_by"]
    list_filter = ["status"]
    list_select_related = ["shop", "exit"]
    search_fields = ["shop__name", "=shop__external_id"]
    ordering = ["opened_at", "pk"]
    actions = ["uphold", "dismiss"]
    readonly_fields = ["evidence_files"]
    fields = [
        "shop",
        "exit",
        "status",
        "opened_at",
        "opened_by",
        "statement",
        "logistics_lines",
        "evidence_files",
        "decided_at",
        "decided_by",
        "decision_reason",
    ]

    @admin.display(description=_("decide by (target)"))
    def review_by(self, obj):
        return _review_by(obj.opened_at) if obj.status == AppealStatus.OPEN else "—"

    @admin.display(description=_("logistics evidence"))
    def evidence_files(self, obj):
        return _files(obj)

    @admin.action(
        description=_("Uphold with a reason (the removal no longer counts)"), permissions=["decide"]
    )
    def uphold(self, request, queryset):
        return self._decide(
            request,
            queryset,
            title=_("Uphold appeals"),
            call=lambda obj, reason: services.appeal_decide(
                appeal_id=obj.pk, uphold=True, reason=reason, by=request.user
            ),
        )

    @admin.action(description=_("Dismiss with a reason"), permissions=["decide"])
    def dismiss(self, request, queryset):
        return self._decide(
            request,
            queryset,
            title=_("Dismiss appeals"),
            call=lambda obj, reason: services.appeal_decide(
                appeal_id=obj.pk, uphold=False, reason=reason, by=request.user
            ),
        )


class ReopenPostMortemMixin(DecideMixin):
    """On the exits' list: give a shop that missed its post-mortem deadline another 48 h."""

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("activities.change_postmortem")

    @admin.action(
        description=_("Reopen the post-mortem for 48 hours, with a reason"), permissions=["decide"]
    )
    def reopen_postmortem(self, request, queryset):
        return self._decide(
            request,
            queryset,
            title=_("Reopen post-mortems"),
            call=lambda obj, reason: services.postmortem_reopen(
                exit_id=obj.pk, reason=reason, by=request.user
            ),
        )
