from django.apps import AppConfig


class SellerCenterConfig(AppConfig):
    name = "sellercenter"
    verbose_name = "Seller Center"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401 - registers the system checks
            landing,  # noqa: F401 - the shop a sign-in lands on
        )
