"""The post-mortem and the appeal of a forced exit (SPEC E-7), and the platform's decisions.

- The seller files a post-mortem within 48 h of the exit (registry: ACTIVITIES_POSTMORTEM_HOURS);
  a rejection opens a new 48-hour window for a revised one; a missed deadline can only be
  reopened by an admin (``postmortem_reopen``), which opens another 48 hours.
- The seller may open one appeal within 72 h of the exit (ACTIVITIES_APPEAL_HOURS), with
  logistics evidence. Upheld, the exit no longer counts against re-enrolment (E-8).
- Admins decide each with a reason (target: ACTIVITIES_REVIEW_TARGET_HOURS); the shop's staff
  are told the decision and its reason (in-app and by email).

Deadlines are compared at the instant: filing exactly at the deadline is in time.
Each write locks the exit row first, so two submissions of one exit never both pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from core import clock, uploads
from core.errors import DomainError, NotFound
from shops.models import NotificationKind, Shop
from shops.services import notify

from .. import rules
from ..models import (
    ActivityExit,
    Appeal,
    AppealStatus,
    PostMortem,
    PostMortemStatus,
)

REASON_MAX = 2000


def _hours(n: int) -> timedelta:
    return timedelta(hours=n)


def _local(at: datetime) -> str:
    """An instant as the platform's wall-clock time (the pages say China Standard Time)."""
    return at.astimezone(clock.platform_tz()).strftime("%Y-%m-%d %H:%M")


def postmortem_due_at(*, exit_: ActivityExit, postmortem: PostMortem | None) -> datetime:
    """When the post-mortem (or its revision) must be filed by: 48 h after the exit, or the
    deadline the row carries (after a rejection or a reopening)."""
    if postmortem is None:
        return exit_.exited_at + _hours(rules.postmortem_hours())
    return postmortem.due_at


def appeal_due_at(*, exit_: ActivityExit) -> datetime:
    return exit_.exited_at + _hours(rules.appeal_hours())


def evidence_files(*, owner):
    """The private files (``core.uploads``) a post-mortem or an appeal carries, oldest first."""
    from django.contrib.contenttypes.models import ContentType

    return uploads.PrivateFile.objects.filter(
        owner_type=ContentType.objects.get_for_model(type(owner)), owner_id=str(owner.pk)
    ).order_by("created_at", "pk")


def _locked_exit(*, shop: Shop, exit_id: int) -> ActivityExit:
    exit_ = ActivityExit.objects.select_for_update().filter(shop=shop, pk=exit_id).first()
    if exit_ is None:
        raise NotFound("No such exit.")
    return exit_


@dataclass(frozen=True)
class PostMortemInput:
    """The 12 fields of SPEC E-7 (the evidence files are passed beside them)."""

    metric: str
    root_cause: str
    affected_orders: str
    carrier: str
    erp_sync_status: str
    timeline: str
    corrective_actions: str
    owner: str
    prevention: str
    expected_fix_date: date
    stock_status: str
    stock_notes: str = ""


def _check_input(exit_: ActivityExit, data: PostMortemInput, today: date) -> None:
    from ..models import ErpSyncStatus, StockStatus

    if data.metric not in exit_.metrics:
        raise DomainError(
            _("Choose one of the metrics this removal was about."), code="invalid_metric"
        )
    for name in ("root_cause", "affected_orders", "carrier", "timeline", "corrective_actions"):
        if not getattr(data, name).strip():
            raise DomainError(_("Every field of the post-mortem is needed."), code="incomplete")
    if not data.owner.strip() or not data.prevention.strip():
        raise DomainError(_("Every field of the post-mortem is needed."), code="incomplete")
    if data.erp_sync_status not in ErpSyncStatus.values:
        raise DomainError(_("Choose the ERP / tracking sync status."), code="invalid_sync")
    if data.stock_status not in StockStatus.values:
        raise DomainError(_("Choose the stock status."), code="invalid_stock_status")
    if data.expected_fix_date < today:
        raise DomainError(_("The expected fix date cannot be in the past."), code="invalid_date")


@transaction.atomic
def postmortem_file(
    *,
    shop: Shop,
    exit_id: int,
    data: PostMortemInput,
    files=(),
    by=None,
    now: datetime | None = None,
) -> PostMortem:
    """File (or, after a rejection or a reopening, re-file) the post-mortem of ``shop``'s exit.
    Refused after its deadline, while one is under review, and once approved. The evidence
    files must already be checked (``core.uploads.validate_upload``); at least one is needed
    unless an earlier filing of this post-mortem has some."""
    now = now or clock.now()
    exit_ = _locked_exit(shop=shop, exit_id=exit_id)
    postmortem = PostMortem.objects.filter(exit=exit_).first()
    if postmortem is not None and postmortem.status == PostMortemStatus.SUBMITTED:
        raise DomainError(
            _("This post-mortem is under review already."), code="postmortem_under_review"
        )
    if postmortem is not None and postmortem.status == PostMortemStatus.APPROVED:
        raise DomainError(_("This post-mortem is approved already."), code="postmortem_approved")
    due = postmortem_due_at(exit_=exit_, postmortem=postmortem)
    if not rules.within_deadline(at=now, due=due):
        raise DomainError(
            _(
                "The deadline to file this post-mortem passed on %(due)s. Ask the platform "
                "support to reopen it."
            )
            % {"due": _local(due)},
            code="postmortem_deadline_passed",
        )
    _check_input(exit_, data, clock.natural_day(now))
    files = list(files)
    has_files = postmortem is not None and evidence_files(owner=postmortem).exists()
    if not files and not has_files:
        raise DomainError(
            _("Attach at least one evidence file (PDF or image)."), code="evidence_missing"
        )
    if postmortem is None:
        postmortem = PostMortem(exit=exit_, shop=shop)
    for name, value in vars(data).items():
        setattr(postmortem, name, value.strip() if isinstance(value, str) else value)
    postmortem.status = PostMortemStatus.SUBMITTED
    postmortem.due_at = due
    postmortem.revision += 1
    postmortem.submitted_at = now
    postmortem.submitted_by = by
    postmortem.save()
    for f in files:
        uploads.private_file_store(uploaded=f, owner=postmortem, uploaded_by=by)
    return postmortem


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise DomainError(
            f"A decision needs a reason of 1 to {REASON_MAX} characters.", code="invalid_reason"
        )
    return reason


def _who(user) -> str:
    if user is None:
        return ""
    return user.get_username()


@transaction.atomic
def postmortem_decide(
    *, postmortem_id: int, approve: bool, reason: str, by, now: datetime | None = None
) -> PostMortem:
    """The platform approves or rejects a post-mortem under review, with a reason kept on it;
    a rejection gives the seller 48 h to file a revised one. The shop's staff are told."""
    now = now or clock.now()
    reason = _reason(reason)
    postmortem = PostMortem.objects.select_for_update().filter(pk=postmortem_id).first()
    if postmortem is None:
        raise NotFound("No such post-mortem.")
    if postmortem.status != PostMortemStatus.SUBMITTED:
        raise DomainError(
            "Only a post-mortem under review can be decided.", code="postmortem_not_under_review"
        )
    postmortem.status = PostMortemStatus.APPROVED if approve else PostMortemStatus.REJECTED
    postmortem.decided_at = now
    postmortem.decided_by = by
    postmortem.decision_reason = reason
    if not approve:
        postmortem.due_at = now + _hours(rules.postmortem_hours())
    postmortem.history = [
        *postmortem.history,
        {
            "revision": postmortem.revision,
            "status": postmortem.status,
            "reason": reason,
            "by": _who(by),
            "at": now.isoformat(),
        },
    ]
    postmortem.save()
    _notify_decision(
        shop=postmortem.shop,
        decision="postmortem_approved" if approve else "postmortem_rejected",
        reason=reason,
        due=None if approve else postmortem.due_at,
        link=reverse("activities:postmortem", args=[postmortem.exit_id]),
    )
    return postmortem


@transaction.atomic
def postmortem_reopen(*, exit_id: int, by, reason: str, now: datetime | None = None) -> PostMortem:
    """An admin gives a shop that missed its deadline another 48 h to file the post-mortem."""
    now = now or clock.now()
    reason = _reason(reason)
    exit_ = ActivityExit.objects.select_for_update().filter(pk=exit_id).first()
    if exit_ is None:
        raise NotFound("No such exit.")
    postmortem = PostMortem.objects.filter(exit=exit_).first()
    if postmortem is not None and postmortem.status in (
        PostMortemStatus.SUBMITTED,
        PostMortemStatus.APPROVED,
    ):
        raise DomainError(
            "This post-mortem is filed; decide it instead.", code="postmortem_already_filed"
        )
    if rules.within_deadline(at=now, due=postmortem_due_at(exit_=exit_, postmortem=postmortem)):
        raise DomainError(
            "The seller can still file this post-mortem.", code="postmortem_still_open"
        )
    if postmortem is None:
        postmortem = PostMortem(exit=exit_, shop=exit_.shop, status=PostMortemStatus.DUE)
    postmortem.due_at = now + _hours(rules.postmortem_hours())
    postmortem.history = [
        *postmortem.history,
        {"status": "reopened", "reason": reason, "by": _who(by), "at": now.isoformat()},
    ]
    postmortem.save()
    _notify_decision(
        shop=exit_.shop,
        decision="postmortem_reopened",
        reason=reason,
        due=postmortem.due_at,
        link=reverse("activities:postmortem", args=[exit_.pk]),
    )
    return postmortem


@transaction.atomic
def appeal_open(
    *,
    shop: Shop,
    exit_id: int,
    statement: str,
    logistics_lines: str = "",
    files=(),
    by=None,
    now: datetime | None = None,
) -> Appeal:
    """The seller appeals the exit within 72 h of it, with logistics evidence (at least one
    checked file). One appeal per exit."""
    now = now or clock.now()
    exit_ = _locked_exit(shop=shop, exit_id=exit_id)
    if Appeal.objects.filter(exit=exit_).exists():
        raise DomainError(_("This removal is appealed already."), code="appeal_exists")
    due = appeal_due_at(exit_=exit_)
    if not rules.within_deadline(at=now, due=due):
        raise DomainError(
            _("Appeals of this removal closed on %(due)s.") % {"due": _local(due)},
            code="appeal_deadline_passed",
        )
    if not (statement or "").strip():
        raise DomainError(_("Say why the removal was wrong."), code="incomplete")
    files = list(files)
    if not files:
        raise DomainError(
            _("Attach the logistics evidence (carrier statements, tracking screenshots)."),
            code="evidence_missing",
        )
    appeal = Appeal.objects.create(
        exit=exit_,
        shop=shop,
        statement=statement.strip(),
        logistics_lines=(logistics_lines or "").strip(),
        opened_at=now,
        opened_by=by,
    )
    for f in files:
        uploads.private_file_store(uploaded=f, owner=appeal, uploaded_by=by)
    return appeal


@transaction.atomic
def appeal_decide(
    *, appeal_id: int, uphold: bool, reason: str, by, now: datetime | None = None
) -> Appeal:
    """The platform upholds (the exit no longer counts against re-enrolment) or dismisses an
    open appeal, with a reason. The shop's staff are told."""
    now = now or clock.now()
    reason = _reason(reason)
    appeal = Appeal.objects.select_for_update().filter(pk=appeal_id).first()
    if appeal is None:
        raise NotFound("No such appeal.")
    if appeal.status != AppealStatus.OPEN:
        raise DomainError("Only an open appeal can be decided.", code="appeal_not_open")
    appeal.status = AppealStatus.UPHELD if uphold else AppealStatus.DISMISSED
    appeal.decided_at = now
    appeal.decided_by = by
    appeal.decision_reason = reason
    appeal.save()
    _notify_decision(
        shop=appeal.shop,
        decision="appeal_upheld" if uphold else "appeal_dismissed",
        reason=reason,
        due=None,
        link=reverse("activities:appeal", args=[appeal.exit_id]),
    )
    return appeal


def _notify_decision(*, shop: Shop, decision: str, reason: str, due, link: str) -> None:
    """In-app and email (members' preferences for activity exits) with the reason; worded when
    shown, in the reader's language (activities/notices.py ``decision``)."""
    notify(
        shop=shop,
        kind=NotificationKind.ACTIVITY_EXIT,
        message="activities.decision",
        params={
            "decision": decision,
            "reason": reason,
            "due": _local(due) if due is not None else "",
        },
        link=link,
    )
