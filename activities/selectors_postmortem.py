"""Reads of the post-mortem and the appeal of a forced exit (SPEC E-7) and the post-mortem
condition of re-enrolment (E-8). (``selectors.py`` is past its size; this part lives here.)"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import clock
from core.checks import Check
from orders.selectors import LogisticsLine, logistics_lines
from shops.models import Carrier, Shop

from . import rules
from .models import (
    ActivityExit,
    AppealStatus,
    Enrolment,
    PostMortem,
    PostMortemStatus,
)


class PmState:
    """Where a post-mortem stands, for the pages (no database value)."""

    TO_FILE = "to_file"  # not filed yet, within the deadline
    REFILE = "refile"  # rejected (or reopened): a revised one may be filed
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    MISSED = "missed"  # not filed within the deadline


@dataclass(frozen=True)
class Filings:
    """An exit's post-mortem and appeal as the seller sees them at ``now``."""

    exit: ActivityExit
    postmortem: PostMortem | None
    pm_state: str
    pm_due_at: datetime
    appeal_due_at: datetime
    appeal_status: str  # "" (none), or AppealStatus
    now: datetime

    @property
    def can_file(self) -> bool:
        return self.pm_state in (PmState.TO_FILE, PmState.REFILE)

    @property
    def can_appeal(self) -> bool:
        return not self.appeal_status and rules.within_deadline(at=self.now, due=self.appeal_due_at)

    @property
    def overturned(self) -> bool:
        return self.appeal_status == AppealStatus.UPHELD

    @property
    def pm_left(self) -> str:
        return time_left(self.now, self.pm_due_at)

    @property
    def appeal_left(self) -> str:
        return time_left(self.now, self.appeal_due_at)

    @property
    def pm_state_label(self) -> str:
        return {
            PmState.TO_FILE: _("To file"),
            PmState.REFILE: _("Rejected: file a revised one")
            if self.postmortem is not None and self.postmortem.status == PostMortemStatus.REJECTED
            else _("Reopened: to file"),
            PmState.UNDER_REVIEW: _("Under review"),
            PmState.APPROVED: _("Approved"),
            PmState.MISSED: _("Deadline missed"),
        }[self.pm_state]


def time_left(now: datetime, due: datetime) -> str:
    """ "31 h 20 min left" (or "closed") — the countdown shown beside a deadline."""
    seconds = int((due - now).total_seconds())
    if seconds < 0:
        return _("closed")
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    if hours:
        return ngettext("%(h)s h %(m)s min left", "%(h)s h %(m)s min left", hours) % {
            "h": hours,
            "m": minutes,
        }
    return ngettext("%(m)s min left", "%(m)s min left", minutes) % {"m": minutes}


def filings(*, exit_: ActivityExit, now: datetime | None = None) -> Filings:
    """No query when ``exit_`` came with ``postmortem`` and ``appeal`` selected."""
    from .services.postmortem import appeal_due_at, postmortem_due_at

    now = now or clock.now()
    postmortem = getattr(exit_, "postmortem", None)
    appeal = getattr(exit_, "appeal", None)
    due = postmortem_due_at(exit_=exit_, postmortem=postmortem)
    status = postmortem.status if postmortem is not None else None
    if status == PostMortemStatus.APPROVED:
        state = PmState.APPROVED
    elif status == PostMortemStatus.SUBMITTED:
        state = PmState.UNDER_REVIEW
    elif not rules.within_deadline(at=now, due=due):
        state = PmState.MISSED
    elif status in (PostMortemStatus.REJECTED, PostMortemStatus.DUE):
        state = PmState.REFILE
    else:
        state = PmState.TO_FILE
    return Filings(
        exit=exit_,
        postmortem=postmortem,
        pm_state=state,
        pm_due_at=due,
        appeal_due_at=appeal_due_at(exit_=exit_),
        appeal_status=appeal.status if appeal is not None else "",
        now=now,
    )


def exits_with_filings(*, shop: Shop) -> QuerySet[ActivityExit]:
    """The shop's exits, newest first, each with its post-mortem and appeal (one query)."""
    return (
        ActivityExit.objects.filter(shop=shop)
        .select_related("postmortem", "appeal")
        .order_by("-exited_at", "-pk")
    )


def get_exit_with_filings(*, shop: Shop, exit_id: int) -> ActivityExit:
    """404 for another shop's exit."""
    return get_object_or_404(exits_with_filings(shop=shop), pk=exit_id)


def counting_exit(*, shop: Shop) -> ActivityExit | None:
    """SPEC E-8: the latest exit that still counts — an upheld appeal lifts it."""
    return exits_with_filings(shop=shop).exclude(appeal__status=AppealStatus.UPHELD).first()


def postmortem_condition(*, exit_: ActivityExit, now: datetime) -> tuple[Check, date | None]:
    """SPEC E-8 "post-mortem approved": its state, what to do, and the earliest natural day it
    can pass (the platform's review target counted from now, or from the filing)."""
    f = filings(exit_=exit_, now=now)
    target = timedelta(hours=rules.review_target_hours())
    url = reverse("activities:postmortem", args=[exit_.pk])
    due = clock.natural_day(f.pm_due_at)
    passed = f.pm_state == PmState.APPROVED
    earliest: date | None = None
    detail = fix = ""
    if f.pm_state in (PmState.TO_FILE, PmState.REFILE):
        earliest = clock.natural_day(now + target)
        detail = _("File it by %(due)s (%(left)s).") % {
            "due": f.pm_due_at.astimezone(clock.platform_tz()).strftime("%Y-%m-%d %H:%M"),
            "left": f.pm_left,
        }
        fix = _(
            "File the post-mortem with its evidence files; the platform aims to decide within "
            "%(h)s hours."
        ) % {"h": rules.review_target_hours()}
    elif f.pm_state == PmState.UNDER_REVIEW:
        submitted = f.postmortem.submitted_at if f.postmortem else now
        earliest = clock.natural_day(max(now, (submitted or now) + target))
        detail = _("Filed; the platform is reviewing it.")
        fix = _("Nothing to do now: you will be notified of the decision.")
    elif f.pm_state == PmState.MISSED:
        detail = _("The deadline to file it passed on %(day)s.") % {"day": due.isoformat()}
        fix = _(
            "Ask the platform support to reopen the post-mortem; you then have %(h)s hours."
        ) % {"h": rules.postmortem_hours()}
    rejected = f.postmortem is not None and f.postmortem.status == PostMortemStatus.REJECTED
    measured = {
        PmState.TO_FILE: _("not filed yet"),
        PmState.REFILE: _("rejected") if rejected else _("reopened"),
        PmState.UNDER_REVIEW: _("under review"),
        PmState.APPROVED: _("approved"),
        PmState.MISSED: _("deadline missed"),
    }[f.pm_state]
    check = Check(
        code="e8_postmortem_approved",
        label=_("Post-mortem approved"),
        passed=passed,
        measured=measured,
        required=_("approved"),
        detail=detail,
        fix=fix,
        fix_url="" if passed else url,
        fix_link="" if passed else _("The post-mortem"),
    )
    return check, earliest


# --- pre-filling the forms from the exit's evidence -----------------------------------------------


def evidence_order_numbers(*, exit_: ActivityExit) -> list[str]:
    """The orders behind the exit's metrics, as its evidence lists them (each once)."""
    numbers: list[str] = []
    for ev in exit_.evidence.get("metrics", {}).values():
        numbers.extend(ev.get("orders", []))
    return list(dict.fromkeys(numbers))


def _when(at: datetime | None) -> str:
    return at.astimezone(clock.platform_tz()).strftime("%Y-%m-%d %H:%M") if at else "—"


def line_text(line: LogisticsLine) -> str:
    """One order as a line of text: number, SKUs, carrier and tracking, shipped, last scan."""
    carrier = Carrier(line.carrier).label if line.carrier in Carrier.values else line.carrier
    parts = [line.number, ", ".join(line.sku_codes) or "—"]
    if line.cancelled:
        parts.append(_("cancelled"))
    if line.tracking_number or line.carrier:
        parts.append(f"{carrier or '—'} {line.tracking_number or '—'}")
        parts.append(_("shipped %(when)s") % {"when": _when(line.shipped_at)})
        parts.append(_("last scan %(when)s") % {"when": _when(line.last_event_at)})
    else:
        parts.append(_("placed %(when)s, not shipped") % {"when": _when(line.placed_at)})
    return " · ".join(str(p) for p in parts)


@dataclass(frozen=True)
class Prefill:
    lines: list[LogisticsLine]
    initial: dict


def postmortem_prefill(*, exit_: ActivityExit, user=None) -> Prefill:
    """SPEC E-7: the form pre-filled from the exit's evidence — the offending orders with their
    SKUs and logistics lines, the carrier most of them used, the timeline of the metric, and
    the stock of the SKUs that left the activities. Three queries."""
    from .services.evaluation import metric_label

    lines = logistics_lines(shop=exit_.shop, numbers=evidence_order_numbers(exit_=exit_))
    carriers = Counter(line.carrier for line in lines if line.carrier in Carrier.values)
    timeline = []
    for metric, ev in exit_.evidence.get("metrics", {}).items():
        before, today = ev.get("yesterday") or {}, ev.get("today") or {}
        timeline.append(
            _("%(day)s (end of day): %(metric)s %(value)s%% (limit %(limit)s%%)")
            % {
                "day": (exit_.day - timedelta(days=1)).isoformat(),
                "metric": metric_label(metric),
                "value": before.get("value"),
                "limit": before.get("threshold"),
            }
        )
        timeline.append(
            _("%(when)s: %(metric)s %(value)s%% (limit %(limit)s%%)")
            % {
                "when": _when(exit_.exited_at),
                "metric": metric_label(metric),
                "value": today.get("value"),
                "limit": today.get("threshold"),
            }
        )
    timeline.append(
        ngettext(
            "%(when)s: removed from every running activity (%(n)s SKU left).",
            "%(when)s: removed from every running activity (%(n)s SKUs left).",
            exit_.enrolments_removed,
        )
        % {"when": _when(exit_.exited_at), "n": exit_.enrolments_removed}
    )
    skus = (
        Enrolment.objects.filter(exit=exit_)
        .select_related("sku")
        .order_by("sku__code")
        .values_list("sku__code", "sku__stock", "stock")
    )
    stock_notes = "\n".join(
        _("%(sku)s: %(stock)s in stock (activity stock %(committed)s)")
        % {"sku": code, "stock": stock, "committed": committed}
        for code, stock, committed in skus
    )
    owner = ""
    if user is not None:
        owner = (user.get_full_name() or user.get_username()) if user.is_authenticated else ""
    return Prefill(
        lines=lines,
        initial={
            "metric": exit_.metrics[0] if exit_.metrics else "",
            "affected_orders": "\n".join(line_text(line) for line in lines),
            "carrier": carriers.most_common(1)[0][0] if carriers else "",
            "timeline": "\n".join(str(t) for t in timeline),
            "stock_notes": stock_notes,
            "owner": owner,
        },
    )


def appeal_prefill(*, exit_: ActivityExit) -> Prefill:
    """SPEC E-7: the appeal's logistics lines pre-filled from the exit's evidence."""
    lines = logistics_lines(shop=exit_.shop, numbers=evidence_order_numbers(exit_=exit_))
    return Prefill(
        lines=lines, initial={"logistics_lines": "\n".join(line_text(line) for line in lines)}
    )


def postmortem_queue() -> QuerySet[PostMortem]:
    """Admin: post-mortems under review, oldest filing first."""
    return PostMortem.objects.filter(status=PostMortemStatus.SUBMITTED).order_by(
        "submitted_at", "pk"
    )
