"""Demo data of the platform core: the exchange-rate table (SPEC §0), so the modules that convert
between a shop's currency and a rule's (the M-1 GMV floor, M-9 billing, the A-8 floor) work
in the demo. Rates are illustrative, one row per currency on the first of each of the last four
months; an admin keeps the real table in Django admin."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core import clock

# Units per US dollar, roughly as in late 2026; each month moves them a little.
REFERENCE = {
    "CNY": "7.12",
    "EUR": "0.92",
    "GBP": "0.79",
    "RUB": "91.5",
    "BRL": "5.45",
    "KRW": "1385",
    "JPY": "151.2",
    "PLN": "3.98",
    "AUD": "1.52",
    "CAD": "1.37",
    "MXN": "17.6",
    "CLP": "935",
    "ILS": "3.71",
    "TRY": "34.2",
    "UAH": "41.3",
}
MONTHS = 4
SOURCE = "demo reference rate"  # what ``seed_demo --flush`` removes again


def seed(*, shops, rng, now) -> None:
    from core.models import FxRate

    first = clock.natural_day(now).replace(day=1)
    days = [first]
    for _ in range(MONTHS - 1):
        days.append((days[-1] - timedelta(days=1)).replace(day=1))
    for currency, value in REFERENCE.items():
        base = Decimal(value)
        for day in sorted(days):
            drift = Decimal(rng.randint(-150, 150)) / Decimal(10_000)  # ±1.5%
            FxRate.objects.get_or_create(
                currency=currency,
                day=day,
                defaults={
                    "units_per_usd": (base * (1 + drift)).quantize(Decimal("0.0001")),
                    "source": SOURCE,
                },
            )
