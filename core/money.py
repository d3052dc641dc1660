"""Money as integer minor units plus an ISO 4217 currency (DESIGN §3). Never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Minor-unit exponents of the currencies the marketplace settles in (ISO 4217).
EXPONENTS: dict[str, int] = {
    "CNY": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "RUB": 2,
    "BRL": 2,
    "KRW": 0,
    "JPY": 0,
    "PLN": 2,
    "AUD": 2,
    "CAD": 2,
    "MXN": 2,
    "CLP": 0,
    "ILS": 2,
    "TRY": 2,
    "UAH": 2,
}
SYMBOLS: dict[str, str] = {
    "CNY": "¥",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "RUB": "₽",
    "BRL": "R$",
    "KRW": "₩",
    "JPY": "JP¥",
    "PLN": "zł",
    "AUD": "A$",
    "CAD": "C$",
    "MXN": "MX$",
    "ILS": "₪",
}


class CurrencyMismatch(ValueError):
    """Raised when arithmetic or comparison mixes two currencies."""


def exponent(currency: str) -> int:
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise ValueError(f"unsupported currency {currency!r}") from None


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units (cents, fen, …)
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        exponent(self.currency)

    # construction ---------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal | str | int, currency: str) -> Money:
        """Major units (e.g. Decimal("12.34")) to Money, half-up to the minor unit."""
        quantum = Decimal(1).scaleb(-exponent(currency))
        minor = (Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)).scaleb(
            exponent(currency)
        )
        return cls(int(minor), currency)

    # arithmetic -----------------------------------------------------------
    def _check(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} do not mix")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._check(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._check(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float):
            raise TypeError("multiply Money by int or Decimal, never float")
        if isinstance(factor, int):
            return Money(self.amount * factor, self.currency)
        return Money(int((self.amount * factor).quantize(Decimal(1), ROUND_HALF_UP)), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._check(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._check(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._check(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._check(other).amount

    def __bool__(self) -> bool:
        return self.amount != 0

    # presentation ---------------------------------------------------------
    @property
    def decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    def format(self) -> str:
        exp = exponent(self.currency)
        value = abs(self.decimal)
        text = f"{value:,.{exp}f}"
        symbol = SYMBOLS.get(self.currency, self.currency + " ")
        return f"{'-' if self.amount < 0 else ''}{symbol}{text}"

    def __str__(self) -> str:
        return self.format()
