"""Reads of the activities module."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _

from core.checks import Check
from orders.selectors import cancel_rate_30d
from shops.models import LogisticsSetting, Shop
from shops.selectors import carriers_for_shop, usable_carriers

from . import rules


def relaxation_factor(*, shop: Shop) -> Decimal:
    """SPEC E-4: shops in the relaxed main categories get thresholds ×1.1."""
    if shop.main_category in rules.relaxed_categories():
        return rules.relaxation_factor()
    return Decimal(1)


@dataclass(frozen=True)
class ActivitiesOverview:
    cancel_rate: Decimal | None
    cancel_threshold: Decimal
    relaxed: bool
    cancel_check: Check
    carriers: list[LogisticsSetting]
    carrier_check: Check


def overview(*, shop: Shop, at: datetime | None = None) -> ActivitiesOverview:
    """SPEC E-3 cancel rate against its threshold, and SPEC E-2 certified carriers."""
    factor = relaxation_factor(shop=shop)
    threshold = (rules.cancel_rate_max() * factor).quantize(Decimal("0.1"))
    rate = cancel_rate_30d(shop=shop, at=at)
    if rate is None:
        cancel_check = Check(
            code="e3_cancel_rate",
            label=_("30-day cancel rate"),
            passed=True,
            measured=_("no orders in 30 days"),
            required=f"≤ {threshold}%",
        )
    else:
        ok = rate <= threshold
        cancel_check = Check(
            code="e3_cancel_rate",
            label=_("30-day cancel rate"),
            passed=ok,
            measured=f"{rate}%",
            required=f"≤ {threshold}%",
            detail=""
            if ok
            else _(
                "Cancel rate %(rate)s%% > %(max)s%%: a breach on two consecutive days exits "
                "the shop from every running activity."
            )
            % {"rate": rate, "max": threshold},
            fix=""
            if ok
            else _(
                "Look into your cancelled orders (out of stock? slow shipping?), keep stock "
                "up to date and ship paid orders on time; the rate covers the last 30 days."
            ),
            fix_url="" if ok else f"{reverse('orders:list')}?status=cancelled",
            fix_link="" if ok else _("Cancelled orders"),
        )
    carriers = carriers_for_shop(shop=shop)
    usable = usable_carriers(shop=shop, carriers=carriers)
    carrier_check = Check(
        code="e2_certified_carrier",
        label=_("A certified carrier enabled in logistics settings"),
        passed=bool(usable),
        measured=", ".join(str(c.get_carrier_display()) for c in usable) or _("none"),
        required=_("at least one"),
        detail=""
        if usable
        else _("Activities accept only shops that ship with a certified carrier."),
        fix=""
        if usable
        else _(
            "Enable a certified carrier (such as AliExpress Standard Shipping) in your "
            "marketplace logistics settings before enrolling SKUs in an activity."
        ),
    )
    return ActivitiesOverview(
        cancel_rate=rate,
        cancel_threshold=threshold,
        relaxed=factor != 1,
        cancel_check=cancel_check,
        carriers=carriers,
        carrier_check=carrier_check,
    )
