"""Reads of the affiliate module."""

from django.urls import reverse
from django.utils.translation import gettext as _

from core.checks import Check
from shops.models import Shop

from . import rules


def programme_checks(*, shop: Shop) -> list[Check]:
    """SPEC A-2: a shop can enable its affiliate programme only from a minimum store level."""
    min_level = rules.min_store_level()
    ok = shop.store_level >= min_level
    return [
        Check(
            code="a2_store_level",
            label=_("Store level"),
            passed=ok,
            measured=f"L{shop.store_level}",
            required=f"≥ L{min_level}",
            detail=""
            if ok
            else _("Store level L%(level)s < L%(min)s")
            % {"level": shop.store_level, "min": min_level},
            fix=""
            if ok
            else _(
                "The marketplace raises a shop's level as its sales grow and its service "
                "scores stay high: ship on time and keep cancellations low. Your dashboard "
                "shows the figures that count."
            ),
            fix_url="" if ok else reverse("home"),
            fix_link="" if ok else _("Dashboard"),
        )
    ]
