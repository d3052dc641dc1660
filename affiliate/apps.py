from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def home_tile(request, shop):
    """Placeholder tile: the programme's store-level check (no query)."""
    from django.urls import reverse
    from django.utils.translation import gettext

    from core.checks import all_passed

    from .selectors import programme_checks

    checks = programme_checks(shop=shop)
    return {
        "title": gettext("Affiliate"),
        "icon": "bi-people",
        "eligible": all_passed(checks),
        "failed": sum(1 for c in checks if c.passed is False),
        "url": reverse("affiliate:index"),
    }


class AffiliateConfig(AppConfig):
    name = "affiliate"
    verbose_name = _("Affiliate")

    def ready(self):
        from core import tiles

        from .consumers import register

        tiles.register("affiliate", order=20, context=home_tile, template="affiliate/_tile.html")
        register()  # order events: attribution and the commission lifecycle (SPEC)
