"""Fraud holds of commissions (Issue 9 item 9; SPEC A-6 "on hold"): checks, the admin's two
decisions, and the reads the admin and the promoter portal show.

Three rules, each a :class:`~affiliate.models.HoldRule` with its numbers in the registry
(``affiliate.rules``):

- **self-referral** — the order's buyer is the promoter's own buyer account (same email), or
  registered on that account's device (read through ``buyers.selectors.same_person``);
- **too fast** — the order was placed less than ``AFFILIATE_FRAUD_MIN_CLICK_SECONDS`` after the
  winning click (``rules.too_fast``);
- **refund spike** — the PID's refunded share of its paid attributed orders of the last
  ``AFFILIATE_FRAUD_REFUND_WINDOW_DAYS`` reaches ``AFFILIATE_FRAUD_REFUND_RATE_BP``, counted from
  ``AFFILIATE_FRAUD_REFUND_MIN_ORDERS`` paid orders (``rules.refund_spike``): every open
  commission of the PID is held.

A held commission is ``on_hold`` with ``hold_reason = "fraud"`` and the state it left in
``held_from``; only commissions before any money moved (locked, pre-issued) are held. It is not
pre-issued, settled or paid out, and a paid order does not end the promoter's trial, until an
admin **releases** it (back to ``held_from``, once no other hold of it is open) or **confirms**
it (void). Refunds still reverse their share meanwhile. One hold per commission and rule: a
released hold is never raised again by the same rule. The promoter gets a notice either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from buyers import selectors as buyers_selectors
from core import clock
from core.errors import InvalidTransition
from orders.models import Order

from . import rules
from .models import (
    Click,
    Commission,
    CommissionHold,
    CommissionStatus,
    HoldDecision,
    HoldRule,
    Promoter,
)
from .notices import notice_send

S = CommissionStatus
REASON = "fraud"
DISPUTE = "dispute"  # the hold reason of an open dispute (SPEC A-6)
_HOLDABLE = (S.LOCKED, S.PRE_ISSUED)


# --- checks (called by the commission lifecycle, inside its transaction) ---------------------


@dataclass(frozen=True)
class RefundStats:
    paid: int
    refunded: int


def pid_refund_stats(*, pid_id: int, now: datetime | None = None) -> RefundStats:
    """The PID's paid attributed orders within the refund window, and how many were refunded
    (in part or in full). One query."""
    now = now or clock.now()
    row = Commission.objects.filter(
        pid_id=pid_id, paid_at__gt=now - rules.fraud_refund_window(), paid_at__lte=now
    ).aggregate(
        paid=Count("pk"),
        refunded=Count("pk", filter=Q(order__refunded_minor__gt=0)),
    )
    return RefundStats(paid=row["paid"] or 0, refunded=row["refunded"] or 0)


def _spike_details(stats: RefundStats, pid_code: str) -> dict | None:
    rate_bp, min_orders = rules.fraud_refund_rate_bp(), rules.fraud_refund_min_orders()
    if not rules.refund_spike(
        paid=stats.paid, refunded=stats.refunded, min_orders=min_orders, rate_bp=rate_bp
    ):
        return None
    return {
        "pid": pid_code,
        "paid": stats.paid,
        "refunded": stats.refunded,
        "rate_bp": rate_bp,
        "min_orders": min_orders,
        "days": rules.fraud_refund_window().days,
    }


def check_new(commission: Commission, order: Order, click: Click) -> list[CommissionHold]:
    """Hold a newly locked (or re-attributed) commission for every rule it breaks."""
    found: list[tuple[str, dict]] = []
    promoter = commission.promoter
    match = buyers_selectors.same_person(buyer_id=order.buyer_id, email=promoter.email)
    if match:
        found.append((HoldRule.SELF_REFERRAL, {"match": match}))
    min_seconds = rules.fraud_min_click_seconds()
    if rules.too_fast(
        clicked_at=click.clicked_at, placed_at=order.placed_at, min_seconds=min_seconds
    ):
        seconds = (order.placed_at - click.clicked_at).total_seconds()
        found.append(
            (HoldRule.TOO_FAST, {"seconds": round(seconds, 1), "min_seconds": min_seconds})
        )
    spike = _spike_details(pid_refund_stats(pid_id=commission.pid_id), commission.pid.code)
    if spike:
        found.append((HoldRule.REFUND_SPIKE, spike))
    return [h for rule, details in found if (h := _hold(commission, rule, details, order))]


def check_pid(commission: Commission, order: Order) -> list[CommissionHold]:
    """After a refund or payment on the PID: on a refund spike, hold this commission and the
    PID's other open ones (those another handler holds locked right now are left to their own
    next event)."""
    spike = _spike_details(pid_refund_stats(pid_id=commission.pid_id), commission.pid.code)
    if not spike:
        return []
    held = []
    if h := _hold(commission, HoldRule.REFUND_SPIKE, spike, order):
        held.append(h)
    others = (
        Commission.objects.select_for_update(skip_locked=True)
        .select_related("promoter", "order")
        .filter(pid_id=commission.pid_id, status__in=_HOLDABLE)
        .exclude(pk=commission.pk)
        .exclude(holds__rule=HoldRule.REFUND_SPIKE)
        .order_by("pk")
    )
    for other in others:
        if h := _hold(other, HoldRule.REFUND_SPIKE, spike, other.order):
            held.append(h)
    return held


def _hold(commission: Commission, rule: str, details: dict, order: Order) -> CommissionHold | None:
    if commission.status not in (*_HOLDABLE, S.ON_HOLD):
        return None
    if CommissionHold.objects.filter(commission=commission, rule=rule).exists():
        return None  # raised once per rule: open, or decided by an admin already
    now = clock.now()
    hold = CommissionHold.objects.create(
        commission=commission, rule=rule, details=details, created_at=now
    )
    if commission.status in _HOLDABLE:
        commission.held_from = commission.status
        commission.status = S.ON_HOLD
        commission.hold_reason = REASON
        commission.save(update_fields=["held_from", "status", "hold_reason", "updated_at"])
    # else: already on hold (a dispute): the dispute's close leaves it held for this review.
    notice_send(
        promoter_id=commission.promoter_id,
        kind="hold",
        params={"order": order.number, "rule": hold.rule, "details": hold.details},
        created_at=now,
    )
    return hold


def has_open_hold(commission: Commission) -> bool:
    return CommissionHold.objects.filter(commission=commission, decision=HoldDecision.OPEN).exists()


def may_end_trial(commission: Commission) -> bool:
    """A fraud-held commission's payment does not end the promoter's trial (SPEC A-1)."""
    return not (commission.status == S.ON_HOLD and commission.hold_reason == REASON)


# --- the admin's decisions -------------------------------------------------------------------


def _decide(*, hold_id: int, user, note: str, decision: str) -> tuple[CommissionHold, Commission]:
    commission_id = CommissionHold.objects.values_list("commission_id", flat=True).get(pk=hold_id)
    # Lock order (DESIGN §3): the commission, then its holds.
    commission = (
        Commission.objects.select_for_update()
        .select_related("order", "promoter")
        .get(pk=commission_id)
    )
    hold = CommissionHold.objects.select_for_update().get(pk=hold_id)
    if hold.decision:
        raise InvalidTransition(
            _("This hold was already decided (%(decision)s).")
            % {"decision": hold.get_decision_display()}
        )
    hold.decision = decision
    hold.decided_at = clock.now()
    hold.decided_by = user if getattr(user, "pk", None) else None
    hold.note = (note or "").strip()[:500]
    hold.save(update_fields=["decision", "decided_at", "decided_by", "note"])
    return hold, commission


@transaction.atomic
def hold_release(*, hold_id: int, user=None, note: str = "") -> CommissionHold:
    """The admin found nothing wrong: the hold is released; once no other hold of the
    commission is open, it goes back to where it was (and a paid order ends the trial) — or,
    while the order's dispute is open, stays on hold for the dispute (SPEC A-6), which its
    close then resolves as for any disputed commission."""
    hold, commission = _decide(
        hold_id=hold_id, user=user, note=note, decision=HoldDecision.RELEASED
    )
    if (
        commission.status == S.ON_HOLD
        and commission.hold_reason == REASON
        and not has_open_hold(commission)
    ):
        # The order as read with the commission's lock: a dispute opened during the review
        # (its dispute.opened found the commission held for fraud and left it) or before the
        # lock. One opened after this read finds the released commission and holds it.
        if commission.order.disputed:
            commission.hold_reason = DISPUTE  # held_from stays: the state the dispute returns to
        else:
            commission.status = commission.held_from or S.LOCKED
            commission.held_from = ""
            commission.hold_reason = ""
        commission.save(update_fields=["status", "held_from", "hold_reason", "updated_at"])
        if commission.paid_at is not None:
            Promoter.objects.filter(pk=commission.promoter_id, trial=True).update(
                trial=False, trial_ended_at=commission.paid_at
            )
    notice_send(
        promoter_id=commission.promoter_id,
        kind="hold_released",
        params={"order": commission.order.number},
        created_at=hold.decided_at,
    )
    return hold


@transaction.atomic
def hold_confirm(*, hold_id: int, user=None, note: str = "") -> CommissionHold:
    """The admin confirmed the fraud: the commission is void (nothing of it is ever paid); its
    other open holds are closed with the same decision."""
    hold, commission = _decide(
        hold_id=hold_id, user=user, note=note, decision=HoldDecision.CONFIRMED
    )
    CommissionHold.objects.filter(commission=commission, decision=HoldDecision.OPEN).update(
        decision=HoldDecision.CONFIRMED, decided_at=hold.decided_at, note=hold.note
    )
    if commission.status in (*_HOLDABLE, S.ON_HOLD):
        commission.status = S.VOID
        commission.held_from = ""
        commission.voided_at = hold.decided_at
        commission.save(
            update_fields=["status", "held_from", "hold_reason", "voided_at", "updated_at"]
        )
    notice_send(
        promoter_id=commission.promoter_id,
        kind="hold_confirmed",
        params={"order": commission.order.number, "rule": hold.rule, "details": hold.details},
        created_at=hold.decided_at,
    )
    return hold


# --- reads: the reason as shown, and the holds of a promoter / waiting for review ------------


def reason_text(hold: CommissionHold, *, language: str | None = None) -> str:
    """The hold's reason in words, from its rule and facts (in the active language, or
    ``language``)."""
    from django.utils import translation

    if language:
        with translation.override(language):
            return reason_text(hold)
    d = hold.details or {}
    if hold.rule == HoldRule.SELF_REFERRAL:
        if d.get("match") == "device":
            return _("The order was placed from the device of the promoter's own buyer account.")
        return _("The order was placed from the promoter's own buyer account.")
    if hold.rule == HoldRule.TOO_FAST:
        return _("Ordered %(seconds)s s after the click (a human takes at least %(min)s s).") % {
            "seconds": d.get("seconds"),
            "min": d.get("min_seconds"),
        }
    if hold.rule == HoldRule.REFUND_SPIKE:
        paid = d.get("paid") or 0
        rate = 100 * (d.get("refunded") or 0) / paid if paid else 0
        return _(
            "PID %(pid)s: %(refunded)s of %(paid)s paid orders refunded in %(days)s days "
            "(%(rate)s%%; the limit is %(limit)s%%)."
        ) % {
            "pid": d.get("pid"),
            "refunded": d.get("refunded"),
            "paid": paid,
            "days": d.get("days"),
            "rate": f"{rate:.0f}",
            "limit": f"{(d.get('rate_bp') or 0) / 100:g}",
        }
    return str(hold.get_rule_display())


def holds_for_promoter(promoter: Promoter, *, open_only: bool = False) -> QuerySet[CommissionHold]:
    """A promoter's commission holds, newest first, with the order number at hand (for the
    promoter portal: show ``reason_text(hold)`` beside each)."""
    qs = (
        CommissionHold.objects.filter(commission__promoter=promoter)
        .select_related("commission__order", "commission__pid")
        .order_by("-created_at", "-pk")
    )
    return qs.filter(decision=HoldDecision.OPEN) if open_only else qs


def holds_open() -> QuerySet[CommissionHold]:
    """Holds waiting for an admin, oldest first."""
    return (
        CommissionHold.objects.filter(decision=HoldDecision.OPEN)
        .select_related("commission__order", "commission__promoter", "commission__shop")
        .order_by("created_at", "pk")
    )
