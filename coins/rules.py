"""SPEC numbers of the coin module (C-1, C-3 … C-8), admin-changeable: the registry is
``settings.CONSTANCE_CONFIG`` (django-constance, database backend; Django admin → Rule numbers).

Every registry value is read through ``_registry``: one database query per read, except inside
a ``registry_scope`` — each HTTP request is one (``apps.py`` opens it on ``request_started``)
— where the first read reads every coin number in one query (the checkout sends it with its
locks, ``scope_statement``) and keeps them until the scope ends. An admin's change therefore
applies from the next request or batch on, and the checkout of a 20-order batch reads the
registry once instead of three times per order (bench ``redemption``)."""

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

from constance import config
from constance import settings as constance_settings
from constance.codecs import loads
from constance.utils import get_values_for_keys
from django.conf import settings
from django.db import connection

from core.errors import DomainError

# The values read in the current scope (None: no scope, every read goes to the registry).
_scope: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "coins_registry_scope", default=None
)


def _registry(key: str) -> Any:
    """The registry value ``key``: live, or once per ``registry_scope`` (the first read in a
    scope reads every coin number, in one query)."""
    values = _scope.get()
    if values is None:
        return getattr(config, key)
    if not values:
        values.update(_read(_keys()))
    return values[key]


def _read(keys: list[str]) -> dict[str, Any]:
    """``keys``' values as ``constance.utils.get_values_for_keys`` gives them (the stored value,
    else the default), read on the database backend as plain (key, value) rows: the ORM's
    compilation and a model instance per number cost more than the rest of the read."""
    statement = _read_statement(keys)
    if statement is None:
        return get_values_for_keys(keys)
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        return _decode(keys, cursor.fetchall())


def _read_statement(keys: list[str]) -> tuple[str, list] | None:
    if settings.CONSTANCE_BACKEND != "constance.backends.database.DatabaseBackend":
        return None
    prefix = constance_settings.DATABASE_PREFIX
    qn = connection.ops.quote_name
    return (
        f"SELECT {qn('key')}, {qn('value')} FROM {qn('constance_constance')} "  # noqa: S608
        f"WHERE {qn('key')} IN ({', '.join(['%s'] * len(keys))})",
        [prefix + key for key in keys],
    )


def _decode(keys: list[str], rows: list[tuple]) -> dict[str, Any]:
    prefix = constance_settings.DATABASE_PREFIX
    values = {key: settings.CONSTANCE_CONFIG[key][0] for key in keys}
    for stored_key, value in rows:
        if value is not None:
            values[stored_key[len(prefix) :]] = loads(value)
    return values


def scope_statement() -> tuple[str, list] | None:
    """The read that fills the current scope, for a caller that sends it with its own
    statements in one round trip (the checkout's locks); ``None`` when there is no scope, it is
    filled already, or the registry is not the database backend. Hand the rows to
    ``scope_fill``."""
    values = _scope.get()
    if values is None or values:
        return None
    return _read_statement(_keys())


def scope_fill(rows: list[tuple]) -> None:
    """Fill the current scope from the rows of ``scope_statement``."""
    values = _scope.get()
    if values is not None and not values:
        values.update(_decode(_keys(), rows))


def _keys() -> list[str]:
    return [key for key in settings.CONSTANCE_CONFIG if key.startswith("COINS_")]


@contextlib.contextmanager
def registry_scope() -> Iterator[None]:
    """Read each registry value at most once inside (a request, a batch); a scope opened
    inside another one shares it."""
    if _scope.get() is not None:
        yield
        return
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def request_started(**kwargs: Any) -> None:
    """``request_started`` receiver: a fresh scope for the request (whatever an earlier
    request in this thread left behind is dropped)."""
    _scope.set({})


def request_finished(**kwargs: Any) -> None:
    """``request_finished`` receiver: the request's scope ends; reads go live again."""
    _scope.set(None)


def opening_region() -> str:
    """SPEC C-1(a): the registration region a shop needs (a ``shops.models.Region`` code)."""
    return str(_registry("COINS_OPENING_REGION"))


def min_positive_rate() -> Decimal:
    """SPEC C-1(b): minimum 90-day positive feedback rate, percent."""
    return Decimal(str(_registry("COINS_MIN_POSITIVE_RATE")))


def positive_rate_met(*, positive: int, total: int, min_percent: Decimal) -> bool:
    """SPEC C-1(b): ``positive`` / ``total`` ≥ ``min_percent`` %, compared exactly — never on a
    rounded rate (189 of 199 is 94.97%: below 95%). No feedback meets no minimum."""
    return total > 0 and Decimal(positive) * 100 >= min_percent * total


def percent_shown(numerator: int, denominator: int) -> Decimal:
    """``numerator`` / ``denominator`` in percent, rounded *down* to 0.1 (integer arithmetic):
    a rate below a minimum of one decimal never shows as reaching it (94.97% → 94.9%)."""
    return Decimal(numerator * 1000 // denominator).scaleb(-1)


def violation_window_days() -> int:
    """SPEC C-1(c): no serious violation in this many days."""
    return int(_registry("COINS_VIOLATION_WINDOW_DAYS"))


# --- SPEC C-3 … C-8 numbers ------------------------------------------------------------------

# The largest coin count one operation may move: far above any real grant, far below BIGINT.
MAX_COINS = 10**12
BP = 10_000  # basis points in 100%


def coin_value_minor() -> int:
    """SPEC C-5: one coin's value in minor units of the shop currency (¥0.01 → 1)."""
    return int(_registry("COINS_COIN_VALUE_MINOR"))


def deduction_cap_bp() -> int:
    """SPEC C-3: deduction ≤ this share (basis points) of the payable amount before coins."""
    return int(_registry("COINS_DEDUCTION_CAP_BP"))


def deduction_cap_minor() -> int:
    """SPEC C-3: deduction ≤ this amount (minor units) per order."""
    return int(_registry("COINS_DEDUCTION_CAP_MINOR"))


def fund_display_min_minor() -> int:
    """SPEC C-4: coins show on products only while the fund holds at least this (minor units)."""
    return int(_registry("COINS_FUND_DISPLAY_MIN_MINOR"))


def lot_lifetime() -> timedelta:
    """SPEC C-6: coins expire this long after grant."""
    return timedelta(days=int(_registry("COINS_LOT_LIFETIME_DAYS")))


def refund_grace() -> timedelta:
    """SPEC C-8: lifetime of a grace lot for refunded coins already past their expiry."""
    return timedelta(days=int(_registry("COINS_REFUND_GRACE_DAYS")))


# --- pure guards (no query; the numbers are arguments so tests pin each boundary) ------------


def check_coins(coins: object, *, what: str = "coin amount") -> int:
    """A coin count moved by an operation: a whole number from 1 to ``MAX_COINS``."""
    if isinstance(coins, bool) or not isinstance(coins, int):
        raise DomainError(
            f"The {what} must be a whole number of coins, not {type(coins).__name__}.",
            code="coins_invalid_amount",
        )
    if coins <= 0:
        raise DomainError(f"The {what} must be more than zero.", code="coins_invalid_amount")
    if coins > MAX_COINS:
        raise DomainError(
            f"The {what} {coins} is above the limit of {MAX_COINS} coins.",
            code="coins_invalid_amount",
        )
    return coins


def check_ratio_bp(ratio_bp: object, *, cap_bp: int) -> int:
    """SPEC C-3: a product's max deduction ratio, basis points from 0 to the order cap (30%)."""
    if isinstance(ratio_bp, bool) or not isinstance(ratio_bp, int):
        raise DomainError(
            "The maximum ratio must be a whole number of basis points.", code="coins_invalid_ratio"
        )
    if not 0 <= ratio_bp <= cap_bp:
        raise DomainError(
            f"The maximum ratio must be between 0% and {cap_bp / 100:g}%.",
            code="coins_invalid_ratio",
        )
    return ratio_bp


def max_deduction_coins(
    *,
    payable_before_coins_minor: int,
    balance: int,
    lines: Sequence[tuple[int, int]],
    cap_bp: int,
    cap_minor: int,
    coin_value_minor: int,
) -> int:
    """SPEC C-3: the most coins one order may deduct.

    ``lines`` are (line total in minor units, the product's max ratio in basis points; 0 when
    its switch is off). The deduction is ≤ each product's ratio of its lines, ≤ ``cap_bp`` of
    the payable amount before coins, ≤ ``cap_minor``, and ≤ the buyer's ``balance`` (coins).
    Every share rounds down: a coin is never granted off a fraction of a fen.
    """
    by_products = sum(total * ratio // BP for total, ratio in lines)
    limit_minor = min(by_products, payable_before_coins_minor * cap_bp // BP, cap_minor)
    return max(0, min(limit_minor // coin_value_minor, balance))


def check_deduction(
    *,
    coins: int,
    minor: int,
    payable_before_coins_minor: int,
    balance: int,
    lines: Sequence[tuple[int, int]],
    cap_bp: int,
    cap_minor: int,
    coin_value_minor: int,
) -> None:
    """SPEC C-3 at checkout: raises ``coins_value_mismatch``, ``coins_insufficient`` or
    ``coins_cap_exceeded`` (the caps without the balance) for a deduction of ``coins``."""
    check_coins(coins, what="coin deduction")
    if minor != coins * coin_value_minor:
        raise DomainError(
            f"{coins} coins are worth {coins * coin_value_minor} minor units, not {minor}.",
            code="coins_value_mismatch",
        )
    if coins > balance:
        raise DomainError(
            f"The buyer holds {balance} coins in this shop, fewer than the {coins} deducted.",
            code="coins_insufficient",
        )
    cap = max_deduction_coins(
        payable_before_coins_minor=payable_before_coins_minor,
        balance=coins,
        lines=lines,
        cap_bp=cap_bp,
        cap_minor=cap_minor,
        coin_value_minor=coin_value_minor,
    )
    if coins > cap:
        raise DomainError(
            f"At most {cap} coins can be deducted from this order ({cap_bp / 100:g}% of the "
            f"payable amount, {cap_minor} minor units and each product's maximum ratio); "
            f"{coins} were asked.",
            code="coins_cap_exceeded",
        )


def budget_spent(*, granted: int, budget: int, per_grant: int) -> bool:
    """SPEC C-7 "a rule stops when its budget is spent": nothing is left of ``budget``, or a
    rule of fixed grants (``per_grant`` coins each; 0 for a share of paid) has less left than
    its next grant, which it could then never make."""
    left = budget - granted
    return left <= 0 or left < per_grant


def cashback_coins(*, paid_minor: int, percent_bp: int, coin_value_minor: int) -> int:
    """SPEC C-7: cashback of ``percent_bp`` of what was paid, in whole coins (rounded down)."""
    return max(0, paid_minor) * percent_bp // BP // coin_value_minor


def proportional_coins(*, coins: int, refunded_minor: int, paid_minor: int, full: bool) -> int:
    """SPEC C-8 on partial refunds: the share of ``coins`` a refund of ``refunded_minor`` (so
    far, cumulative) out of ``paid_minor`` touches, rounded down; all of them when ``full``."""
    if full or paid_minor <= 0 or refunded_minor >= paid_minor:
        return coins
    return coins * max(0, refunded_minor) // paid_minor


# --- SPEC C-3/C-4: what a product page shows -------------------------------------------------

# Why coins do not show on a product (C-4), in the order the status board lists them.
REASON_SWITCH_OFF = "switch_off"
REASON_NOT_APPROVED = "not_approved"
REASON_ACCOUNT_INACTIVE = "account_inactive"
REASON_FUND_LOW = "fund_low"


def display_problems(
    *, enabled: bool, approved: bool, account_active: bool, fund_minor: int, fund_min_minor: int
) -> list[str]:
    """SPEC C-4: coins show on a product only with its switch on, the product approved, the
    account active and the fund holding at least ``fund_min_minor``; the failing reasons."""
    problems = []
    if not enabled:
        problems.append(REASON_SWITCH_OFF)
    if not approved:
        problems.append(REASON_NOT_APPROVED)
    if not account_active:
        problems.append(REASON_ACCOUNT_INACTIVE)
    if fund_minor < fund_min_minor:
        problems.append(REASON_FUND_LOW)
    return problems


def label_max_deduction_minor(
    *, price_minor: int, ratio_bp: int, cap_bp: int, cap_minor: int, coin_value_minor: int
) -> int:
    """SPEC C-3: the product page's "up to … off with coins": the product's ratio of its price,
    ≤ ``cap_bp`` of it and ≤ ``cap_minor``, in whole coins (rounded down)."""
    price = max(0, price_minor)
    limit = min(price * ratio_bp // BP, price * cap_bp // BP, cap_minor)
    return max(0, limit) // coin_value_minor * coin_value_minor


# --- SPEC C-10 grade, C-11 dashboard numbers ------------------------------------------------


def industry_redemption_percent() -> Decimal:
    """SPEC C-5/C-11: the industry redemption rate (~63.5%) shown beside the shop's."""
    return Decimal(str(_registry("COINS_INDUSTRY_REDEMPTION_PERCENT")))


@dataclass(frozen=True)
class GradeNumbers:
    """SPEC C-10: the grade formula's numbers (registry; pure functions take them as data)."""

    volume_full_coins: int
    volume_points: Decimal
    redemption_full_percent: Decimal
    redemption_points: Decimal
    participation_full: int
    participation_points: Decimal
    a_min: Decimal
    b_min: Decimal
    c_min: Decimal
    a_exposure_factor: Decimal
    a_search_boost_percent: Decimal


def grade_numbers() -> GradeNumbers:
    return GradeNumbers(
        volume_full_coins=int(_registry("COINS_GRADE_VOLUME_FULL_COINS")),
        volume_points=Decimal(str(_registry("COINS_GRADE_VOLUME_POINTS"))),
        redemption_full_percent=Decimal(str(_registry("COINS_GRADE_REDEMPTION_FULL_PERCENT"))),
        redemption_points=Decimal(str(_registry("COINS_GRADE_REDEMPTION_POINTS"))),
        participation_full=int(_registry("COINS_GRADE_PARTICIPATION_FULL")),
        participation_points=Decimal(str(_registry("COINS_GRADE_PARTICIPATION_POINTS"))),
        a_min=Decimal(str(_registry("COINS_GRADE_A_MIN_SCORE"))),
        b_min=Decimal(str(_registry("COINS_GRADE_B_MIN_SCORE"))),
        c_min=Decimal(str(_registry("COINS_GRADE_C_MIN_SCORE"))),
        a_exposure_factor=Decimal(str(_registry("COINS_GRADE_A_EXPOSURE_FACTOR"))),
        a_search_boost_percent=Decimal(str(_registry("COINS_GRADE_A_SEARCH_BOOST_PERCENT"))),
    )


CENT = Decimal("0.01")


@dataclass(frozen=True)
class GradeResult:
    grade: str
    score: Decimal
    volume_points: Decimal
    redemption_points: Decimal
    participation_points: Decimal
    redemption_percent: Decimal  # redeemed / issued in the month, capped at 100


def _share(value: Decimal, full: Decimal, points: Decimal) -> Decimal:
    if full <= 0:
        return points
    return (min(value / full, Decimal(1)) * points).quantize(CENT, ROUND_DOWN)


def redemption_percent(*, issued: int, redeemed: int) -> Decimal:
    """Coins redeemed in a month against coins issued in it, percent (0 when none issued)."""
    if issued <= 0:
        return Decimal(0)
    return min(Decimal(redeemed) * 100 / Decimal(issued), Decimal(100)).quantize(CENT, ROUND_DOWN)


def grade_letter(score: Decimal, numbers: GradeNumbers) -> str:
    if score >= numbers.a_min:
        return "A"
    if score >= numbers.b_min:
        return "B"
    if score >= numbers.c_min:
        return "C"
    return "D"


def grade_for(
    *, issued_coins: int, redeemed_coins: int, participation: int, numbers: GradeNumbers
) -> GradeResult:
    """SPEC C-10: a month's grade A-D. Score (0-100) = volume points × min(issued / full
    volume, 1) + redemption points × min(redemption rate / full rate, 1) + participation points
    × min(activities joined / full, 1), each share rounded down to 0.01; A from ``a_min``, B from
    ``b_min``, C from ``c_min``, otherwise D."""
    rate = redemption_percent(issued=issued_coins, redeemed=redeemed_coins)
    vol = _share(
        Decimal(max(0, issued_coins)), Decimal(numbers.volume_full_coins), numbers.volume_points
    )
    red = _share(rate, numbers.redemption_full_percent, numbers.redemption_points)
    part = _share(
        Decimal(max(0, participation)),
        Decimal(numbers.participation_full),
        numbers.participation_points,
    )
    score = vol + red + part
    return GradeResult(grade_letter(score, numbers), score, vol, red, part, rate)


@dataclass(frozen=True)
class GradeGap:
    """What lifts the grade to ``next_grade``: ``points`` more, e.g. by issuing ``more_coins``
    more coins at the same redemption rate, or by raising the redemption rate to
    ``redemption_percent_needed`` at the same volume (None: that lever alone cannot do it)."""

    next_grade: str
    points: Decimal
    more_coins: int | None
    redemption_percent_needed: Decimal | None


def grade_gap(result: GradeResult, numbers: GradeNumbers, *, issued_coins: int) -> GradeGap | None:
    """SPEC C-10 "what lifts your grade": the concrete gap to the next grade (None at A)."""
    targets = {"D": ("C", numbers.c_min), "C": ("B", numbers.b_min), "B": ("A", numbers.a_min)}
    if result.grade not in targets:
        return None
    nxt, target = targets[result.grade]
    points = target - result.score
    more_coins = None
    vol_needed = target - result.redemption_points - result.participation_points
    if 0 < vol_needed <= numbers.volume_points:
        # the fewest coins whose volume points (rounded down to the cent) reach vol_needed
        coins_needed = (
            vol_needed * numbers.volume_full_coins / numbers.volume_points
        ).to_integral_value(rounding=ROUND_CEILING)
        more_coins = max(1, int(coins_needed) - issued_coins)
    rate_needed = None
    red_needed = target - result.volume_points - result.participation_points
    if 0 < red_needed <= numbers.redemption_points and issued_coins > 0:
        rate_needed = (
            red_needed * numbers.redemption_full_percent / numbers.redemption_points
        ).quantize(CENT, ROUND_CEILING)
    return GradeGap(nxt, points, more_coins, rate_needed)
