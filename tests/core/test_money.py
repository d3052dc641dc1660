"""core.money: integer minor units plus an ISO currency, never floats (DESIGN §3)."""

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import EXPONENTS, SYMBOLS, CurrencyMismatch, Money, exponent

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


# --- the currency tables, pinned (a changed exponent mis-prices every amount) ----------------

# ISO 4217 minor-unit exponents and the symbols sellers read, one row per settlement currency.
CURRENCY_TABLE = [
    ("CNY", 2, "¥"),
    ("USD", 2, "$"),
    ("EUR", 2, "€"),
    ("GBP", 2, "£"),
    ("RUB", 2, "₽"),
    ("BRL", 2, "R$"),
    ("KRW", 0, "₩"),
    ("JPY", 0, "JP¥"),
    ("PLN", 2, "zł"),
    ("AUD", 2, "A$"),
    ("CAD", 2, "C$"),
    ("MXN", 2, "MX$"),
    ("CLP", 0, None),
    ("ILS", 2, "₪"),
    ("TRY", 2, None),
    ("UAH", 2, None),
]


def test_the_table_lists_exactly_the_settlement_currencies():
    # then: a currency added or dropped gets a row here
    assert set(EXPONENTS) == {code for code, _, _ in CURRENCY_TABLE}
    assert set(SYMBOLS) == {code for code, _, symbol in CURRENCY_TABLE if symbol}


@pytest.mark.parametrize(("currency", "exp", "symbol"), CURRENCY_TABLE)
def test_each_currency_has_its_iso_exponent_and_symbol(currency, exp, symbol):
    # given: 1,234,567 minor units
    money = Money(1234567, currency)

    # then: the exponent places the decimal point, the symbol (or the ISO code) leads
    assert exponent(currency) == exp
    assert money.decimal == Decimal(1234567).scaleb(-exp)
    assert Money.from_decimal("1", currency).amount == 10**exp
    major = "12,345.67" if exp == 2 else "1,234,567"
    assert money.format() == f"{symbol or currency + ' '}{major}"
    assert (-money).format() == f"-{symbol or currency + ' '}{major}"


def test_an_unsupported_currency_is_named_in_the_refusal():
    # when / then
    with pytest.raises(ValueError, match=r"^unsupported currency 'XYZ'$"):
        exponent("XYZ")
    with pytest.raises(ValueError, match=r"^unsupported currency 'cny'$"):
        Money.from_decimal("1", "cny")


# --- value semantics -------------------------------------------------------------------------


def test_money_is_immutable():
    # given
    money = Money(100, "CNY")

    # when / then: no field can be reassigned, no attribute added
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.amount = 200  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.currency = "USD"  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        money.note = "x"  # type: ignore[attr-defined]
    # arithmetic returns new values and leaves the operands alone
    total = money + Money(1, "CNY")
    assert (money, total) == (Money(100, "CNY"), Money(101, "CNY"))


def test_equal_values_are_equal_and_hash_alike():
    # then
    assert Money(100, "CNY") == Money(100, "CNY")
    assert Money(100, "CNY") != Money(100, "USD")
    assert Money(100, "CNY") != Money(101, "CNY")
    assert len({Money(100, "CNY"), Money(100, "CNY"), Money(100, "USD")}) == 2


def test_strict_comparisons_are_false_between_equal_amounts():
    # given
    a, same = Money(500, "CNY"), Money(500, "CNY")

    # then: < and > are strict, <= and >= are not
    assert not a < a
    assert not a > a
    assert not a < same
    assert not a > same
    assert a <= same
    assert a >= same
    assert not Money(501, "CNY") <= a
    assert not Money(499, "CNY") >= a


def test_negative_amounts_are_truthy_and_compare_below_zero():
    # then
    assert Money(-1, "CNY")
    assert Money(-1, "CNY") < Money.zero("CNY")
    assert Money.zero("JPY") == Money(0, "JPY")


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (lambda: Money(1.5, "CNY"), "Money.amount must be an int of minor units"),
        (lambda: Money(True, "CNY"), "Money.amount must be an int of minor units"),
        (lambda: Money(1, "CNY") * 1.5, "multiply Money by int or Decimal, never float"),
        (lambda: Money(1, "CNY") + 1, "cannot combine Money with int"),
        (lambda: Money(1, "CNY") < Decimal(2), "cannot combine Money with Decimal"),
    ],
)
def test_type_errors_say_what_is_wrong(operation, message):
    # when / then
    with pytest.raises(TypeError) as exc:
        operation()
    assert str(exc.value) == message


def test_a_currency_mismatch_names_both_currencies():
    # when / then
    with pytest.raises(CurrencyMismatch) as exc:
        Money(1, "CNY") - Money(1, "USD")
    assert str(exc.value) == "CNY and USD do not mix"
    assert isinstance(exc.value, ValueError)


def test_multiplying_by_a_decimal_rounds_to_whole_minor_units():
    # given
    price = Money(1000, "CNY")

    # when / then: 1000 * 0.333 = 333.0; 1000 * 0.3335 = 333.5 -> 334
    assert price * Decimal("0.333") == Money(333, "CNY")
    assert price * Decimal("0.3335") == Money(334, "CNY")
    assert (price * Decimal("1.2344")).amount == 1234
    assert isinstance((price * Decimal("0.5")).amount, int)
    assert Decimal("0.5") * price == Money(500, "CNY")
