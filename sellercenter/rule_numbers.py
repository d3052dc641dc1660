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
    "basis_points": ["django.forms.IntegerField", {"min_value": 0, "max_value": 10000}],
    "coin_value": ["django.forms.IntegerField", {"min_value": 1, "max_value": 100}],
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
    "COINS_COIN_VALUE_MINOR": (
        1,
        _("SPEC C-5: value of one coin in minor units of the shop currency (1 coin = ¥0.01 = 1)."),
        "coin_value",
    ),
    "COINS_DEDUCTION_CAP_BP": (
        3000,
        _(
            "SPEC C-3: coin deduction cap per order, basis points of the payable amount before "
            "coins (30% = 3000); also the highest max ratio a product can set."
        ),
        "basis_points",
    ),
    "COINS_DEDUCTION_CAP_MINOR": (
        50_00,
        _("SPEC C-3: coin deduction cap per order, minor units (¥50 = 5000)."),
        "minor_units",
    ),
    "COINS_FUND_DISPLAY_MIN_MINOR": (
        500_00,
        _("SPEC C-4: coin fund needed for coins to show on products, minor units (¥500 = 50000)."),
        "minor_units",
    ),
    "COINS_LOT_LIFETIME_DAYS": (
        180,
        _("SPEC C-6: coins expire this many days after grant."),
        "days",
    ),
    "COINS_REFUND_GRACE_DAYS": (
        30,
        _("SPEC C-8: lifetime of a grace lot for refunded coins already past expiry, days."),
        "days",
    ),
    "AFFILIATE_MIN_STORE_LEVEL": (
        3,
        _("SPEC A-2: minimum store level (1-5) for the affiliate programme."),
        "store_level",
    ),
    "AFFILIATE_RATE_MIN_BP": (
        50,
        _("SPEC A-2: lowest commission rate a shop can set, basis points (0.5% = 50)."),
        "basis_points",
    ),
    "AFFILIATE_RATE_MAX_BP": (
        2000,
        _("SPEC A-2: highest commission rate a shop can set, basis points (20% = 2000)."),
        "basis_points",
    ),
    "AFFILIATE_PID_FREEZE_DAYS": (
        30,
        _("SPEC A-3: a PID with no valid click for this many days is frozen."),
        "days",
    ),
    "AFFILIATE_PID_WARN_DAYS": (
        23,
        _("SPEC A-3: the promoter is warned after this many idle days, before the freeze."),
        "days",
    ),
    "AFFILIATE_ATTRIBUTION_WINDOW_DAYS": (
        7,
        _("SPEC A-5: a click attributes orders placed within this many days."),
        "days",
    ),
    "AFFILIATE_RETURN_WINDOW_DAYS": (
        15,
        _("SPEC A-6: a completed order's commission settles after this many days."),
        "days",
    ),
    "AFFILIATE_PLATFORM_FEE_BP": (
        500,
        _(
            "SPEC A-7: platform commission fee deducted from the commission base, basis points "
            "of the amount paid (5% = 500)."
        ),
        "basis_points",
    ),
    "AFFILIATE_ROUNDING_FLOOR_MINOR": (
        10,
        _(
            "SPEC A-8: a commission under this many minor units rounds to zero unless the "
            "promoter keeps amounts from one cent ($0.10 = 10)."
        ),
        "minor_units",
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
    "Coins (SPEC C-1, C-3 to C-8)": (
        "COINS_OPENING_REGION",
        "COINS_MIN_POSITIVE_RATE",
        "COINS_VIOLATION_WINDOW_DAYS",
        "COINS_COIN_VALUE_MINOR",
        "COINS_DEDUCTION_CAP_BP",
        "COINS_DEDUCTION_CAP_MINOR",
        "COINS_FUND_DISPLAY_MIN_MINOR",
        "COINS_LOT_LIFETIME_DAYS",
        "COINS_REFUND_GRACE_DAYS",
    ),
    "Affiliate (SPEC A-2, A-3, A-5 to A-8)": (
        "AFFILIATE_MIN_STORE_LEVEL",
        "AFFILIATE_RATE_MIN_BP",
        "AFFILIATE_RATE_MAX_BP",
        "AFFILIATE_PID_FREEZE_DAYS",
        "AFFILIATE_PID_WARN_DAYS",
        "AFFILIATE_ATTRIBUTION_WINDOW_DAYS",
        "AFFILIATE_RETURN_WINDOW_DAYS",
        "AFFILIATE_PLATFORM_FEE_BP",
        "AFFILIATE_ROUNDING_FLOOR_MINOR",
    ),
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
