"""Reads of the coin module."""

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import clock
from core.checks import Check
from orders.selectors import positive_feedback_rate_90d
from shops.models import Region, Shop
from shops.selectors import serious_violations

from . import rules


def opening_checks(*, shop: Shop, at: datetime | None = None) -> list[Check]:
    """SPEC C-1: the automatic checks for opening a coin account, each with its measured value."""
    at = at or clock.now()
    required_region = Region(rules.opening_region())
    min_rate = rules.min_positive_rate()
    window = rules.violation_window_days()

    # (a) registered in mainland China and enterprise-certified.
    region_ok = shop.registration_region == required_region
    checks = [
        Check(
            code="c1a_region",
            label=_("Registered in mainland China"),
            passed=region_ok,
            measured=str(shop.get_registration_region_display()),
            required=str(required_region.label),
            detail=""
            if region_ok
            else _("Coin accounts are open only to shops registered in %(region)s.")
            % {"region": required_region.label},
            fix=""
            if region_ok
            else _(
                "The registration region is set when a shop is registered with the "
                "marketplace: ask marketplace seller support whether your company can register "
                "a shop there."
            ),
        ),
        Check(
            code="c1a_enterprise",
            label=_("Enterprise certification"),
            passed=shop.enterprise_certified,
            measured=_("Certified") if shop.enterprise_certified else _("Not certified"),
            required=_("Certified"),
            detail=""
            if shop.enterprise_certified
            else _("Your shop is not enterprise-certified yet."),
            fix=""
            if shop.enterprise_certified
            else _(
                "Complete enterprise certification in the marketplace's seller settings; "
                "this page updates once the marketplace confirms it."
            ),
        ),
    ]

    # (b) 90-day positive feedback rate >= the minimum.
    rate = positive_feedback_rate_90d(shop=shop, at=at)
    delivered_orders = f"{reverse('orders:list')}?status=delivered"
    if rate is None:
        checks.append(
            Check(
                code="c1b_positive_rate",
                label=_("90-day positive feedback rate"),
                passed=False,
                measured=_("no feedback in 90 days"),
                required=f"≥ {min_rate}%",
                detail=_("A rate cannot be measured without buyer feedback."),
                fix=_(
                    "Ask the buyers of your delivered orders to leave feedback; the rate "
                    "appears with the first review."
                ),
                fix_url=delivered_orders,
                fix_link=_("Delivered orders"),
            )
        )
    else:
        ok = rate >= min_rate
        checks.append(
            Check(
                code="c1b_positive_rate",
                label=_("90-day positive feedback rate"),
                passed=ok,
                measured=f"{rate}%",
                required=f"≥ {min_rate}%",
                detail=""
                if ok
                else _("90-day positive rate %(rate)s%% < %(min)s%%")
                % {"rate": rate, "min": min_rate},
                fix=""
                if ok
                else _(
                    "Contact the buyers of delivered orders who were unhappy, resolve their "
                    "issues, and ship on time: older negative feedback leaves the 90-day window."
                ),
                fix_url="" if ok else delivered_orders,
                fix_link="" if ok else _("Delivered orders"),
            )
        )

    # (c) no serious violation in the window.
    n = serious_violations(shop=shop, days=window, at=at)
    checks.append(
        Check(
            code="c1c_violations",
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


def account_active(*, shop: Shop) -> bool:
    """Whether ``shop`` has a coin account that is active (not paused): SPEC C-10 coin-themed
    activities are open only to those shops (read by the activities module)."""
    from .models import AccountStatus, CoinAccount

    return CoinAccount.objects.filter(shop=shop, status=AccountStatus.ACTIVE).exists()
