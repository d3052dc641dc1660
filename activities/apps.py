from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def home_tile(request, shop):
    """Placeholder tile: the activities standing, cancel rate and certified carrier (two
    queries). The cancel-rate headroom is on the dashboard's needs-attention panel."""
    from django.urls import reverse
    from django.utils.translation import gettext

    from .selectors import overview

    ov = overview(shop=shop)
    checks = [ov.cancel_check, ov.carrier_check]
    return {
        "title": gettext("Activities"),
        "icon": "bi-lightning-charge",
        "eligible": all(c.passed is True for c in checks),
        "failed": sum(1 for c in checks if c.passed is False),
        "url": reverse("activities:index"),
    }


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = _("Activities")

    def ready(self):
        from core import tiles

        tiles.register("activities", order=40, context=home_tile, template="activities/_tile.html")
