"""The monthly coin-activity grade (SPEC C-10): computed from the month's issuance, redemption
and activity participation by ``rules.grade_for`` and stored per shop and month."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction

from core import clock
from shops.models import Shop

from .. import rules
from ..models import CoinAccount, CoinGrade
from ..report_selectors import grade_inputs


def previous_month(at=None) -> date:
    first = clock.natural_day(at).replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


@transaction.atomic
def grade_compute(*, shop: Shop, month: date) -> CoinGrade:
    """Compute and store ``shop``'s grade for ``month`` (a first day of month); running it
    again for the same month rewrites the same row (UNIQUE (shop, month))."""
    month = month.replace(day=1)
    inputs = grade_inputs(shop=shop, month=month)
    result = rules.grade_for(
        issued_coins=inputs.issued,
        redeemed_coins=inputs.redeemed,
        participation=inputs.participation,
        numbers=rules.grade_numbers(),
    )
    grade, _created = CoinGrade.objects.update_or_create(
        shop=shop,
        month=month,
        defaults={
            "grade": result.grade,
            "score": result.score,
            "issued_coins": inputs.issued,
            "redeemed_coins": inputs.redeemed,
            "participation": inputs.participation,
            "computed_at": clock.now(),
        },
    )
    return grade


def grades_compute(*, month: date | None = None) -> int:
    """Every shop with a coin account gets its grade for ``month`` (default: the calendar
    month that just ended). Each shop is its own transaction; returns how many were stored."""
    month = month or previous_month()
    n = 0
    for account in CoinAccount.objects.select_related("shop").order_by("pk").iterator():
        grade_compute(shop=account.shop, month=month)
        n += 1
    return n
