from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AffiliateConfig(AppConfig):
    name = "affiliate"
    verbose_name = _("Affiliate")
