"""SPEC C-1, C-3, C-5, C-7, C-8 guards: what the seller reads when a number is refused, whole
coins (never fractions) out of every share, and the edges of the refund share."""

from decimal import Decimal

import pytest
from constance import config

from coins import rules
from core.errors import DomainError

CAPS = {"cap_bp": 3000, "cap_minor": 50_00, "coin_value_minor": 1}


def test_c1_opening_numbers_are_read_from_the_registry(db):
    # given the SPEC defaults
    assert rules.opening_region() == "CN"
    assert rules.min_positive_rate() == Decimal("95")
    assert rules.violation_window_days() == 30
    # when an admin changes them
    config.COINS_OPENING_REGION = "HK"
    config.COINS_MIN_POSITIVE_RATE = Decimal("96.5")
    config.COINS_VIOLATION_WINDOW_DAYS = 45
    # then the guards read the new numbers
    assert rules.opening_region() == "HK"
    assert rules.min_positive_rate() == Decimal("96.5")
    assert rules.violation_window_days() == 45


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"coins": 1.5}, "The coin amount must be a whole number of coins, not float."),
        ({"coins": "7"}, "The coin amount must be a whole number of coins, not str."),
        ({"coins": 0}, "The coin amount must be more than zero."),
        (
            {"coins": rules.MAX_COINS + 1},
            "The coin amount 1000000000001 is above the limit of 1000000000000 coins.",
        ),
        ({"coins": -3, "what": "top-up"}, "The top-up must be more than zero."),
    ],
)
def test_c5_refused_coin_amounts_say_what_was_wrong(kwargs, message):
    with pytest.raises(DomainError) as refused:
        rules.check_coins(**kwargs)
    assert str(refused.value) == message
    assert refused.value.code == "coins_invalid_amount"


def test_c5_the_largest_coin_amount_is_accepted():
    assert rules.check_coins(rules.MAX_COINS) == rules.MAX_COINS


@pytest.mark.parametrize(
    ("ratio", "cap", "message"),
    [
        ("10", 3000, "The maximum ratio must be a whole number of basis points."),
        (True, 3000, "The maximum ratio must be a whole number of basis points."),
        (3001, 3000, "The maximum ratio must be between 0% and 30%."),
        (-1, 2550, "The maximum ratio must be between 0% and 25.5%."),
    ],
)
def test_c3_refused_ratios_name_the_allowed_range(ratio, cap, message):
    with pytest.raises(DomainError) as refused:
        rules.check_ratio_bp(ratio, cap_bp=cap)
    assert str(refused.value) == message
    assert refused.value.code == "coins_invalid_ratio"


def test_c3_each_products_share_rounds_down_before_they_are_added():
    # given two lines of ¥0.05 at 50%: each share is 2.5 fen, rounded down to 2
    lines = [(5, 5000), (5, 5000)]
    # then the order may deduct 4 coins, not the 5 that adding the fractions would give
    coins = rules.max_deduction_coins(
        payable_before_coins_minor=10_000, balance=100, lines=lines, **CAPS
    )
    assert coins == 4
    assert type(coins) is int


def test_c3_the_payable_share_is_whole_coins():
    # given ¥10.01 payable after a discount on a ¥20.00 line: 30% of it is 300.3 fen
    coins = rules.max_deduction_coins(
        payable_before_coins_minor=1001, balance=10_000, lines=[(2000, 3000)], **CAPS
    )
    assert coins == 300
    assert type(coins) is int


def test_c5_a_deduction_worth_its_coins_at_another_coin_value_passes():
    # given a registry where one coin is worth 2 fen: 10 coins are 20 fen
    caps = {**CAPS, "coin_value_minor": 2}
    rules.check_deduction(
        coins=10,
        minor=20,
        payable_before_coins_minor=10_000,
        balance=10,
        lines=[(10_000, 3000)],
        **caps,
    )
    with pytest.raises(DomainError) as refused:
        rules.check_deduction(
            coins=10,
            minor=19,
            payable_before_coins_minor=10_000,
            balance=10,
            lines=[(10_000, 3000)],
            **caps,
        )
    assert str(refused.value) == "10 coins are worth 20 minor units, not 19."
    assert refused.value.code == "coins_value_mismatch"


@pytest.mark.parametrize(
    ("coins", "balance", "message"),
    [
        (0, 10, "The coin deduction must be more than zero."),
        (6, 5, "The buyer holds 5 coins in this shop, fewer than the 6 deducted."),
        (
            3001,
            10_000,
            "At most 3000 coins can be deducted from this order (30% of the payable amount, "
            "5000 minor units and each product's maximum ratio); 3001 were asked.",
        ),
    ],
)
def test_c3_refused_deductions_explain_themselves(coins, balance, message):
    with pytest.raises(DomainError) as refused:
        rules.check_deduction(
            coins=coins,
            minor=coins,
            payable_before_coins_minor=10_000,
            balance=balance,
            lines=[(10_000, 3000)],
            **CAPS,
        )
    assert str(refused.value) == message


def test_c7_percent_cashback_is_whole_coins():
    # given ¥10.05 paid at 10% and a coin worth 3 fen: 100.5 fen → 100 → 33 coins
    coins = rules.cashback_coins(paid_minor=1005, percent_bp=1000, coin_value_minor=3)
    assert coins == 33
    assert type(coins) is int
    assert type(rules.cashback_coins(paid_minor=1005, percent_bp=1000, coin_value_minor=1)) is int


@pytest.mark.parametrize(
    ("coins", "refunded", "paid", "expected"),
    [
        (10, 0, 0, 10),  # nothing was paid: a refund touches every coin
        (10, -5, 0, 10),
        (10, 0, 1, 0),  # ¥0.01 paid, nothing refunded yet
        (1000, 0, 100, 0),  # nothing refunded: no coin touched
        (1000, -5, 100, 0),  # a negative figure never touches coins
        (1000, 1, 100, 10),
    ],
)
def test_c8_refund_share_at_its_edges(coins, refunded, paid, expected):
    assert (
        rules.proportional_coins(coins=coins, refunded_minor=refunded, paid_minor=paid, full=False)
        == expected
    )


def test_c3_label_of_a_free_product_is_zero_even_at_a_full_ratio():
    for price in (0, -5):
        assert (
            rules.label_max_deduction_minor(
                price_minor=price, ratio_bp=10_000, cap_bp=10_000, cap_minor=100, coin_value_minor=1
            )
            == 0
        )


@pytest.mark.parametrize(("ratio", "cap"), [(1000, 3000), (3000, 1000)])
def test_c3_label_amount_is_whole_minor_units_rounded_down(ratio, cap):
    # ¥3.35 at 10% is 33.5 fen: the label says 33, a whole number (by ratio or by the cap)
    amount = rules.label_max_deduction_minor(
        price_minor=335, ratio_bp=ratio, cap_bp=cap, cap_minor=50_00, coin_value_minor=1
    )
    assert amount == 33
    assert type(amount) is int


@pytest.mark.parametrize(
    ("positive", "total", "minimum", "met", "shown"),
    [
        (189, 199, "95", False, "94.9"),  # 94.97%: below, and never shown as 95.0%
        (190, 200, "95", True, "95.0"),  # exactly the minimum
        (19, 20, "95", True, "95.0"),
        (1899, 2000, "95", False, "94.9"),  # 94.95%
        (193, 200, "96.5", True, "96.5"),  # an admin's minimum with a decimal
        (1929, 2000, "96.5", False, "96.4"),  # 96.45%
        (2, 3, "50", True, "66.6"),  # rounded down, not to nearest
        (0, 5, "0", True, "0.0"),
        (0, 0, "0", False, None),  # no feedback meets no minimum
    ],
)
def test_c1_positive_rate_is_compared_exactly_and_shown_rounded_down(
    positive, total, minimum, met, shown
):
    assert (
        rules.positive_rate_met(positive=positive, total=total, min_percent=Decimal(minimum)) is met
    )
    if shown is not None:
        assert str(rules.percent_shown(positive, total)) == shown


@pytest.mark.parametrize(
    ("granted", "budget", "per_grant", "spent"),
    [
        (900, 1000, 300, True),  # 100 left: no grant of 300 fits
        (700, 1000, 300, False),  # 300 left: one more grant
        (1000, 1000, 300, True),
        (999, 1000, 0, False),  # a share of paid: any coin left may still be granted
        (1000, 1000, 0, True),
        (0, 1000, 1000, False),
    ],
)
def test_c7_a_rule_budget_is_spent_when_it_cannot_cover_the_next_grant(
    granted, budget, per_grant, spent
):
    assert rules.budget_spent(granted=granted, budget=budget, per_grant=per_grant) is spent
