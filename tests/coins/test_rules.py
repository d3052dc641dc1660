"""SPEC C-3 … C-8 numbers and pure guards of the coin module, at their exact boundaries."""

from datetime import timedelta

import pytest
from constance import config
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coins import rules
from core.errors import DomainError

CAPS = {"cap_bp": 3000, "cap_minor": 50_00, "coin_value_minor": 1}


def test_c3_c4_c5_c6_c8_defaults_are_the_spec_numbers(db):
    assert rules.coin_value_minor() == 1  # C-5: 1 coin = ¥0.01
    assert rules.deduction_cap_bp() == 3000  # C-3: 30%
    assert rules.deduction_cap_minor() == 50_00  # C-3: ¥50
    assert rules.fund_display_min_minor() == 500_00  # C-4: ¥500
    assert rules.lot_lifetime() == timedelta(days=180)  # C-6
    assert rules.refund_grace() == timedelta(days=30)  # C-8


def test_c3_caps_follow_the_registry(db):
    config.COINS_DEDUCTION_CAP_MINOR = 10_00
    config.COINS_DEDUCTION_CAP_BP = 1000
    config.COINS_LOT_LIFETIME_DAYS = 7
    assert rules.deduction_cap_minor() == 10_00
    assert rules.deduction_cap_bp() == 1000
    assert rules.lot_lifetime() == timedelta(days=7)


@pytest.mark.parametrize(
    ("payable", "balance", "lines", "expected"),
    [
        # 30% of the payable amount before coins, rounded down
        (100_00, 10**6, [(100_00, 3000)], 30_00),
        (100_01, 10**6, [(100_01, 3000)], 30_00),  # 3000.3 -> 3000
        (99_99, 10**6, [(99_99, 3000)], 29_99),  # 2999.7 -> 2999
        # ¥50 cap: exactly at it, one fen over, far over
        (166_66, 10**6, [(166_66, 3000)], 49_99),
        (166_67, 10**6, [(166_67, 3000)], 50_00),
        (10_000_00, 10**6, [(10_000_00, 3000)], 50_00),
        # the buyer's balance binds
        (100_00, 29_99, [(100_00, 3000)], 29_99),
        (100_00, 0, [(100_00, 3000)], 0),
        # each product's own ratio; a product with its switch off contributes nothing
        (100_00, 10**6, [(100_00, 1000)], 10_00),
        (200_00, 10**6, [(100_00, 3000), (100_00, 0)], 30_00),
        (200_00, 10**6, [(100_00, 1000), (100_00, 2000)], 30_00),
        (200_00, 10**6, [(100_00, 1), (100_00, 1)], 2),
        # shipping counted in the payable amount, coupons taken off before the 30%
        (90_00, 10**6, [(100_00, 3000)], 27_00),
        (0, 10**6, [(100_00, 3000)], 0),
    ],
)
def test_c3_max_deduction_at_each_boundary(payable, balance, lines, expected):
    assert (
        rules.max_deduction_coins(
            payable_before_coins_minor=payable, balance=balance, lines=lines, **CAPS
        )
        == expected
    )


def test_c3_c5_coin_value_converts_minor_units_to_coins():
    # a coin worth 2 fen: ¥30 of cap is 1,500 coins
    assert (
        rules.max_deduction_coins(
            payable_before_coins_minor=100_00,
            balance=10**6,
            lines=[(100_00, 3000)],
            cap_bp=3000,
            cap_minor=50_00,
            coin_value_minor=2,
        )
        == 15_00
    )


@pytest.mark.parametrize(
    ("coins", "minor", "balance", "code"),
    [
        (30_00, 30_00, 30_00, None),  # exactly the cap and exactly the balance
        (30_01, 30_01, 10**6, "coins_cap_exceeded"),
        (30_00, 30_00, 29_99, "coins_insufficient"),
        (10_00, 10_01, 10**6, "coins_value_mismatch"),
        (10_00, 9_99, 10**6, "coins_value_mismatch"),
        (0, 0, 10**6, "coins_invalid_amount"),
        (-1, -1, 10**6, "coins_invalid_amount"),
        (1.5, 1, 10**6, "coins_invalid_amount"),
        (True, 1, 10**6, "coins_invalid_amount"),
        (10**12 + 1, 10**12 + 1, 10**13, "coins_invalid_amount"),
    ],
)
def test_c3_check_deduction_codes(coins, minor, balance, code):
    call = dict(
        coins=coins,
        minor=minor,
        payable_before_coins_minor=100_00,
        balance=balance,
        lines=[(100_00, 3000)],
        **CAPS,
    )
    if code is None:
        rules.check_deduction(**call)
    else:
        with pytest.raises(DomainError) as exc:
            rules.check_deduction(**call)
        assert exc.value.code == code


def test_c3_fifty_yuan_cap_names_the_cap_in_the_message():
    with pytest.raises(DomainError) as exc:
        rules.check_deduction(
            coins=50_01,
            minor=50_01,
            payable_before_coins_minor=1_000_00,
            balance=10**6,
            lines=[(1_000_00, 3000)],
            **CAPS,
        )
    assert exc.value.code == "coins_cap_exceeded"
    assert "At most 5000 coins" in exc.value.message


@pytest.mark.parametrize(
    ("ratio", "ok"),
    [(0, True), (1, True), (3000, True), (3001, False), (-1, False), (30.0, False), (True, False)],
)
def test_c3_product_ratio_between_0_and_30_percent(ratio, ok):
    if ok:
        assert rules.check_ratio_bp(ratio, cap_bp=3000) == ratio
    else:
        with pytest.raises(DomainError) as exc:
            rules.check_ratio_bp(ratio, cap_bp=3000)
        assert exc.value.code == "coins_invalid_ratio"


@pytest.mark.parametrize(
    ("coins", "ok"),
    [(1, True), (10**12, True), (0, False), (-5, False), (10**12 + 1, False), ("5", False)],
)
def test_c5_coin_amounts_are_whole_positive_and_bounded(coins, ok):
    if ok:
        assert rules.check_coins(coins) == coins
    else:
        with pytest.raises(DomainError) as exc:
            rules.check_coins(coins)
        assert exc.value.code == "coins_invalid_amount"


@pytest.mark.parametrize(
    ("paid", "bp", "value", "expected"),
    [
        (100_00, 500, 1, 5_00),  # 5% of ¥100 = ¥5 = 500 coins
        (99, 500, 1, 4),  # 4.95 -> 4
        (100, 500, 1, 5),
        (100_00, 500, 2, 2_50),
        (-100, 500, 1, 0),
        (0, 10_000, 1, 0),
    ],
)
def test_c7_percent_cashback_rounds_down(paid, bp, value, expected):
    assert rules.cashback_coins(paid_minor=paid, percent_bp=bp, coin_value_minor=value) == expected


@pytest.mark.parametrize(
    ("coins", "refunded", "paid", "full", "expected"),
    [
        (1000, 50_00, 100_00, False, 500),
        (1000, 33_33, 100_00, False, 333),
        (999, 50_00, 100_00, False, 499),
        (1000, 0, 100_00, False, 0),
        (1000, 100_00, 100_00, False, 1000),
        (1000, 10_00, 100_00, True, 1000),
        (1000, 10_00, 0, False, 1000),  # nothing was paid (all coins): any refund is full
        (1000, 120_00, 100_00, False, 1000),
    ],
)
def test_c8_partial_refund_share(coins, refunded, paid, full, expected):
    assert (
        rules.proportional_coins(coins=coins, refunded_minor=refunded, paid_minor=paid, full=full)
        == expected
    )


# --- C-3/C-4: what a product page shows ------------------------------------------------------


def test_c4_display_problems_names_every_failing_condition():
    assert (
        rules.display_problems(
            enabled=True,
            approved=True,
            account_active=True,
            fund_minor=500_00,
            fund_min_minor=500_00,
        )
        == []
    )
    assert rules.display_problems(
        enabled=False,
        approved=False,
        account_active=False,
        fund_minor=499_99,
        fund_min_minor=500_00,
    ) == ["switch_off", "not_approved", "account_inactive", "fund_low"]
    assert rules.display_problems(
        enabled=True, approved=True, account_active=True, fund_minor=499_99, fund_min_minor=500_00
    ) == ["fund_low"]


@pytest.mark.parametrize(
    ("price", "ratio", "expected"),
    [
        (32_00, 1000, 3_20),  # 10% of ¥32
        (100_00, 3000, 30_00),  # 30%
        (1_000_00, 3000, 50_00),  # the ¥50 cap
        (100_00, 5000, 30_00),  # a ratio above the 30% cap is held to it
        (33, 1000, 3),  # rounded down to a whole coin
        (0, 3000, 0),
        (100_00, 0, 0),
        (-5_00, 3000, 0),  # never a negative label
    ],
)
def test_c3_label_deduction_is_the_smallest_of_ratio_30_percent_and_50_yuan(price, ratio, expected):
    assert (
        rules.label_max_deduction_minor(
            price_minor=price, ratio_bp=ratio, cap_bp=3000, cap_minor=50_00, coin_value_minor=1
        )
        == expected
    )


def test_c4_fund_exactly_at_the_minimum_shows_coins():
    assert (
        rules.display_problems(
            enabled=True,
            approved=True,
            account_active=True,
            fund_minor=500_00,
            fund_min_minor=500_00,
        )
        == []
    )


def test_c3_label_deduction_is_whole_coins_of_the_coin_value():
    # 10% of ¥0.33 is 3 fen; with a coin worth 2 fen that is one coin, 2 fen
    assert (
        rules.label_max_deduction_minor(
            price_minor=33, ratio_bp=1000, cap_bp=3000, cap_minor=50_00, coin_value_minor=2
        )
        == 2
    )


# --- the registry, once per request or scope -------------------------------------------------


def _registry_reads(ctx) -> int:
    return sum(1 for q in ctx.captured_queries if "constance_constance" in q["sql"])


def test_c3_c5_a_scope_reads_every_coin_number_once_and_changes_show_after_it(db):
    config.COINS_DEDUCTION_CAP_MINOR = 40_00  # a stored value, not the default
    with rules.registry_scope():
        with CaptureQueriesContext(connection) as ctx:
            assert rules.coin_value_minor() == 1
            assert rules.deduction_cap_minor() == 40_00
            assert rules.grade_numbers().a_min == 80
            assert rules.lot_lifetime() == timedelta(days=180)
        assert _registry_reads(ctx) == 1  # every coin number in one query
        config.COINS_COIN_VALUE_MINOR = 2  # an admin's change during the scope…
        with CaptureQueriesContext(connection) as ctx:
            assert rules.coin_value_minor() == 1  # …is not seen inside it
            with rules.registry_scope():  # a nested scope shares the outer one
                assert rules.coin_value_minor() == 1
            assert rules.coin_value_minor() == 1  # and leaving it keeps the outer one
        assert _registry_reads(ctx) == 0
    # after the scope: every read is live again
    assert rules.coin_value_minor() == 2
    config.COINS_COIN_VALUE_MINOR = 3
    assert rules.coin_value_minor() == 3


def test_c3_c5_each_request_starts_a_fresh_scope_and_its_end_goes_live(db):
    rules.request_started()
    try:
        assert rules.coin_value_minor() == 1
        config.COINS_COIN_VALUE_MINOR = 2
        assert rules.coin_value_minor() == 1  # the request keeps what it read
        rules.request_started()  # the next request (even without an end to the last one)
        assert rules.coin_value_minor() == 2
    finally:
        rules.request_finished()
    config.COINS_COIN_VALUE_MINOR = 3
    assert rules.coin_value_minor() == 3  # no scope left behind


def test_c3_c4_c10_a_scope_reads_what_constance_reads(db):
    """The scope's plain-row read gives every coin number exactly as django-constance's own
    read does: stored values decoded (ints, decimals, text), the rest their defaults."""
    from decimal import Decimal

    from constance.utils import get_values_for_keys

    config.COINS_DEDUCTION_CAP_MINOR = 41_00
    config.COINS_MIN_POSITIVE_RATE = Decimal("97.5")
    config.COINS_OPENING_REGION = "EU"
    keys = rules._keys()
    assert rules._read(keys) == get_values_for_keys(keys)
    with rules.registry_scope():
        assert rules.deduction_cap_minor() == 41_00
        assert rules.min_positive_rate() == Decimal("97.5")
        assert rules.opening_region() == "EU"
        assert rules.coin_value_minor() == 1  # never stored: the default


def test_c3_a_scope_can_be_filled_by_a_callers_round_trip(db):
    """The checkout sends the scope's read with its locks (one round trip) and hands the rows
    back: the scope then holds what a read of its own would have read, and is not read again."""
    config.COINS_DEDUCTION_CAP_MINOR = 42_00
    assert rules.scope_statement() is None  # no scope: nothing to fill
    with rules.registry_scope():
        sql, params = rules.scope_statement()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        rules.scope_fill(rows)
        assert rules.scope_statement() is None  # filled: not read again
        with CaptureQueriesContext(connection) as ctx:
            assert rules.deduction_cap_minor() == 42_00
            assert rules.coin_value_minor() == 1
        assert _registry_reads(ctx) == 0
