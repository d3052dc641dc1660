"""Reads of the marketing-email module."""

from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import clock
from core.checks import Check
from orders.selectors import gmv_30d
from shops.models import Shop
from shops.selectors import serious_violations

from . import rules


def eligibility_checks(*, shop: Shop, at: datetime | None = None) -> list[Check]:
    """SPEC M-1: shop open long enough, 30-day GMV, store rating, no serious violation."""
    at = at or clock.now()
    checks = []

    min_days = rules.min_shop_age_days()
    age = (at - shop.opened_at).days
    checks.append(
        Check(
            code="m1_shop_age",
            label=_("Shop open for at least %(days)s days") % {"days": min_days},
            passed=age >= min_days,
            measured=_("%(n)s days") % {"n": age},
            required=_("≥ %(n)s days") % {"n": min_days},
        )
    )

    # GMV compared as integer minor units of one currency (never floats).
    threshold = rules.min_gmv_30d()
    gmv = gmv_30d(shop=shop, at=at)
    if gmv.currency == threshold.currency:
        ok = gmv >= threshold
        checks.append(
            Check(
                code="m1_gmv",
                label=_("30-day GMV"),
                passed=ok,
                measured=gmv.format(),
                required=f"≥ {threshold.format()}",
                detail=""
                if ok
                else _("%(short)s more GMV needed") % {"short": (threshold - gmv).format()},
            )
        )
    else:
        # No exchange-rate table is available to this module yet: say so rather than guess.
        checks.append(
            Check(
                code="m1_gmv",
                label=_("30-day GMV"),
                passed=None,
                measured=gmv.format(),
                required=f"≥ {threshold.format()}",
                detail=_(
                    "No %(from)s→%(to)s exchange rate is configured, "
                    "so this cannot be compared yet."
                )
                % {"from": gmv.currency, "to": threshold.currency},
            )
        )

    min_rating = rules.min_store_rating()
    checks.append(
        Check(
            code="m1_store_rating",
            label=_("Store rating"),
            passed=shop.store_rating >= min_rating,
            measured=f"{shop.store_rating:.2f}",
            required=f"≥ {min_rating}",
        )
    )

    window = rules.violation_window_days()
    n = serious_violations(shop=shop, days=window, at=at)
    checks.append(
        Check(
            code="m1_violations",
            label=_("No serious violation in the last %(days)s days") % {"days": window},
            passed=n == 0,
            measured=ngettext("%(n)s serious violation", "%(n)s serious violations", n) % {"n": n},
            required="0",
        )
    )
    return checks
