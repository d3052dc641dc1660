from decimal import Decimal, InvalidOperation

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The positive-rate check is "about to fail" within this many points of its minimum.
POSITIVE_RATE_MARGIN = Decimal("1.0")


def home_tile(request, shop):
    """The coin tile: the account's status, coins held by buyers and this month's issuance
    against the ceiling, with warnings (fund below the display minimum, C-4; the ceiling
    reached). A shop without an account sees its opening checks instead (C-1), and a positive
    rate less than ``POSITIVE_RATE_MARGIN`` points above the minimum is a warning. Two queries
    (``report_selectors.tile_state`` and, without an account, the opening checks' figures)."""
    from django.urls import reverse
    from django.utils.translation import gettext

    from core.checks import all_passed
    from core.money import Money
    from core.tiles import SEVERITY_CRITICAL, SEVERITY_WARNING, Attention

    from . import rules
    from .report_selectors import coins_money, tile_state
    from .selectors import opening_checks

    state = tile_state(shop=shop)
    summary = state.summary
    # The opening checks matter until the account is open (it is never closed, C-2): a shop
    # with one sees its coins instead.
    checks = [] if summary is not None else opening_checks(shop=shop, violations=state.violations)
    attention = []
    minimum = rules.min_positive_rate()
    for check in checks:
        if check.code != "c1b_positive_rate" or not check.passed:
            continue
        try:
            rate = Decimal(check.measured.rstrip("%"))
        except InvalidOperation:
            continue
        if rate - minimum < POSITIVE_RATE_MARGIN:
            attention.append(
                Attention(
                    severity=SEVERITY_WARNING,
                    text=gettext(
                        "Your 90-day positive feedback rate is %(rate)s%%, just above the "
                        "%(min)s%% a coin account needs."
                    )
                    % {"rate": rate, "min": minimum},
                    url=reverse("coins:index"),
                    action=gettext("See coin checks"),
                    weight=float(POSITIVE_RATE_MARGIN - (rate - minimum)),
                )
            )
    if summary is not None:
        display_min = rules.fund_display_min_minor()
        available = coins_money(shop, summary.available)
        if summary.account.active and available.amount < display_min:
            attention.append(
                Attention(
                    severity=SEVERITY_WARNING,
                    text=gettext(
                        "Your coin fund holds %(fund)s, below the %(min)s coins need to show "
                        "on your products."
                    )
                    % {
                        "fund": available.format(),
                        "min": Money(display_min, shop.currency).format(),
                    },
                    url=reverse("coins:index"),
                    action=gettext("Top up the coin fund"),
                    weight=float(display_min - available.amount) / max(1, display_min),
                )
            )
        if summary.guardrail.reached:
            attention.append(
                Attention(
                    severity=SEVERITY_CRITICAL,
                    text=gettext(
                        "Coin issuance is paused: this month's ceiling of %(ceiling)s coins is "
                        "reached."
                    )
                    % {"ceiling": summary.guardrail.ceiling},
                    url=reverse("coins:rules"),
                    action=gettext("Raise the ceiling"),
                )
            )
    return {
        "title": gettext("Coins"),
        "icon": "bi-coin",
        "eligible": summary is not None or all_passed(checks),
        "failed": sum(1 for c in checks if c.passed is False),
        "url": reverse("coins:index"),
        "attention": attention,
        "summary": summary,
        "dashboard_url": reverse("coins:dashboard"),
    }


class CoinsConfig(AppConfig):
    name = "coins"
    verbose_name = _("Coins")

    def ready(self) -> None:
        from core import tiles

        from .consumers import register

        tiles.register("coins", order=10, context=home_tile, template="coins/_tile.html")
        register()  # order events and the checkout guard (SPEC C-3, C-7, C-8)
        # Registry numbers read once per request (coins.rules.registry_scope).
        from django.core.signals import request_finished, request_started

        from . import rules

        request_started.connect(rules.request_started, dispatch_uid="coins.registry_scope")
        request_finished.connect(rules.request_finished, dispatch_uid="coins.registry_scope")
        # The order page's coins section (SPEC C-8/C-9), without orders importing coins.
        from orders import panels

        from .views.provenance import order_panel

        panels.register("coins", order=10, context=order_panel, template="coins/_order_panel.html")
