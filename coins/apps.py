from decimal import Decimal, InvalidOperation

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The positive-rate check is "about to fail" within this many points of its minimum.
POSITIVE_RATE_MARGIN = Decimal("1.0")


def home_tile(request, shop):
    """Placeholder tile: the coin account's opening checks (two queries), and a warning when
    the positive-rate check passes by less than ``POSITIVE_RATE_MARGIN`` points."""
    from django.urls import reverse
    from django.utils.translation import gettext

    from core.checks import all_passed
    from core.tiles import SEVERITY_WARNING, Attention

    from . import rules
    from .selectors import opening_checks

    checks = opening_checks(shop=shop)
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
    return {
        "title": gettext("Coins"),
        "icon": "bi-coin",
        "eligible": all_passed(checks),
        "failed": sum(1 for c in checks if c.passed is False),
        "url": reverse("coins:index"),
        "attention": attention,
    }


class CoinsConfig(AppConfig):
    name = "coins"
    verbose_name = _("Coins")

    def ready(self) -> None:
        from core import tiles

        from .consumers import register

        tiles.register("coins", order=10, context=home_tile, template="coins/_tile.html")
        register()  # order events and the checkout guard (SPEC C-3, C-7, C-8)
        # The order page's coins section (SPEC C-8/C-9), without orders importing coins.
        from orders import panels

        from .views.provenance import order_panel

        panels.register("coins", order=10, context=order_panel, template="coins/_order_panel.html")
