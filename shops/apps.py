from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopsConfig(AppConfig):
    name = "shops"
    verbose_name = _("Shops")

    def ready(self) -> None:
        from core import uploads

        from .models import Shop

        # Files a shop owns (core.uploads) are read in that shop only: the current shop of a
        # member (CurrentShopMiddleware), so another shop's file is a 404 like its orders.
        uploads.register_access(Shop, lambda request, shop: getattr(request, "shop", None) == shop)
