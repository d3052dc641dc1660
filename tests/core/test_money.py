"""core.money: integer minor units plus an ISO currency, never floats (DESIGN §3)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import CurrencyMismatch, Money

CURRENCIES = ["CNY", "USD", "EUR", "JPY", "KRW", "RUB"]
amounts = st.integers(min_value=-(10**15), max_value=10**15)
currencies = st.sampled_from(CURRENCIES)


def test_add_and_subtract_in_one_currency():
    # given
    a, b = Money(1050, "CNY"), Money(250, "CNY")

    # when / then
    assert a + b == Money(1300, "CNY")
    assert a - b == Money(800, "CNY")
    assert b - a == Money(-800, "CNY")
    assert -a == Money(-1050, "CNY")


def test_multiply_by_int_and_by_decimal_rounds_half_up():
    # given
    price = Money(333, "USD")

    # when / then
    assert price * 3 == Money(999, "USD")
    assert 3 * price == Money(999, "USD")
    assert price * Decimal("0.5") == Money(167, "USD")  # 166.5 -> 167
    assert Money(-333, "USD") * Decimal("0.5") == Money(-167, "USD")  # half away from zero


def test_comparisons_and_truthiness():
    # given
    small, big = Money(1, "CNY"), Money(2, "CNY")

    # then
    assert small < big <= big
    assert big > small >= small
    assert not Money.zero("CNY")
    assert Money(1, "CNY")


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_mixed_currencies_are_refused(operation):
    # given
    yuan, dollars = Money(100, "CNY"), Money(100, "USD")

    # when / then
    with pytest.raises(CurrencyMismatch):
        operation(yuan, dollars)


def test_combining_with_a_bare_number_is_refused():
    # when / then
    with pytest.raises(TypeError):
        Money(100, "CNY") + 5  # type: ignore[operator]


@pytest.mark.parametrize("amount", [1.5, 1.0, Decimal("1.5"), "100", True])
def test_amount_must_be_int_minor_units(amount):
    # when / then
    with pytest.raises(TypeError):
        Money(amount, "CNY")  # type: ignore[arg-type]


def test_multiplying_by_a_float_is_refused():
    # when / then
    with pytest.raises(TypeError):
        Money(100, "CNY") * 1.1  # type: ignore[operator]


def test_unknown_currency_is_refused():
    # when / then
    with pytest.raises(ValueError, match="unsupported currency"):
        Money(100, "XYZ")


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(123456, "CNY"), "¥1,234.56"),
        (Money(5, "CNY"), "¥0.05"),
        (Money(0, "CNY"), "¥0.00"),
        (Money(199, "USD"), "$1.99"),
        (Money(100000000, "USD"), "$1,000,000.00"),
        (Money(1500, "JPY"), "JP¥1,500"),  # zero-decimal currency: no minor digits
        (Money(1500, "KRW"), "₩1,500"),
        (Money(-250, "CNY"), "-¥2.50"),
        (Money(-1500, "JPY"), "-JP¥1,500"),
        (Money(999, "CLP"), "CLP 999"),  # no symbol: the ISO code
    ],
)
def test_format(money, text):
    # when / then
    assert money.format() == text
    assert str(money) == text


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("12.34", "CNY", 1234),
        ("0.005", "CNY", 1),  # half up
        ("0.004", "CNY", 0),
        ("-0.005", "CNY", -1),  # half away from zero
        ("2.675", "USD", 268),  # a float would give 267
        ("1234.5", "JPY", 1235),
        ("1234.4", "JPY", 1234),
        (7, "USD", 700),
        (Decimal("99.999"), "USD", 10000),
    ],
)
def test_from_decimal_rounds_half_up_to_the_minor_unit(value, currency, minor):
    # when
    money = Money.from_decimal(value, currency)

    # then
    assert money == Money(minor, currency)
    assert isinstance(money.amount, int)


def test_decimal_property_is_major_units():
    # then
    assert Money(1234, "CNY").decimal == Decimal("12.34")
    assert Money(1234, "JPY").decimal == Decimal("1234")


@given(a=amounts, b=amounts, currency=currencies)
def test_property_add_then_subtract_is_identity(a, b, currency):
    # given
    x, y = Money(a, currency), Money(b, currency)

    # then
    assert x + y - y == x


@given(values=st.lists(amounts, max_size=20), currency=currencies, seed=st.randoms())
def test_property_sum_is_commutative(values, currency, seed):
    # given
    monies = [Money(v, currency) for v in values]
    shuffled = list(monies)
    seed.shuffle(shuffled)

    # when
    total = sum(monies, Money.zero(currency))
    total_shuffled = sum(shuffled, Money.zero(currency))

    # then
    assert total == total_shuffled == Money(sum(values), currency)


@given(a=amounts, currency=currencies)
def test_property_format_round_trips_through_from_decimal(a, currency):
    # given
    money = Money(a, currency)

    # when: strip the symbol and separators, parse back
    text = money.format()
    digits = "".join(ch for ch in text if ch.isdigit() or ch == ".")
    if currency in {"JPY", "KRW"}:
        digits = digits.lstrip(".")
    parsed = Money.from_decimal(Decimal(digits), currency)

    # then
    assert (parsed if a >= 0 else -parsed) == money
