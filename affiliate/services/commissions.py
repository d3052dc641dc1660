"""Attribution (SPEC A-5) and the commission lifecycle (A-6), money by A-7/A-8 (``rules``).

States: ``locked`` (an attributed order with a payment method chosen — at creation, else at
payment; rates fixed) → ``pre_issued`` (the order is paid; a frequent job, latency recorded) →
``settled`` (completed and past the return window: the shop balance is debited, the promoter
credited) → ``paid_out``. ``void``: cancelled before settlement. ``reversed``: refunded in full
(a partial refund reverses its share and keeps the state). ``on_hold``: a dispute is open;
closing it returns to the state it interrupted.
A commission locked late (a postback, or a click flushed from the buffer, after the order's
events were handled) starts from the order as it is: completed → its return window runs from the
completion; disputed → on hold; cancelled → void; paid and refunded as usual.

Reversals are computed from the order's *cumulative* refunded amount, so a refund handled twice,
a refund before pre-issue, or a partial refund then a full one all end at the same numbers, and
never above the commission. After settlement a reversal gives the shop its share back and claws
it back from the promoter, whose balance may go negative once paid out.

Lock order (DESIGN §3): the commission row, then the shop balance (``shops.services``), then the
promoter balance.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core import clock
from core.errors import DomainError
from core.money import Money
from orders.models import Order, OrderStatus
from shops.models import NotificationKind
from shops.notices import Reason
from shops.services import InsufficientBalance, balance_credit, balance_debit, notify

from .. import fraud, rules
from ..models import (
    Click,
    Commission,
    CommissionRate,
    CommissionStatus,
    Link,
    Postback,
    Programme,
    Promoter,
    PromoterBalance,
    PromoterEntry,
    PromoterStatus,
    RateScope,
)
from . import settlement

log = logging.getLogger(__name__)

S = CommissionStatus
_OPEN = {S.LOCKED, S.PRE_ISSUED, S.ON_HOLD}
DISPUTE = fraud.DISPUTE  # the hold reason of an open dispute


class UnknownOrder(DomainError):
    """The postback names an order we have not received yet: retry later."""

    code = "unknown_order"
    http_status = 409


# --- attribution (A-5) -------------------------------------------------------------------------


def _candidate_click_ids(order: Order) -> set[str]:
    ids = set(Postback.objects.filter(order=order).values_list("click_id", flat=True))
    if order.affiliate_click_id:
        ids.add(order.affiliate_click_id)
    return ids


def winning_click(order: Order) -> Click | None:
    """SPEC A-5: of the clicks named by the order (cookie) and its postbacks, the last valid one
    within the window: recorded, on this shop's link, on an active PID at the time, and placed
    within the attribution window after it."""
    ids = _candidate_click_ids(order)
    if not ids:
        return None
    window = rules.attribution_window()
    valid = [
        c
        for c in Click.objects.filter(click_id__in=ids).select_related("link", "pid__promoter")
        if c.earns
        and c.link.shop_id == order.shop_id
        and c.pid.promoter.status == PromoterStatus.APPROVED
        and rules.within_window(clicked_at=c.clicked_at, placed_at=order.placed_at, window=window)
    ]
    return max(valid, key=lambda c: (c.clicked_at, c.pk), default=None)


def _rates(order: Order) -> list[list[int]]:
    """[product id, line total, rate bp] per line: product rate, else category, else shop."""
    rates = {
        (r.scope, r.category, r.product_id): r.rate_bp
        for r in CommissionRate.objects.filter(shop_id=order.shop_id)
    }
    shop_rate = rates.get((RateScope.SHOP, "", None), 0)
    lines = []
    for line in order.lines.select_related("sku__product").order_by("pk"):
        product = line.sku.product
        rate = rates.get(
            (RateScope.PRODUCT, "", product.pk),
            rates.get((RateScope.CATEGORY, product.category, None), shop_rate),
        )
        lines.append([product.pk, line.total_minor, rate])
    return lines


def _expected_paid(order: Order) -> int:
    if order.paid_at is not None:
        return order.amount_paid_minor
    return order.payable_before_coins.amount - order.coin_deduction_minor


def _compute(commission: Commission, order: Order, promoter: Promoter) -> None:
    """Base and amount from our order, never a postback (A-7, A-8, A-2 minimum)."""
    paid = _expected_paid(order)
    programme = Programme.objects.filter(shop_id=order.shop_id).first()
    minimum = programme.min_order_minor if programme else 0
    commission.base_minor = rules.commission_base_minor(
        paid_minor=paid,
        platform_subsidy_minor=order.platform_subsidy_minor,
        cashback_red_packet_minor=order.cashback_red_packet_minor,
        shipping_fee_minor=order.shipping_fee_minor,
        logistics_service=order.logistics_service,
        platform_fee_bp=rules.platform_fee_bp(),
    )
    commission.below_minimum = not rules.meets_minimum(order_minor=paid, min_order_minor=minimum)
    commission.amount_minor = (
        0
        if commission.below_minimum
        else rules.commission_minor(
            base_minor=commission.base_minor,
            lines=[(t, r) for _, t, r in commission.lines],
            cent_minimum=promoter.cent_minimum,
            floor_minor=rules.rounding_floor_minor(
                order.currency, on=clock.natural_day(order.placed_at)
            ),
        )
    )
    commission.reversed_minor = min(commission.reversed_minor, commission.amount_minor)


def payment_method_known(order: Order) -> bool:
    """SPEC A-6: a commission locks once the buyer has chosen a payment method — on the order
    as created, else known at the latest when the order is paid (payment sets it)."""
    return bool(order.payment_method) or order.paid_at is not None


@transaction.atomic
def order_attribute(*, order_id: int) -> Commission | None:
    """Lock a commission for the order (A-6 "locked": rates fixed now), or move a still-locked
    one to a later valid click a postback brought. Idempotent.

    Called whenever a fact may complete the attribution: the order's creation and payment
    (the consumer), a postback, and a click flushed from the buffer after the order named it
    (``orders_attribute_for_clicks``). A commission is not locked before a payment method is
    chosen (A-6); the click is still the one that wins for the order's placement time (A-5),
    whenever the lock happens."""
    order = Order.objects.select_for_update().get(pk=order_id)
    commission = Commission.objects.select_for_update().filter(order=order).first()
    if commission is None and not payment_method_known(order):
        return None  # no payment method yet; its payment (or a later call) locks it
    click = winning_click(order)
    if click is None:
        return commission
    if commission is not None:
        if commission.status == S.LOCKED and commission.click_id != click.pk:
            commission.click, commission.pid = click, click.pid
            commission.promoter = click.pid.promoter
            _compute(commission, order, commission.promoter)
            commission.save()
            fraud.check_new(commission, order, click)
        return commission
    programme = Programme.objects.filter(shop_id=order.shop_id, enabled=True).first()
    if programme is None:
        return None
    commission = Commission(
        order=order,
        shop_id=order.shop_id,
        promoter=click.pid.promoter,
        pid=click.pid,
        click=click,
        status=S.LOCKED,
        currency=order.currency,
        lines=_rates(order),
        locked_at=clock.now(),
    )
    _compute(commission, order, commission.promoter)
    if order.status == OrderStatus.CANCELLED:  # the cancel came before we handled the order
        commission.status = S.VOID
        commission.voided_at = order.cancelled_at
    if order.completed_at is not None:
        # Locked late (a postback or a click flushed after the order.completed event was
        # handled): the return window runs from the completion, as that event would have set.
        _completed(commission, order.completed_at)
    commission.save()
    if commission.status == S.VOID:
        return commission
    fraud.check_new(commission, order, click)
    if order.paid_at is not None:
        _paid(commission, order, order.paid_at)
    if order.disputed:
        _dispute_hold(commission)  # a dispute already open holds it, as dispute.opened does
    if order.refunded_minor:
        _reverse(commission, order)
    return commission


def orders_attribute_for_clicks(*, clicks: list[Click]) -> int:
    """SPEC A-5 after a flush of the click buffer: orders that named one of these clicks (by
    cookie or postback) while it was still in the buffer — their ``order.created`` found no
    click row — and have no commission yet are attributed now. Idempotent (``order_attribute``
    under the order's row lock); each order in its own transaction. Returns how many orders
    were looked at.

    Only orders placed at or after the earliest click can be attributed to one (A-5), and only
    in the clicks' shops: the lookup reads index ``order_shop_placed`` over a few seconds of
    those shops' orders, and ``postback_click`` for the postbacks."""
    if not clicks:
        return 0
    ids = {c.click_id for c in clicks}
    since = min(c.clicked_at for c in clicks)
    links = Link.objects.filter(pk__in={c.link_id for c in clicks})
    shop_ids = sorted(set(links.values_list("shop_id", flat=True)))
    unattributed = ~Exists(Commission.objects.filter(order_id=OuterRef("pk")))
    by_cookie = Order.objects.filter(
        shop_id__in=shop_ids, placed_at__gte=since, affiliate_click_id__in=ids
    ).filter(unattributed)
    by_postback = Order.objects.filter(
        pk__in=Postback.objects.filter(click_id__in=ids).values("order_id")
    ).filter(unattributed)
    order_ids = sorted(
        set(by_cookie.values_list("pk", flat=True)) | set(by_postback.values_list("pk", flat=True))
    )
    for order_id in order_ids:
        try:
            order_attribute(order_id=order_id)
        except Exception:
            # One order must not hold back the buffer; its payment attributes it again.
            log.exception("attributing order %s after a click flush failed", order_id)
    return len(order_ids)


# --- the lifecycle (A-6) -----------------------------------------------------------------------


def _completed(commission: Commission, at: datetime) -> None:
    """A-6: the order is completed; the commission settles once the return window has passed."""
    commission.completed_at = at
    commission.settle_due_at = at + rules.return_window()


def _dispute_hold(commission: Commission) -> None:
    """A-6 "dispute → on hold" of a commission before any money moved; its close returns it
    to the state it interrupted. One held for fraud stays so: its release keeps it held for
    the dispute while the order's dispute is open (``fraud.hold_release``)."""
    if commission.status in (S.LOCKED, S.PRE_ISSUED):
        commission.held_from = commission.status
        commission.status = S.ON_HOLD
        commission.hold_reason = DISPUTE
        commission.save()


def _paid(commission: Commission, order: Order, at: datetime) -> None:
    if commission.paid_at is None:
        commission.paid_at = at
    _compute(commission, order, commission.promoter)
    commission.save()
    # SPEC A-1: the first attributed paid order ends the promoter's trial (not while the
    # commission is held for fraud review: its release does it).
    if fraud.may_end_trial(commission):
        Promoter.objects.filter(pk=commission.promoter_id, trial=True).update(
            trial=False, trial_ended_at=at
        )


def _promoter_post(
    *, commission: Commission, amount_minor: int, kind: str, key: str
) -> PromoterEntry | None:
    return promoter_ledger_post(
        promoter_id=commission.promoter_id,
        currency=commission.currency,
        amount_minor=amount_minor,
        kind=kind,
        key=key,
        commission=commission,
    )


def promoter_ledger_post(
    *,
    promoter_id: int,
    currency: str,
    amount_minor: int,
    kind: str,
    key: str,
    commission: Commission | None = None,
) -> PromoterEntry | None:
    """One movement of a promoter's money, once per ``key`` (a replay returns the first entry);
    the cached balance moves in the same transaction, under its row lock."""
    if amount_minor == 0:
        return None
    existing = PromoterEntry.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    balance, _ = PromoterBalance.objects.get_or_create(promoter_id=promoter_id, currency=currency)
    balance = PromoterBalance.objects.select_for_update().get(pk=balance.pk)
    balance.balance_minor += amount_minor
    balance.save(update_fields=["balance_minor"])
    return PromoterEntry.objects.create(
        balance=balance,
        kind=kind,
        amount_minor=amount_minor,
        balance_after_minor=balance.balance_minor,
        commission=commission,
        idempotency_key=key,
        created_at=clock.now(),
    )


def _reverse(commission: Commission, order: Order) -> None:
    """Take back the refunded share (cumulative; never more than issued)."""
    target = rules.reversal_target_minor(
        amount_minor=commission.amount_minor,
        refunded_minor=order.refunded_minor,
        paid_minor=order.amount_paid_minor,
    )
    delta = target - commission.reversed_minor
    if delta > 0:
        moved_money = commission.status in (S.SETTLED, S.PAID_OUT) or (
            commission.status == S.ON_HOLD and commission.held_from in (S.SETTLED, S.PAID_OUT)
        )
        commission.reversed_minor = target
        if moved_money:
            # The shop gets back its share of the settled commission; the promoter gives it
            # back (a negative balance after payout is the clawback).
            give_back = min(delta, commission.settled_minor)
            if give_back > 0:
                balance_credit(
                    shop=commission.shop,
                    amount=Money(give_back, commission.currency),
                    reason=Reason("affiliate.commission_reversed", {"order": order.number}),
                    idempotency_key=f"affiliate:reverse:{commission.pk}:{target}",
                )
                commission.settled_minor -= give_back
                _promoter_post(
                    commission=commission,
                    amount_minor=-give_back,
                    kind=PromoterEntry.Kind.CLAWBACK,
                    key=f"affiliate:clawback:{commission.pk}:{target}",
                )
    full = commission.amount_minor > 0 and commission.reversed_minor >= commission.amount_minor
    if (full or order.refunded_minor >= order.amount_paid_minor > 0) and commission.status in (
        S.LOCKED,
        S.PRE_ISSUED,
        S.SETTLED,
        S.PAID_OUT,
    ):
        commission.status = S.REVERSED
    commission.save()


def _shipped(commission: Commission, order: Order) -> None:
    """SPEC A-7 at shipping: the logistics line is known now. The official standard line keeps
    the full base; any other line deducts the actual freight, so the base (and the amount, at
    the rates fixed at lock) is computed again from the order. Only while no money has moved
    (locked, pre-issued, or on hold from those); a refund already taken keeps its share."""
    held_open = commission.status == S.ON_HOLD and commission.held_from in (
        "",
        S.LOCKED,
        S.PRE_ISSUED,
    )
    if commission.status not in (S.LOCKED, S.PRE_ISSUED) and not held_open:
        return
    before = (commission.base_minor, commission.amount_minor)
    _compute(commission, order, commission.promoter)
    if (commission.base_minor, commission.amount_minor) == before:
        return
    if order.refunded_minor:
        commission.reversed_minor = 0
        _reverse(commission, order)  # saves
    else:
        commission.save()


@transaction.atomic
def order_event_apply(
    *, event_type: str, order_id: int, payload: dict[str, Any], occurred_at: datetime
) -> Commission | None:
    """One order event's effect on the order's commission (the consumer's handler)."""
    if event_type == "order.created":
        return order_attribute(order_id=order_id)
    commission = Commission.objects.select_for_update().filter(order_id=order_id).first()
    if commission is None:
        if event_type == "order.paid":
            # an order created without a payment method locks now (the payment sets it);
            # also the second chance of a click that was still buffered at order.created.
            return order_attribute(order_id=order_id)
        return None
    order = Order.objects.get(pk=order_id)
    if event_type == "order.paid":
        if commission.status in (S.LOCKED, S.ON_HOLD):
            _paid(commission, order, occurred_at)
    elif event_type == "order.cancelled":
        if commission.status in _OPEN:
            commission.status = S.VOID
            commission.held_from = ""
            commission.voided_at = occurred_at
            commission.save()
    elif event_type == "order.refunded":
        if commission.status not in (S.VOID, S.REVERSED):
            _reverse(commission, order)
        fraud.check_pid(commission, order)  # a refund-rate spike holds the PID's open ones
    elif event_type == "order.shipped":
        _shipped(commission, order)
    elif event_type == "order.completed":
        _completed(commission, occurred_at)
        commission.save()
    elif event_type == "dispute.opened":
        _dispute_hold(commission)
    elif (
        event_type == "dispute.closed"
        and commission.status == S.ON_HOLD
        and commission.hold_reason != fraud.REASON  # a fraud hold waits for the admin
    ):
        if fraud.has_open_hold(commission):  # raised during the dispute: now held for it
            commission.hold_reason = fraud.REASON
        else:
            commission.status = commission.held_from or S.LOCKED
            commission.held_from = ""
            commission.hold_reason = ""
        commission.save()
        _reverse(commission, order)  # a refund during the dispute decides the outcome
    return commission


def commissions_pre_issue(*, now: datetime | None = None, limit: int = 1000) -> int:
    """SPEC A-6, every few minutes: paid, locked commissions become pre-issued; the latency
    from payment is recorded (target p99 < 1 h). Claims rows with SKIP LOCKED."""
    now = now or clock.now()
    with transaction.atomic():
        rows = list(
            Commission.objects.select_for_update(skip_locked=True)
            .filter(status=S.LOCKED, paid_at__isnull=False)
            .order_by("paid_at")[:limit]
        )
        for c in rows:
            c.status = S.PRE_ISSUED
            c.pre_issued_at = now
            paid_at = c.paid_at or now
            c.pre_issue_latency_ms = max(0, int((now - paid_at).total_seconds() * 1000))
        Commission.objects.bulk_update(
            rows, ["status", "pre_issued_at", "pre_issue_latency_ms", "updated_at"]
        )
    return len(rows)


def commissions_settle(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """SPEC A-6/A-7, hourly: pre-issued commissions of completed orders past the return window
    settle — the shop balance pays the commission (idempotent debit), the promoter is credited.
    A balance that cannot cover it leaves the commission pre-issued and tells the shop once."""
    now = now or clock.now()
    settled = blocked = 0
    newly_blocked: dict[int, list[Commission]] = {}
    if connection.vendor == "postgresql":
        # Set-based batches (services/settlement.py): the same outcome, a few statements a batch.
        settled, blocked, new_ids = settlement.settle_pg(now=now, batch=max(limit, 5000))
        newly_blocked = settlement.waiting_by_shop(new_ids)
        _notify_waiting(newly_blocked)
        return {"settled": settled, "blocked": blocked}
    ids = list(
        Commission.objects.filter(status=S.PRE_ISSUED, settle_due_at__lte=now)
        .order_by("settle_due_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        with transaction.atomic():
            c = (
                Commission.objects.select_for_update(skip_locked=True)
                .select_related("shop", "order")
                .filter(pk=pk, status=S.PRE_ISSUED)
                .first()
            )
            if c is None:
                continue
            net = c.net_minor
            if net > 0:
                try:
                    with transaction.atomic():
                        balance_debit(
                            shop=c.shop,
                            amount=Money(net, c.currency),
                            reason=Reason("affiliate.commission", {"order": c.order.number}),
                            idempotency_key=f"affiliate:settle:{c.pk}",
                        )
                except InsufficientBalance:
                    if c.settle_blocked_at is None:
                        c.settle_blocked_at = now
                        c.save(update_fields=["settle_blocked_at", "updated_at"])
                        newly_blocked.setdefault(c.shop_id, []).append(c)
                    blocked += 1
                    continue
                _promoter_post(
                    commission=c,
                    amount_minor=net,
                    kind=PromoterEntry.Kind.COMMISSION,
                    key=f"affiliate:commission:{c.pk}",
                )
            c.status = S.SETTLED
            c.settled_at = now
            c.settled_minor = net
            c.settle_blocked_at = None
            c.save()
            settled += 1
    _notify_waiting(newly_blocked)
    return {"settled": settled, "blocked": blocked}


def _notify_waiting(newly_blocked: dict[int, list[Commission]]) -> None:
    # One message per shop and run, about the commissions that newly wait (never one a run).
    for shop_commissions in newly_blocked.values():
        first = shop_commissions[0]
        total = Money(sum(c.net_minor for c in shop_commissions), first.currency)
        notify(
            shop=first.shop,
            kind=NotificationKind.BALANCE,
            message="affiliate.commissions_blocked",
            params={
                "count": len(shop_commissions),
                "amount_minor": total.amount,
                "currency": total.currency,
            },
            link="/shops/balance/",
        )


# --- postback (A-5) ----------------------------------------------------------------------------


def postback_receive(
    *,
    integration,
    postback_id: str,
    shop_external_id: str,
    order_number: str,
    click_id: str,
) -> tuple[bool, Commission | None]:
    """Record a postback once per (integration, postback id) and attribute its order.
    Returns (duplicate, commission). Unknown order → ``UnknownOrder`` (retryable)."""
    order = (
        Order.objects.filter(shop__external_id=shop_external_id, number=order_number)
        .only("pk")
        .first()
    )
    if order is None:
        raise UnknownOrder(
            f"Order {order_number} of shop {shop_external_id} has not been received yet; "
            "send the postback again later."
        )
    with transaction.atomic():
        _, created = Postback.objects.get_or_create(
            integration=integration,
            postback_id=postback_id,
            defaults={"order": order, "click_id": click_id, "received_at": timezone.now()},
        )
        commission = order_attribute(order_id=order.pk)
    return (not created), commission
