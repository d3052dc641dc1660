"""The database refuses what the coin budget and grade services never write (DESIGN §2: the
constraints are the backstop behind the services): SPEC C-7 ceiling, C-8 grant base, C-10
grade rows."""

from datetime import date
from decimal import Decimal

import pytest
from coinkit import coin_shop, give
from django.db import IntegrityError, transaction
from factories import make_buyer, make_shop

from coins.models import CoinBudget, CoinGrade
from core import clock


@pytest.fixture
def rows(db):
    shop = make_shop()
    budget = CoinBudget.objects.create(
        shop=shop, ceiling_coins=10_000, month=date(2026, 11, 1), updated_at=clock.now()
    )
    grade = CoinGrade.objects.create(
        shop=shop,
        month=date(2026, 10, 1),
        grade="B",
        score=Decimal("61.00"),
        issued_coins=40_000,
        redeemed_coins=20_000,
        participation=1,
        computed_at=clock.now(),
    )
    coin_shop(shop, fund=100)
    grant = give(shop, make_buyer(), 10)
    return {"shop": shop, "budget": budget, "grade": grade, "grant": grant}


def _update(obj, **fields):
    type(obj).objects.filter(pk=obj.pk).update(**fields)


def _grade_again(rows, **fields):
    g = rows["grade"]
    CoinGrade.objects.create(
        **{
            "shop": g.shop,
            "month": g.month,
            "grade": "C",
            "score": Decimal("41"),
            "issued_coins": 1,
            "redeemed_coins": 0,
            "participation": 0,
            "computed_at": clock.now(),
            **fields,
        }
    )


CASES = {
    "coin_budget_ceiling_positive": lambda r: _update(r["budget"], ceiling_coins=0),
    "coin_budget_issued_non_negative": lambda r: _update(r["budget"], issued_coins=-1),
    "CoinBudget.shop": lambda r: CoinBudget.objects.create(
        shop=r["shop"], ceiling_coins=5, month=date(2026, 11, 1), updated_at=clock.now()
    ),
    "coin_grade_shop_month_unique": _grade_again,
    "coin_grant_refunded_before_non_negative": lambda r: _update(
        r["grant"], refunded_before_minor=-1
    ),
    "coin_grade_valid": lambda r: _update(r["grade"], grade="E"),
    "coin_grade_inputs_non_negative": lambda r: _update(r["grade"], redeemed_coins=-1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_c7_c8_c10_budget_grant_and_grade_constraints_refuse_violations(rows, name):
    with pytest.raises(IntegrityError), transaction.atomic():
        CASES[name](rows)


def test_c7_c10_the_rows_themselves_are_valid(rows):
    # a ceiling may be removed (None), and a grade row of another month is fine
    _update(rows["budget"], ceiling_coins=None, issued_coins=0)
    _grade_again(rows, month=date(2026, 9, 1))
    assert CoinGrade.objects.filter(shop=rows["shop"]).count() == 2
