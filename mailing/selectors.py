"""Reads of the marketing-email module."""

from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import formats, timezone
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
    old_enough = age >= min_days
    ready_on = timezone.localtime(shop.opened_at + timedelta(days=min_days), clock.platform_tz())
    checks.append(
        Check(
            code="m1_shop_age",
            label=_("Shop open for at least %(days)s days") % {"days": min_days},
            passed=old_enough,
            measured=ngettext("%(n)s day", "%(n)s days", age)
            % {"n": formats.number_format(age, force_grouping=True)},
            required=_("≥ %(n)s days")
            % {"n": formats.number_format(min_days, force_grouping=True)},
            fix=""
            if old_enough
            else _("Nothing to do but wait: your shop meets this condition on %(date)s.")
            % {"date": formats.date_format(ready_on, "DATE_FORMAT")},
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
                fix=""
                if ok
                else _(
                    "Grow your sales: join a marketing activity such as a Flash Deal or a "
                    "coupon event to bring more buyers to your products."
                ),
                fix_url="" if ok else reverse("activities:index"),
                fix_link="" if ok else _("Marketing activities"),
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
                fix=_(
                    "Ask the platform team to configure the exchange rate; the check then "
                    "runs on its own."
                ),
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
            fix=""
            if shop.store_rating >= min_rating
            else _(
                "Your rating follows your buyers' reviews: ship paid orders on time and answer "
                "buyers quickly."
            ),
            fix_url=""
            if shop.store_rating >= min_rating
            else f"{reverse('orders:list')}?status=paid",
            fix_link="" if shop.store_rating >= min_rating else _("Orders waiting to ship"),
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
            fix=""
            if n == 0
            else ngettext(
                "This condition passes again once the violation is older than %(days)s days; "
                "if it was recorded in error, appeal it with marketplace seller support.",
                "This condition passes again once the violations are older than %(days)s days; "
                "if one was recorded in error, appeal it with marketplace seller support.",
                n,
            )
            % {"days": window},
        )
    )
    return checks


# The audience's reads live in selectors_audience; the suppression check is asked for here too.
from .selectors_audience import is_suppressed  # noqa: E402, F401
