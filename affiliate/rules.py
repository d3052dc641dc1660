"""SPEC numbers of the affiliate module (A-2, A-3, A-5 … A-8), admin-changeable: the registry is
``settings.CONSTANCE_CONFIG`` (django-constance, database backend; Django admin → Rule numbers),
and the pure guards and arithmetic of the module.

The commission arithmetic (A-7 base, A-8 rounding) lives here and only here:
``commission_base_minor`` and ``commission_minor``, in integer minor units and basis points.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_DOWN, Decimal
from urllib.parse import unquote, urlsplit, urlunsplit

from constance import config
from django.conf import settings

from core import clock, fx
from core.errors import DomainError
from core.money import Money

log = logging.getLogger(__name__)

BP = 10_000  # basis points in 100%

# The logistics line that keeps the full base (SPEC A-7: "only the official standard line").
STANDARD_LINE = "aliexpress_standard"


def min_store_level() -> int:
    """SPEC A-2: the store level a shop needs to enable its affiliate programme."""
    return int(config.AFFILIATE_MIN_STORE_LEVEL)


def rate_min_bp() -> int:
    """SPEC A-2: the lowest commission rate, basis points (0.5%)."""
    return int(config.AFFILIATE_RATE_MIN_BP)


def rate_max_bp() -> int:
    """SPEC A-2: the highest commission rate, basis points (20%)."""
    return int(config.AFFILIATE_RATE_MAX_BP)


def pid_freeze_after() -> timedelta:
    """SPEC A-3: a PID with no valid click for this long is frozen."""
    return timedelta(days=int(config.AFFILIATE_PID_FREEZE_DAYS))


def pid_warn_after() -> timedelta:
    """SPEC A-3 Decision: the promoter is warned this long after the last valid click."""
    return timedelta(days=int(config.AFFILIATE_PID_WARN_DAYS))


def attribution_window() -> timedelta:
    """SPEC A-5: how long a click attributes orders (7 days)."""
    return timedelta(days=int(config.AFFILIATE_ATTRIBUTION_WINDOW_DAYS))


def return_window() -> timedelta:
    """SPEC A-6: a completed order's commission settles after the return window."""
    return timedelta(days=int(config.AFFILIATE_RETURN_WINDOW_DAYS))


def platform_fee_bp() -> int:
    """SPEC A-7 Decision: the platform commission fee, basis points of the amount paid."""
    return int(config.AFFILIATE_PLATFORM_FEE_BP)


def rounding_floor_minor(currency: str = "USD", *, on: date | None = None) -> int:
    """SPEC A-8: commissions under this round to zero by default. The registry holds it in US
    cents ($0.10 = 10); an order in another currency gets it converted at the rate of ``on``
    (SPEC §0's dated table), rounded half up. Where no rate applies, the same number of the
    currency's own minor units is used (as before the table existed) and a warning is logged."""
    cents = int(config.AFFILIATE_ROUNDING_FLOOR_MINOR)
    if currency == "USD":
        return cents
    try:
        return fx.convert(Money(cents, "USD"), currency, on=on or clock.natural_day()).amount
    except fx.FxRateMissing as exc:
        log.warning("A-8 floor in %s not converted: %s", currency, exc.message)
        return cents


def fraud_min_click_seconds() -> int:
    """Fraud hold: an order placed sooner than this after its click is too fast to be human."""
    return int(config.AFFILIATE_FRAUD_MIN_CLICK_SECONDS)


def fraud_refund_rate_bp() -> int:
    """Fraud hold: a PID whose refunded share of paid attributed orders reaches this (basis
    points) holds its open commissions."""
    return int(config.AFFILIATE_FRAUD_REFUND_RATE_BP)


def fraud_refund_min_orders() -> int:
    """Fraud hold: the refund rate counts from this many paid attributed orders of the PID."""
    return int(config.AFFILIATE_FRAUD_REFUND_MIN_ORDERS)


def fraud_refund_window() -> timedelta:
    """Fraud hold: the paid orders of the refund rate are those paid within this window."""
    return timedelta(days=int(config.AFFILIATE_FRAUD_REFUND_WINDOW_DAYS))


def redirect_hosts() -> frozenset[str]:
    """SPEC A-4: the marketplace hosts a tracking link may lead to (a setting: security
    configuration, not a business number)."""
    return frozenset(h.strip().lower() for h in settings.SC_AFFILIATE_REDIRECT_HOSTS if h.strip())


# --- pure guards (no query; the numbers are arguments so tests pin each boundary) ------------


def check_store_level(*, level: int, min_level: int) -> None:
    """SPEC A-2: the programme opens from store level ``min_level``; the refusal names it."""
    if level < min_level:
        raise DomainError(
            f"Your shop is at store level L{level}; the affiliate programme needs store level "
            f"L{min_level} or higher.",
            code="affiliate_store_level",
        )


def check_rate_bp(rate_bp: object, *, min_bp: int, max_bp: int) -> int:
    """SPEC A-2: a commission rate in basis points, from ``min_bp`` to ``max_bp`` inclusive."""
    if isinstance(rate_bp, bool) or not isinstance(rate_bp, int):
        raise DomainError(
            "The commission rate must be a whole number of basis points.",
            code="affiliate_invalid_rate",
        )
    if not min_bp <= rate_bp <= max_bp:
        raise DomainError(
            f"The commission rate must be between {min_bp / 100:g}% and {max_bp / 100:g}%.",
            code="affiliate_invalid_rate",
        )
    return rate_bp


def check_min_order_minor(amount: object) -> int:
    """SPEC A-2: the optional minimum order amount (0 = none), minor units."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise DomainError(
            "The minimum order amount must be zero or a positive amount.",
            code="affiliate_invalid_minimum",
        )
    return amount


def check_pid_count(*, trial: bool, existing: int) -> None:
    """SPEC A-1: a promoter in trial holds one PID only."""
    if trial and existing >= 1:
        raise DomainError(
            "A promoter in trial has one PID; more open after the first attributed paid order.",
            code="affiliate_trial_one_pid",
        )


# Anything a browser might read as a separator, an escape or a different host.
_FORBIDDEN = re.compile(r"[\\\s\x00-\x1f\x7f@]")


def check_destination(url: object, *, hosts: Iterable[str]) -> str:
    """SPEC A-4: a tracking link's destination is an ``https`` URL on one of ``hosts``.

    Refuses every open-redirect shape: scheme-relative ``//evil``, userinfo ``@evil``,
    ``javascript:``/``data:``, backslashes (browsers read ``\\`` as ``/``), whitespace and
    control characters, ports, and percent-encoded forms of any of those (checked again
    after decoding, twice, so ``%252F`` is no way around it). Returns the normalised URL.
    """
    allowed = {h.lower() for h in hosts}
    bad = DomainError(
        "The destination must be an https address on the marketplace "
        f"({', '.join(sorted(allowed)) or 'no host allowed'}).",
        code="affiliate_bad_destination",
    )
    if not isinstance(url, str) or not url or len(url) > 1000:
        raise bad
    decoded = url
    for _ in range(3):
        if _FORBIDDEN.search(decoded):
            raise bad
        decoded = unquote(decoded)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise bad from None
    host = parts.hostname or ""
    if (
        parts.scheme != "https"
        or not url.startswith("https://")
        or port is not None
        or parts.username is not None
        or "%" in parts.netloc
        or parts.netloc.lower() != host
        or host not in allowed
    ):
        raise bad
    return urlunsplit(("https", host, parts.path or "/", parts.query, ""))


# --- the commission (SPEC A-7 base, A-8 rounding): the one place it is computed --------------


def commission_base_minor(
    *,
    paid_minor: int,
    platform_subsidy_minor: int,
    cashback_red_packet_minor: int,
    shipping_fee_minor: int,
    logistics_service: str,
    platform_fee_bp: int,
) -> int:
    """SPEC A-7: (paid − platform commission fee − freight) with the exclusions, never below 0.

    Decisions: ``paid`` is what the buyer paid, which already leaves out the coin deduction
    (C-9); the platform promotion subsidy and the buyer's cashback red packet are taken out
    (platform money, not the shop's sale); the platform commission fee is ``platform_fee_bp``
    of ``paid`` (rounded down); the official standard line keeps the full base, every other
    line (and a line not known yet counts as standard until shipping says otherwise) deducts
    the actual freight, the order's shipping fee.
    """
    fee = paid_minor * platform_fee_bp // BP
    freight = 0
    if logistics_service and logistics_service != STANDARD_LINE:
        freight = shipping_fee_minor
    base = paid_minor - fee - platform_subsidy_minor - cashback_red_packet_minor - freight
    return max(0, base)


def commission_minor(
    *,
    base_minor: int,
    lines: Sequence[tuple[int, int]],
    cent_minimum: bool,
    floor_minor: int,
) -> int:
    """SPEC A-7 × rate, A-8 rounding: ``base_minor`` shared over ``lines`` (line total, the rate
    in basis points fixed at lock) in proportion to each line's total, times its rate, summed
    exactly and rounded once, half up, to the minor unit.

    A-8: a result under ``floor_minor`` ($0.10) is 0 unless ``cent_minimum`` (the promoter's
    "$0.01 minimum" switch), which keeps every amount from one minor unit. The switch changes
    no rate.
    """
    total = sum(t for t, _ in lines)
    if base_minor <= 0 or total <= 0:
        return 0
    numerator = sum(base_minor * t * r for t, r in lines)
    denominator = total * BP
    amount = (2 * numerator + denominator) // (2 * denominator)
    if amount < 1:
        return 0
    if not cent_minimum and amount < floor_minor:
        return 0
    return amount


def meets_minimum(*, order_minor: int, min_order_minor: int) -> bool:
    """SPEC A-2: "commission from $30": an order of $28.50 earns none; exactly $30 earns."""
    return order_minor >= min_order_minor


def reversal_target_minor(*, amount_minor: int, refunded_minor: int, paid_minor: int) -> int:
    """SPEC A-6: the part of a commission a refund takes back — proportional to the refunded
    share of what was paid (cumulative), rounded up so what stays never exceeds its share;
    never more than the commission itself."""
    if amount_minor <= 0 or refunded_minor <= 0:
        return 0
    if paid_minor <= 0 or refunded_minor >= paid_minor:
        return amount_minor
    return min(amount_minor, -(-amount_minor * refunded_minor // paid_minor))


def within_window(*, clicked_at: datetime, placed_at: datetime, window: timedelta) -> bool:
    """SPEC A-5: a click attributes an order placed after it and within ``window``."""
    return clicked_at <= placed_at <= clicked_at + window


def freeze_state(
    *, last_activity: datetime, now: datetime, warn_after: timedelta, freeze_after: timedelta
) -> str:
    """SPEC A-3: ``"freeze"`` from ``freeze_after`` idle, ``"warn"`` from ``warn_after``,
    otherwise ``"active"``."""
    idle = now - last_activity
    if idle >= freeze_after:
        return "freeze"
    if idle >= warn_after:
        return "warn"
    return "active"


# --- the promoter portal: review SLA and payouts (issue 9 item 6) ----------------------


def review_sla_working_days() -> Decimal:
    """SPEC A-1: the target time for reviewing a promoter's documents (1.8 working days)."""
    return Decimal(str(config.AFFILIATE_REVIEW_SLA_WORKING_DAYS))


def payout_minimum_minor() -> int:
    """A promoter enters a payout batch once its balance reaches this (minor units)."""
    return int(config.AFFILIATE_PAYOUT_MIN_MINOR)


def working_days_between(start: datetime, end: datetime, *, tz: tzinfo) -> Decimal:
    """SPEC A-1 Decision: the time from ``start`` to ``end`` counted in working days — Monday to
    Friday in ``tz`` (the platform time zone), a whole working day = 24 h, weekends not
    counted, no holiday calendar. Exact to the second; two decimals, rounded down."""
    if end <= start:
        return Decimal(0)
    seconds = 0
    cursor = start.astimezone(tz)
    stop = end.astimezone(tz)
    while cursor < stop:
        next_midnight = datetime.combine(cursor.date() + timedelta(days=1), time.min, tzinfo=tz)
        segment_end = min(next_midnight, stop)
        if cursor.weekday() < 5:
            seconds += int((segment_end - cursor).total_seconds())
        cursor = segment_end
    return (Decimal(seconds) / Decimal(86_400)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def review_overdue(*, age_working_days: Decimal, sla_working_days: Decimal) -> bool:
    """SPEC A-1: a review is overdue once its age passes the SLA (exactly at the SLA: not yet)."""
    return age_working_days > sla_working_days


def payout_due(*, balance_minor: int, minimum_minor: int) -> bool:
    """A promoter is paid once its balance reaches the minimum (exactly the minimum: paid);
    never a zero or negative balance, whatever the minimum."""
    return balance_minor > 0 and balance_minor >= minimum_minor


# --- fraud holds (Issue 9 item 9): pure, the numbers are arguments --------------------------


def too_fast(*, clicked_at: datetime, placed_at: datetime, min_seconds: int) -> bool:
    """An order placed less than ``min_seconds`` after its click; exactly ``min_seconds`` is
    human enough."""
    return placed_at - clicked_at < timedelta(seconds=min_seconds)


def refund_spike(*, paid: int, refunded: int, min_orders: int, rate_bp: int) -> bool:
    """A PID's refunded share of its paid attributed orders reaches ``rate_bp``, counted from
    ``min_orders`` paid orders (fewer is no evidence)."""
    if paid < min_orders or paid <= 0:
        return False
    return refunded * BP >= rate_bp * paid
