"""django-constance, shown in Django admin as "Rule numbers" (the registry of DESIGN §7)."""

from constance.apps import ConstanceConfig
from django.utils.translation import gettext_lazy as _


class RuleNumbersConfig(ConstanceConfig):
    verbose_name = _("Rule numbers")
