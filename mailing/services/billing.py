"""Billing (SPEC M-9): a monthly statement per shop, charged to the shop balance ledger.

Billable messages are those marked billable when they left (the 24-hour dedupe:
``dispatch._SENT_SQL``) and not hard-bounced since, and those given up after their last soft
failure (soft bounces are billed, by the same 24-hour rule); the first 5,000 of each calendar
month (natural days in the platform zone, counted from the enabling date) are free, the rest
cost ``MAILING_PRICE_MICROS`` each, the total rounded up to the minor unit once per statement.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from django.db import transaction
from django.db.models import Q

from core import clock, fx
from core.errors import DomainError
from core.money import Money, exponent
from shops.models import Shop

from .. import rules
from ..models import BounceKind, Message, Statement
from . import dispatch

log = logging.getLogger(__name__)


def month_range(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return clock.day_start(first), clock.day_start(following)


def billable_q(start: datetime, end: datetime | None = None) -> Q:
    """SPEC M-9's billable messages of ``[start, end)``: those sent then and marked billable
    (the 24-hour rule), less hard bounces; and soft bounces — messages given up after their
    last soft (4xx) answer, never sent — in the month they were given up (``bounced_at``)."""
    sent = Q(billable=True, sent_at__gte=start) & ~Q(bounce=BounceKind.HARD)
    given_up = Q(billable=True, sent_at__isnull=True, bounce=BounceKind.SOFT, bounced_at__gte=start)
    if end is not None:
        sent &= Q(sent_at__lt=end)
        given_up &= Q(bounced_at__lt=end)
    return sent | given_up


def billable_count(*, shop: Shop, month: date) -> int:
    start, end = month_range(month)
    enabled = dispatch.account_enabled_at(shop)
    if enabled is not None:
        start = max(start, enabled)
    return Message.objects.filter(billable_q(start, end), shop=shop).count()


def _amount(*, charged: int, currency: str, month: date) -> tuple[int, str]:
    """What ``charged`` messages cost in the shop's ``currency`` (minor units) and, when that
    cannot be known, why. A price in another currency is converted at the rate of the month's
    last natural day (SPEC §0's dated table), rounded up once per statement like the price
    itself; no rate → 0 and the reason, and the daily job tries again."""
    price_currency = rules.price_currency()
    if charged <= 0:
        return 0, ""
    if price_currency == currency:
        return rules.charge_minor(count=charged, exponent=exponent(currency)), ""
    last_day = (month.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    try:
        factor = fx.rate(price_currency, currency, on=last_day)
    except fx.FxRateMissing as exc:
        return 0, (
            f"The message price is in {price_currency}; the shop's balance is in {currency} "
            f"and no exchange rate applies: {exc.message}"
        )[:300]
    micros = Decimal(charged * rules.price_micros())
    minor = (micros.scaleb(-6) * factor).scaleb(exponent(currency))
    return int(minor.to_integral_value(rounding=ROUND_CEILING)), ""


def statement_close(*, shop: Shop, month: date) -> Statement:
    """Write (once) and charge the month's statement. Idempotent: the balance debit has the
    statement's key; a debit the balance cannot cover is recorded on the statement and tried
    again by the next run."""
    month = month.replace(day=1)
    billable = billable_count(shop=shop, month=month)
    charged = rules.charged_messages(billable=billable)
    amount, error = _amount(charged=charged, currency=shop.currency, month=month)
    with transaction.atomic():
        statement, _created = Statement.objects.select_for_update().get_or_create(
            shop=shop,
            month=month,
            defaults={
                "billable": billable,
                "free": billable - charged,
                "charged": charged,
                "amount_minor": amount,
                "currency": shop.currency,
                "error": error,
            },
        )
        statement.changed = _created  # type: ignore[attr-defined]
        if (
            not _created
            and statement.balance_entry_id is None
            and statement.amount_minor == 0
            and statement.charged > 0
            and amount > 0
        ):
            # Written while no exchange rate applied: priced now that one does.
            Statement.objects.filter(pk=statement.pk).update(amount_minor=amount, error="")
            statement.amount_minor, statement.error = amount, ""
            statement.changed = True  # type: ignore[attr-defined]
        if statement.balance_entry_id is not None or statement.amount_minor == 0:
            return statement
        from shops.notices import Reason
        from shops.services import balance_debit

        try:
            entry = balance_debit(
                shop=shop,
                amount=Money(statement.amount_minor, statement.currency),
                reason=Reason(
                    "mailing.statement",
                    {"month": f"{month:%Y-%m}", "messages": statement.charged},
                ),
                idempotency_key=f"mailing:statement:{shop.pk}:{month:%Y-%m}",
            )
        except DomainError as exc:
            Statement.objects.filter(pk=statement.pk).update(error=exc.message[:300])
            statement.error = exc.message[:300]
            log.warning("mailing statement %s not charged: %s", statement.pk, exc.message)
            return statement
        Statement.objects.filter(pk=statement.pk).update(balance_entry=entry, error="")
        statement.balance_entry, statement.error = entry, ""
        statement.changed = True  # type: ignore[attr-defined]
    return statement


def statements_close(*, now: datetime | None = None) -> int:
    """The daily job: last month's statement for every shop that sent in it (and a retry of any
    statement still waiting for its charge). Returns the statements written or charged."""
    now = now or clock.now()
    this_month = clock.natural_day(now).replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    start, end = month_range(last_month)
    shop_ids = set(
        Message.objects.filter(
            Q(sent_at__gte=start, sent_at__lt=end)
            | Q(billable=True, sent_at__isnull=True, bounced_at__gte=start, bounced_at__lt=end)
        )
        .values_list("shop_id", flat=True)
        .distinct()
    )
    # Waiting for the balance, or for an exchange rate (charged messages priced at 0).
    pending = Statement.objects.filter(balance_entry__isnull=True).filter(
        Q(amount_minor__gt=0) | Q(charged__gt=0)
    )
    retry = set(pending.values_list("shop_id", "month"))
    done = 0
    for shop in Shop.objects.filter(pk__in=shop_ids | {s for s, _m in retry}).order_by("pk"):
        months = {last_month} if shop.pk in shop_ids else set()
        months |= {m for s, m in retry if s == shop.pk}
        for month in sorted(months):
            if statement_close(shop=shop, month=month).changed:  # type: ignore[attr-defined]
                done += 1
    return done
