from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoinsConfig(AppConfig):
    name = "coins"
    verbose_name = _("Coins")

    def ready(self) -> None:
        from .consumers import register

        register()  # order events and the checkout guard (SPEC C-3, C-7, C-8)
