"""The registry of admin-changeable rule numbers (DESIGN §7; SPEC: "a rule's numbers are defaults
that a platform admin can change"). django-constance reads it (``settings.CONSTANCE_*``); values are
stored in its database table, edited in Django admin → "Rule numbers", and read in code only
through each module's ``rules.py`` (``coins.rules.min_positive_rate()``, …).

Each entry: name → (default, help text naming the unit and the SPEC rule, field type). The field
types validate an admin's edit (a percentage 0-100, a day count ≥ 1, a known category, …).
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

CONSTANCE_ADDITIONAL_FIELDS = {
    "percent": [
        "django.forms.DecimalField",
        {"min_value": 0, "max_value": 100, "decimal_places": 2},
    ],
    "rating": ["django.forms.DecimalField", {"min_value": 0, "max_value": 5, "decimal_places": 2}],
    "factor": ["django.forms.DecimalField", {"min_value": 1, "max_value": 10, "decimal_places": 2}],
    "days": ["django.forms.IntegerField", {"min_value": 1, "max_value": 3650}],
    "minor_units": ["django.forms.IntegerField", {"min_value": 0}],
    "store_level": ["django.forms.IntegerField", {"min_value": 1, "max_value": 5}],
    "region": ["shops.forms.RegionRuleField", {}],
    "currency": ["shops.forms.CurrencyRuleField", {}],
    "categories": ["shops.forms.CategoriesRuleField", {}],
}
CONSTANCE_CONFIG = {
    # name: (default, help text with unit and SPEC id, field type)
    "COINS_OPENING_REGION": (
        "CN",
        _("SPEC C-1(a): registration region a shop needs (code)."),
        "region",
    ),
    "COINS_MIN_POSITIVE_RATE": (
        Decimal("95"),
        _("SPEC C-1(b): minimum 90-day positive feedback rate, percent."),
        "percent",
    ),
    "COINS_VIOLATION_WINDOW_DAYS": (
        30,
        _("SPEC C-1(c): no serious violation in this many days."),
        "days",
    ),
    "AFFILIATE_MIN_STORE_LEVEL": (
        3,
        _("SPEC A-2: minimum store level (1-5) for the affiliate programme."),
        "store_level",
    ),
    "MAILING_MIN_SHOP_AGE_DAYS": (90, _("SPEC M-1: minimum shop age, days."), "days"),
    "MAILING_MIN_GMV_30D_MINOR": (
        5_000_00,
        _("SPEC M-1: minimum 30-day GMV, minor units of the currency below ($5,000 = 500000)."),
        "minor_units",
    ),
    "MAILING_MIN_GMV_30D_CURRENCY": (
        "USD",
        _("SPEC M-1: currency of the 30-day GMV threshold (ISO 4217)."),
        "currency",
    ),
    "MAILING_MIN_STORE_RATING": (
        Decimal("4.7"),
        _("SPEC M-1: minimum store rating (0-5)."),
        "rating",
    ),
    "MAILING_VIOLATION_WINDOW_DAYS": (
        30,
        _("SPEC M-1: no serious violation in this many days (Decision: the C-1 window)."),
        "days",
    ),
    "ACTIVITIES_CANCEL_RATE_MAX": (
        Decimal("15"),
        _("SPEC E-3: maximum 30-day rolling cancel rate, percent."),
        "percent",
    ),
    "ACTIVITIES_RELAXED_CATEGORIES": (
        "home_garden,auto_moto,digital_accessories",
        _("SPEC E-4: main categories whose thresholds are relaxed (comma-separated codes)."),
        "categories",
    ),
    "ACTIVITIES_RELAXATION_FACTOR": (
        Decimal("1.1"),
        _("SPEC E-4: threshold multiplier for the relaxed categories."),
        "factor",
    ),
    "ACTIVITIES_REENROL_MIN_DSR": (
        Decimal("4.7"),
        _("SPEC E-8: DSR score (0-5) needed to re-enrol."),
        "rating",
    ),
}
CONSTANCE_CONFIG_FIELDSETS = {  # plain strings: dict keys are hashed at import
    "Coins (SPEC C-1)": (
        "COINS_OPENING_REGION",
        "COINS_MIN_POSITIVE_RATE",
        "COINS_VIOLATION_WINDOW_DAYS",
    ),
    "Affiliate (SPEC A-2)": ("AFFILIATE_MIN_STORE_LEVEL",),
    "Email marketing (SPEC M-1)": (
        "MAILING_MIN_SHOP_AGE_DAYS",
        "MAILING_MIN_GMV_30D_MINOR",
        "MAILING_MIN_GMV_30D_CURRENCY",
        "MAILING_MIN_STORE_RATING",
        "MAILING_VIOLATION_WINDOW_DAYS",
    ),
    "Activities (SPEC E-3, E-4, E-8)": (
        "ACTIVITIES_CANCEL_RATE_MAX",
        "ACTIVITIES_RELAXED_CATEGORIES",
        "ACTIVITIES_RELAXATION_FACTOR",
        "ACTIVITIES_REENROL_MIN_DSR",
    ),
}
