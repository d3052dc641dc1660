"""SPEC §0 "FX rates are a dated table": a rate applies from its day until the currency's next
row, conversions go through USD and round once, and a missing rate is refused, never guessed.
The admin page keeps the table clean: bad input is a form error and writes nothing."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from core import fx
from core.models import FxRate
from core.money import Money

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates():
    FxRate.objects.create(currency="CNY", day=date(2026, 1, 1), units_per_usd=Decimal("7.2"))
    FxRate.objects.create(currency="CNY", day=date(2026, 6, 1), units_per_usd=Decimal("7.0"))
    FxRate.objects.create(currency="EUR", day=date(2026, 1, 1), units_per_usd=Decimal("0.9"))
    FxRate.objects.create(currency="JPY", day=date(2026, 1, 1), units_per_usd=Decimal("150"))


def test_s0_a_rate_applies_from_its_day_until_the_next_row(rates):
    assert fx.units_per_usd("CNY", on=date(2026, 1, 1)) == Decimal("7.2")
    assert fx.units_per_usd("CNY", on=date(2026, 5, 31)) == Decimal("7.2")
    assert fx.units_per_usd("CNY", on=date(2026, 6, 1)) == Decimal("7.0")
    assert fx.units_per_usd("USD", on=date(2000, 1, 1)) == 1


def test_s0_no_rate_on_or_before_the_day_is_refused_not_guessed(rates):
    with pytest.raises(fx.FxRateMissing) as exc:
        fx.convert(Money(100, "USD"), "CNY", on=date(2025, 12, 31))
    assert exc.value.code == "fx_rate_missing"
    assert "CNY" in exc.value.message
    with pytest.raises(fx.FxRateMissing):
        fx.convert(Money(100, "USD"), "GBP", on=date(2026, 7, 1))
    with pytest.raises(fx.FxRateMissing):
        fx.convert(Money(100, "USD"), "XYZ", on=date(2026, 7, 1))


def test_s0_conversions_go_through_usd_and_respect_minor_units(rates):
    on = date(2026, 7, 1)
    assert fx.convert(Money(100_00, "USD"), "CNY", on=on) == Money(700_00, "CNY")
    assert fx.convert(Money(700_00, "CNY"), "USD", on=on) == Money(100_00, "USD")
    # CNY → EUR: 70.00 CNY = 10.00 USD = 9.00 EUR
    assert fx.convert(Money(70_00, "CNY"), "EUR", on=on) == Money(9_00, "EUR")
    # JPY has no minor unit: $1.00 = ¥150
    assert fx.convert(Money(1_00, "USD"), "JPY", on=on) == Money(150, "JPY")
    assert fx.convert(Money(150, "JPY"), "USD", on=on) == Money(1_00, "USD")
    assert fx.convert(Money(5, "CNY"), "CNY", on=on) == Money(5, "CNY")


def test_s0_rounding_is_once_and_as_asked(rates):
    on = date(2026, 7, 1)
    # $0.10 = ¥0.70 exactly; ¥0.01 = $0.00142857…
    assert fx.convert(Money(10, "USD"), "CNY", on=on) == Money(70, "CNY")
    assert fx.convert(Money(1, "CNY"), "USD", on=on) == Money(0, "USD")
    assert fx.convert(Money(1, "CNY"), "USD", on=on, rounding="up") == Money(1, "USD")
    assert fx.convert(Money(4, "CNY"), "USD", on=on, rounding="half_up") == Money(1, "USD")
    assert fx.convert(Money(6, "CNY"), "USD", on=on, rounding="down") == Money(0, "USD")


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("fx-admin", "fx@example.com", "pw")
    client.force_login(user)
    return client


def test_s0_admin_adds_a_rate_and_normalises_the_currency(admin_client):
    url = reverse("admin:core_fxrate_add")
    response = admin_client.post(
        url, {"currency": " cny ", "day": "2026-03-01", "units_per_usd": "7.1", "source": "PBoC"}
    )
    assert response.status_code == 302
    row = FxRate.objects.get()
    assert (row.currency, row.day, row.units_per_usd) == ("CNY", date(2026, 3, 1), Decimal("7.1"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"currency": "USD", "units_per_usd": "1"}, "base of the table"),
        ({"currency": "XYZ", "units_per_usd": "1"}, "Unsupported currency XYZ"),
        ({"currency": "CNY", "units_per_usd": "0"}, "greater than zero"),
        ({"currency": "CNY", "units_per_usd": "-7"}, "greater than zero"),
        ({"currency": "CNY", "units_per_usd": "abc"}, "Enter a number"),
        ({"currency": "CNY", "units_per_usd": "1" * 30}, "digits"),
    ],
)
def test_s0_admin_refuses_bad_rates_and_writes_nothing(admin_client, data, message):
    url = reverse("admin:core_fxrate_add")
    response = admin_client.post(url, {"day": "2026-03-01", "source": "", **data})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not FxRate.objects.exists()


def test_s0_admin_refuses_a_second_rate_for_the_same_day(admin_client, rates):
    url = reverse("admin:core_fxrate_add")
    response = admin_client.post(
        url, {"currency": "CNY", "day": "2026-01-01", "units_per_usd": "7.3", "source": ""}
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert FxRate.objects.get(currency="CNY", day=date(2026, 1, 1)).units_per_usd == Decimal("7.2")


def test_s0_the_demo_seeds_a_rate_for_every_currency_once():
    import random

    from core import clock, demo

    demo.seed(shops=[], rng=random.Random(1), now=clock.now())
    demo.seed(shops=[], rng=random.Random(2), now=clock.now())  # again: nothing more
    assert FxRate.objects.count() == len(demo.REFERENCE) * demo.MONTHS
    today = clock.natural_day()
    for currency in demo.REFERENCE:
        assert fx.convert(Money(100_00, "USD"), currency, on=today).amount > 0


@pytest.mark.parametrize(
    ("row", "constraint"),
    [
        ({"currency": "CNY", "units_per_usd": Decimal("7.3")}, "fxrate_one_per_day"),
        ({"currency": "GBP", "units_per_usd": Decimal("0")}, "fxrate_positive"),
        ({"currency": "GBP", "units_per_usd": Decimal("-1")}, "fxrate_positive"),
        ({"currency": "USD", "units_per_usd": Decimal("1")}, "fxrate_not_usd"),
    ],
)
def test_s0_the_database_refuses_a_bad_rate_row(rates, row, constraint):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        FxRate.objects.create(day=date(2026, 1, 1), **row)
    assert constraint in str(exc.value)
