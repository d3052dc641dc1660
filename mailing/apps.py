from decimal import Decimal

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The store-rating check is "about to fail" within this much of its minimum.
STORE_RATING_MARGIN = Decimal("0.10")


def home_tile(request, shop):
    """Placeholder tile: the marketing-email eligibility checks (two queries), and a warning
    when the store rating passes by less than ``STORE_RATING_MARGIN``."""
    from django.urls import reverse
    from django.utils.translation import gettext

    from core.checks import all_passed
    from core.tiles import SEVERITY_WARNING, Attention

    from . import rules
    from .selectors import eligibility_checks

    checks = eligibility_checks(shop=shop)
    attention = []
    minimum = rules.min_store_rating()
    if minimum <= shop.store_rating < minimum + STORE_RATING_MARGIN:
        attention.append(
            Attention(
                severity=SEVERITY_WARNING,
                text=gettext(
                    "Your store rating is %(rating)s, just above the %(min)s marketing emails need."
                )
                % {"rating": f"{shop.store_rating:.2f}", "min": f"{minimum:.2f}"},
                url=reverse("mailing:index"),
                action=gettext("See email checks"),
                weight=float(STORE_RATING_MARGIN - (shop.store_rating - minimum)),
            )
        )
    return {
        "title": gettext("Marketing emails"),
        "icon": "bi-envelope",
        "eligible": all_passed(checks),
        "failed": sum(1 for c in checks if c.passed is False),
        "url": reverse("mailing:index"),
        "attention": attention,
    }


class MailingConfig(AppConfig):
    name = "mailing"
    verbose_name = _("Mailing")

    def ready(self):
        from core import tiles

        from .consumers import register

        tiles.register("mailing", order=30, context=home_tile, template="mailing/_tile.html")
        register()  # order events: orders within 7 days of a click (SPEC M-11)
