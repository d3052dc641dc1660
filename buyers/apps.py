from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def home_tile(request, shop):
    """The shop's recent customers flagged by the buyer checks (one query)."""
    from django.urls import reverse
    from django.utils.translation import gettext

    from .selectors import customers_to_watch

    return {
        "title": gettext("Buyers to watch"),
        "icon": "bi-person-exclamation",
        "watch": customers_to_watch(shop=shop),
        "url": reverse("orders:list"),
    }


class BuyersConfig(AppConfig):
    name = "buyers"
    verbose_name = _("Buyers")

    def ready(self) -> None:
        from core import tiles

        from .consumers import register

        tiles.register("buyers", order=50, context=home_tile, template="buyers/_tile.html")
        register()  # SPEC B-6: first payments from the order event log
