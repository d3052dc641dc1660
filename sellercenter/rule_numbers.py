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
    "cover_percent": ["django.forms.IntegerField", {"min_value": 100, "max_value": 1000}],
    "rating": ["django.forms.DecimalField", {"min_value": 0, "max_value": 5, "decimal_places": 2}],
    "factor": ["django.forms.DecimalField", {"min_value": 1, "max_value": 10, "decimal_places": 2}],
    "days": ["django.forms.IntegerField", {"min_value": 1, "max_value": 3650}],
    "working_days": [
        "django.forms.DecimalField",
        {"min_value": Decimal("0.1"), "max_value": 30, "decimal_places": 1},
    ],
    "minor_units": ["django.forms.IntegerField", {"min_value": 0}],
    "basis_points": ["django.forms.IntegerField", {"min_value": 0, "max_value": 10000}],
    "coin_value": ["django.forms.IntegerField", {"min_value": 1, "max_value": 100}],
    "coins": ["django.forms.IntegerField", {"min_value": 1, "max_value": 10**12}],
    "activity_count": ["django.forms.IntegerField", {"min_value": 1, "max_value": 100}],
    "store_level": ["django.forms.IntegerField", {"min_value": 1, "max_value": 5}],
    "seconds": ["django.forms.IntegerField", {"min_value": 1, "max_value": 86400}],
    "hours": ["django.forms.IntegerField", {"min_value": 1, "max_value": 8760}],
    "small_count": ["django.forms.IntegerField", {"min_value": 1, "max_value": 100}],
    "password_length": ["django.forms.IntegerField", {"min_value": 6, "max_value": 128}],
    "region": ["shops.forms.RegionRuleField", {}],
    "currency": ["shops.forms.CurrencyRuleField", {}],
    "categories": ["shops.forms.CategoriesRuleField", {}],
    "count": ["django.forms.IntegerField", {"min_value": 1, "max_value": 100000}],
    "weight": [
        "django.forms.DecimalField",
        {"min_value": 0, "max_value": 1, "decimal_places": 2},
    ],
    "keywords": [
        "django.forms.CharField",
        {"widget": "django.forms.Textarea", "max_length": 4000},
    ],
}

# SPEC E-3: the "not as described" keywords a negative review's text must match, one per line,
# in the languages the buyers write in (matched case- and width-insensitively).
NOT_AS_DESCRIBED_KEYWORDS = "\n".join(
    [
        "not as described",
        "not as pictured",
        "not as advertised",
        "different from the picture",
        "different from the description",
        "wrong item",
        "counterfeit",
        "fake",
        "与描述不符",
        "描述不符",
        "货不对板",
        "与图片不符",
        "假货",
        "pas conforme",
        "ne correspond pas",
        "no es como se describe",
        "no coincide con la descripción",
        "nicht wie beschrieben",
        "entspricht nicht der beschreibung",
        "não corresponde à descrição",
        "non conforme alla descrizione",
        "не соответствует описанию",
        "не как на фото",
        "説明と違う",
        "설명과 다름",
    ]
)
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
    "COINS_INDUSTRY_REDEMPTION_PERCENT": (
        Decimal("63.5"),
        _("SPEC C-5/C-11: industry coin redemption rate shown beside the shop's, percent."),
        "percent",
    ),
    # SPEC C-10: score = volume points + redemption points + participation points (0-100).
    "COINS_GRADE_VOLUME_FULL_COINS": (
        50_000,
        _("SPEC C-10: coins issued in a month that earn all the volume points."),
        "coins",
    ),
    "COINS_GRADE_VOLUME_POINTS": (
        Decimal("50"),
        _("SPEC C-10: grade points for issuance volume (share of the full volume), 0-100."),
        "percent",
    ),
    "COINS_GRADE_REDEMPTION_FULL_PERCENT": (
        Decimal("63.5"),
        _("SPEC C-10: monthly redemption rate that earns all the redemption points, percent."),
        "percent",
    ),
    "COINS_GRADE_REDEMPTION_POINTS": (
        Decimal("35"),
        _("SPEC C-10: grade points for the redemption rate (share of the full rate), 0-100."),
        "percent",
    ),
    "COINS_GRADE_PARTICIPATION_FULL": (
        2,
        _("SPEC C-10: marketing activities joined in a month that earn all participation points."),
        "activity_count",
    ),
    "COINS_GRADE_PARTICIPATION_POINTS": (
        Decimal("15"),
        _("SPEC C-10: grade points for activity participation, 0-100."),
        "percent",
    ),
    "COINS_GRADE_A_MIN_SCORE": (
        Decimal("80"),
        _("SPEC C-10: score (0-100) from which the month's grade is A."),
        "percent",
    ),
    "COINS_GRADE_B_MIN_SCORE": (
        Decimal("60"),
        _("SPEC C-10: score (0-100) from which the month's grade is B."),
        "percent",
    ),
    "COINS_GRADE_C_MIN_SCORE": (
        Decimal("40"),
        _("SPEC C-10: score (0-100) from which the month's grade is C (below: D)."),
        "percent",
    ),
    "COINS_GRADE_A_EXPOSURE_FACTOR": (
        Decimal("1.8"),
        _("SPEC C-10: exposure weight multiplier in the coin channel for grade A."),
        "factor",
    ),
    "COINS_GRADE_A_SEARCH_BOOST_PERCENT": (
        Decimal("12"),
        _("SPEC C-10: extra search weight for grade A, percent."),
        "percent",
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
            "SPEC A-8: a commission under this many US cents rounds to zero unless the "
            "promoter keeps amounts from one cent ($0.10 = 10); converted to the order's "
            "currency at the day's exchange rate."
        ),
        "minor_units",
    ),
    "AFFILIATE_REVIEW_SLA_WORKING_DAYS": (
        Decimal("1.8"),
        _(
            "SPEC A-1: target time for reviewing a promoter's documents, working days (Monday to "
            "Friday, platform time zone)."
        ),
        "working_days",
    ),
    "AFFILIATE_PAYOUT_MIN_MINOR": (
        50_00,
        _(
            "SPEC A-6/A-9 payout batches: a promoter is paid in a batch once its balance reaches "
            "this many minor units ($50 = 5000)."
        ),
        "minor_units",
    ),
    "AFFILIATE_FRAUD_MIN_CLICK_SECONDS": (
        10,
        _(
            "SPEC A-6 fraud hold: an order placed sooner than this many seconds after its click "
            "is held as too fast to be human."
        ),
        "seconds",
    ),
    "AFFILIATE_FRAUD_REFUND_RATE_BP": (
        3000,
        _(
            "SPEC A-6 fraud hold: a PID whose refunded share of paid attributed orders reaches "
            "this, basis points (30% = 3000), has its open commissions held."
        ),
        "basis_points",
    ),
    "AFFILIATE_FRAUD_REFUND_MIN_ORDERS": (
        10,
        _("SPEC A-6 fraud hold: the refund rate of a PID counts from this many paid orders."),
        "small_count",
    ),
    "AFFILIATE_FRAUD_REFUND_WINDOW_DAYS": (
        30,
        _("SPEC A-6 fraud hold: the refund rate counts orders paid within this many days."),
        "days",
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
    "MAILING_DNS_RECHECK_HOURS": (
        24,
        _("SPEC M-2: a verified own sender domain is checked again by DNS every this many hours."),
        "hours",
    ),
    "MAILING_DNS_PROPAGATION_HOURS": (
        48,
        _(
            "SPEC M-10: DNS changes can take this long; until then a domain whose records are "
            "missing or wrong is checked again every quarter of an hour."
        ),
        "hours",
    ),
    # --- Email audience (SPEC M-3, M-4, M-13, B-8) ---
    "MAILING_DOUBLE_OPT_IN_COUNTRIES": (
        "AT,BE,BG,CY,CZ,DE,DK,EE,ES,FI,FR,GR,HR,HU,IE,IT,LT,LU,LV,MT,NL,PL,PT,RO,SE,SI,SK,IS,LI,NO",
        _(
            "SPEC M-3: countries (ISO codes, comma-separated) whose recipients need double "
            "opt-in before marketing (Decision: the EU and EEA states)."
        ),
        "keywords",
    ),
    "MAILING_HARD_BOUNCE_QUARANTINE_DAYS": (
        30,
        _("SPEC M-3, M-10: a hard-bounced address is quarantined this many days."),
        "days",
    ),
    "MAILING_CONFIRMATION_LINK_DAYS": (
        7,
        _("SPEC M-3: a double opt-in confirmation link works this many days."),
        "days",
    ),
    "MAILING_RFM_RECENT_DAYS": (
        30,
        _("SPEC B-8 (Decision): a buyer whose last paid order is this recent is active, days."),
        "days",
    ),
    "MAILING_RFM_LAPSED_DAYS": (
        180,
        _("SPEC B-8 (Decision): a buyer with no paid order for longer is lapsed, days."),
        "days",
    ),
    "MAILING_RFM_FREQUENT_ORDERS": (
        3,
        _("SPEC B-8 (Decision): paid orders that make an active buyer a champion."),
        "small_count",
    ),
    "MAILING_IMPORT_MAX_ROWS": (
        50_000,
        _("SPEC M-13: most rows in one CSV import."),
        "count",
    ),
    "ACTIVITIES_STOCK_COVER_PERCENT": (
        120,
        _(
            "SPEC E-2: stock on hand must be at least this percentage of the activity stock a "
            "SKU commits (in the new activity and the overlapping ones it is still enrolled in)."
        ),
        "cover_percent",
    ),
    "ACTIVITIES_CANCEL_RATE_MAX": (
        Decimal("15"),
        _("SPEC E-3: maximum 30-day rolling cancel rate, percent."),
        "percent",
    ),
    "ACTIVITIES_LATE_SHIPMENT_RATE_MAX": (
        Decimal("20"),
        _("SPEC E-3: maximum 30-day late-shipment rate (no valid tracking within 72 h), percent."),
        "percent",
    ),
    "ACTIVITIES_ANOMALY_RATE_MAX": (
        Decimal("12"),
        _("SPEC E-3: maximum 30-day logistics anomaly rate, percent."),
        "percent",
    ),
    "ACTIVITIES_NEGATIVE_REVIEW_RATE_MAX": (
        Decimal("3.5"),
        _("SPEC E-3: maximum 30-day negative review rate on activity SKUs, percent."),
        "percent",
    ),
    "ACTIVITIES_OFFICIAL_ANOMALY_WEIGHT": (
        Decimal("0.7"),
        _("SPEC E-4: weight of an official-logistics order in the logistics anomaly rate."),
        "weight",
    ),
    "ACTIVITIES_MIN_ORDERS": (
        20,
        _(
            "SPEC E-3a: orders a rate's denominator needs before it is evaluated (below: "
            "not enough orders yet, cannot breach); also the dashboard's cancel-rate alarm."
        ),
        "count",
    ),
    "ACTIVITIES_MIN_REVIEWS": (
        10,
        _("SPEC E-3a: activity reviews the negative review rate needs before it is evaluated."),
        "count",
    ),
    "ACTIVITIES_WINDOW_DAYS": (
        30,
        _("SPEC E-3: the rolling window of the metrics, natural days."),
        "days",
    ),
    "ACTIVITIES_WARNING_SHARE": (
        Decimal("80"),
        _("SPEC E-6: early warning from this share of a threshold, percent."),
        "percent",
    ),
    "ACTIVITIES_NOT_AS_DESCRIBED_KEYWORDS": (
        NOT_AS_DESCRIBED_KEYWORDS,
        _(
            'SPEC E-3: "not as described" keywords, one per line, any language; a review rated '
            "2 or lower whose text contains one is negative. Applies to reviews posted after "
            "the change (rebuild the daily figures to apply it to older ones)."
        ),
        "keywords",
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
    "ACTIVITIES_REENROL_CANCEL_RATE_MAX": (
        Decimal("5"),
        _("SPEC E-8: cancel rate a breached shop must hold to re-enrol, percent."),
        "percent",
    ),
    "ACTIVITIES_REENROL_LATE_SHIPMENT_RATE_MAX": (
        Decimal("5"),
        _("SPEC E-8: late-shipment rate a breached shop must hold to re-enrol, percent."),
        "percent",
    ),
    "ACTIVITIES_REENROL_ANOMALY_RATE_MAX": (
        Decimal("4"),
        _("SPEC E-8: logistics anomaly rate a breached shop must hold to re-enrol, percent."),
        "percent",
    ),
    "ACTIVITIES_REENROL_NEGATIVE_REVIEW_RATE_MAX": (
        Decimal("1"),
        _("SPEC E-8: negative review rate a breached shop must hold to re-enrol, percent."),
        "percent",
    ),
    "ACTIVITIES_REENROL_DAYS": (
        5,
        _("SPEC E-8: consecutive natural days the recovered rate must hold."),
        "days",
    ),
    "ACTIVITIES_POSTMORTEM_HOURS": (
        48,
        _(
            "SPEC E-7: hours after a forced exit (or a rejection, or a reopening) within which "
            "the seller files the post-mortem."
        ),
        "hours",
    ),
    "ACTIVITIES_APPEAL_HOURS": (
        72,
        _("SPEC E-7: hours after a forced exit within which the seller may open an appeal."),
        "hours",
    ),
    "ACTIVITIES_REVIEW_TARGET_HOURS": (
        48,
        _("SPEC E-7: the platform's target for deciding a post-mortem or an appeal, hours."),
        "hours",
    ),
    "ACTIVITIES_REPORT_HOURS": (
        72,
        _(
            "SPEC E-6: hours after an activity ends until its review report is final (refunds "
            "up to then count as returns)."
        ),
        "hours",
    ),
    "ACTIVITIES_SNAPSHOT_RETENTION_DAYS": (
        14,
        _(
            "SPEC E-3/E-5: natural days hourly metric snapshots are kept (the snapshots of an "
            "exit are kept for ever; never fewer than the E-8 re-enrolment days + 2)."
        ),
        "days",
    ),
    "BUYERS_PASSWORD_MIN_LENGTH": (
        6,
        _("SPEC B-1: minimum buyer password length, characters (6 or more)."),
        "password_length",
    ),
    "BUYERS_CODE_TTL_SECONDS": (
        300,
        _("SPEC B-2: a verification code is valid this many seconds."),
        "seconds",
    ),
    "BUYERS_CODE_MAX_ATTEMPTS": (
        5,
        _("SPEC B-2: attempts allowed per verification code."),
        "small_count",
    ),
    "BUYERS_CODE_RESEND_SECONDS": (
        60,
        _("SPEC B-2: a new code may be requested this many seconds after the last one."),
        "seconds",
    ),
    "BUYERS_DEVICE_MAX_REGISTRATIONS": (
        3,
        _("SPEC B-5: registrations from one device allowed in the window; more flags them all."),
        "small_count",
    ),
    "BUYERS_DEVICE_WINDOW_DAYS": (
        30,
        _("SPEC B-5: device check window, days."),
        "days",
    ),
    "BUYERS_LOW_ACTIVITY_HOURS": (
        72,
        _("SPEC B-6: no first payment this many hours after registration flags low activity."),
        "hours",
    ),
    "BUYERS_CONTACT_CHANGE_MIN_DAYS": (
        7,
        _("SPEC B-7: days needed since the last email/phone change."),
        "days",
    ),
    "BUYERS_CONTACT_CHANGE_MAX": (
        2,
        _("SPEC B-7: email/phone changes allowed in the window below."),
        "small_count",
    ),
    "BUYERS_CONTACT_CHANGE_WINDOW_DAYS": (
        180,
        _("SPEC B-7: window of the change limit above, days."),
        "days",
    ),
    # --- Email dispatch, tracking, health and billing (SPEC M-6 to M-12) ---
    "MAILING_QUOTA_NEW_PER_DAY": (
        2000,
        _("SPEC M-8: messages per natural day while the mailing account is younger than below."),
        "count",
    ),
    "MAILING_QUOTA_NEW_ACCOUNT_DAYS": (
        30,
        _("SPEC M-8: age of the mailing account (days since enabling) for the full quota."),
        "days",
    ),
    "MAILING_QUOTA_PER_DAY": (
        5000,
        _("SPEC M-8: messages per natural day from that age on."),
        "count",
    ),
    "MAILING_FREE_PER_MONTH": (
        5000,
        _("SPEC M-9: billable messages free in each calendar month."),
        "count",
    ),
    "MAILING_PRICE_MICROS": (
        2500,
        _(
            "SPEC M-9: price of a message beyond the free ones, millionths of the currency below "
            "($0.0025 = 2500)."
        ),
        "minor_units",
    ),
    "MAILING_PRICE_CURRENCY": (
        "USD",
        _("SPEC M-9: currency of the message price (ISO 4217; the shop's balance currency)."),
        "currency",
    ),
    "MAILING_DEDUPE_HOURS": (
        24,
        _("SPEC M-9: messages to one buyer within this many hours are billed as one."),
        "hours",
    ),
    "MAILING_RETRY_MAX_ATTEMPTS": (
        5,
        _("SPEC M-10: attempts of a soft failure (4xx) before it is given up."),
        "small_count",
    ),
    "MAILING_RETRY_BASE_SECONDS": (
        60,
        _("SPEC M-10: first retry delay of a soft failure, seconds; doubled at each attempt."),
        "seconds",
    ),
    "MAILING_CLAIM_STALE_SECONDS": (
        900,
        _(
            "SPEC M-10: a claim older than this many seconds belongs to a dead worker (must exceed "
            "the task time limit)."
        ),
        "seconds",
    ),
    "MAILING_BATCH_SIZE": (
        200,
        _("SPEC M-10: messages one worker claims and sends per batch."),
        "count",
    ),
    "MAILING_LINT_VALUE_CHARS": (
        50,
        _("SPEC M-7: the value proposition must appear within this many characters."),
        "small_count",
    ),
    "MAILING_LINT_MAX_CTAS": (
        2,
        _("SPEC M-7: most call-to-action buttons in a message."),
        "small_count",
    ),
    "MAILING_LINT_IMAGE_SHARE_MAX": (
        Decimal("60"),
        _("SPEC M-7: image share of the message must stay under this percentage."),
        "percent",
    ),
    "MAILING_LINT_IMAGE_TEXT_EQUIVALENT": (
        400,
        _("SPEC M-7: characters of text one image weighs when the image share is measured."),
        "count",
    ),
    "MAILING_DELIVERY_RATE_MIN": (
        Decimal("85"),
        _("SPEC M-12: daily delivery rate below this percentage is a breach."),
        "percent",
    ),
    "MAILING_UNSUBSCRIBE_RATE_MAX": (
        Decimal("0.3"),
        _("SPEC M-12: daily unsubscribe rate above this percentage is a breach."),
        "percent",
    ),
    "MAILING_COMPLAINT_RATE_MAX": (
        Decimal("0.01"),
        _("SPEC M-12: daily complaint rate above this percentage is a breach."),
        "percent",
    ),
    "MAILING_PAUSE_AFTER_DAYS": (
        3,
        _("SPEC M-12: consecutive breach days that pause sending automatically."),
        "small_count",
    ),
    "MAILING_BENCHMARK_OPEN_TOP": (
        Decimal("42.3"),
        _("SPEC M-12: open rate of the top tenth of shops, shown beside a shop's own, percent."),
        "percent",
    ),
    "MAILING_BENCHMARK_CLICK_TOP": (
        Decimal("12.1"),
        _("SPEC M-12: click rate of the top tenth of shops, percent."),
        "percent",
    ),
    "MAILING_BENCHMARK_OPEN_INDUSTRY": (
        Decimal("31.8"),
        _("SPEC M-12: industry open rate, percent."),
        "percent",
    ),
    "MAILING_BENCHMARK_CLICK_INDUSTRY": (
        Decimal("8.9"),
        _("SPEC M-12: industry click rate, percent."),
        "percent",
    ),
    "MAILING_ATTRIBUTION_DAYS": (
        7,
        _("SPEC M-11: an order within this many days of a click is the campaign's."),
        "days",
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
        "COINS_INDUSTRY_REDEMPTION_PERCENT",
    ),
    "Coin grade (SPEC C-10)": (
        "COINS_GRADE_VOLUME_FULL_COINS",
        "COINS_GRADE_VOLUME_POINTS",
        "COINS_GRADE_REDEMPTION_FULL_PERCENT",
        "COINS_GRADE_REDEMPTION_POINTS",
        "COINS_GRADE_PARTICIPATION_FULL",
        "COINS_GRADE_PARTICIPATION_POINTS",
        "COINS_GRADE_A_MIN_SCORE",
        "COINS_GRADE_B_MIN_SCORE",
        "COINS_GRADE_C_MIN_SCORE",
        "COINS_GRADE_A_EXPOSURE_FACTOR",
        "COINS_GRADE_A_SEARCH_BOOST_PERCENT",
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
        "AFFILIATE_REVIEW_SLA_WORKING_DAYS",
        "AFFILIATE_PAYOUT_MIN_MINOR",
        "AFFILIATE_FRAUD_MIN_CLICK_SECONDS",
        "AFFILIATE_FRAUD_REFUND_RATE_BP",
        "AFFILIATE_FRAUD_REFUND_MIN_ORDERS",
        "AFFILIATE_FRAUD_REFUND_WINDOW_DAYS",
    ),
    "Email marketing (SPEC M-1, M-2, M-10)": (
        "MAILING_MIN_SHOP_AGE_DAYS",
        "MAILING_MIN_GMV_30D_MINOR",
        "MAILING_MIN_GMV_30D_CURRENCY",
        "MAILING_MIN_STORE_RATING",
        "MAILING_VIOLATION_WINDOW_DAYS",
        "MAILING_DNS_RECHECK_HOURS",
        "MAILING_DNS_PROPAGATION_HOURS",
    ),
    "Email audience (SPEC M-3, M-4, M-13, B-8)": (
        "MAILING_DOUBLE_OPT_IN_COUNTRIES",
        "MAILING_HARD_BOUNCE_QUARANTINE_DAYS",
        "MAILING_CONFIRMATION_LINK_DAYS",
        "MAILING_RFM_RECENT_DAYS",
        "MAILING_RFM_LAPSED_DAYS",
        "MAILING_RFM_FREQUENT_ORDERS",
        "MAILING_IMPORT_MAX_ROWS",
    ),
    "Activities (SPEC E-2 to E-4, E-7, E-8)": (
        "ACTIVITIES_STOCK_COVER_PERCENT",
        "ACTIVITIES_CANCEL_RATE_MAX",
        "ACTIVITIES_LATE_SHIPMENT_RATE_MAX",
        "ACTIVITIES_ANOMALY_RATE_MAX",
        "ACTIVITIES_NEGATIVE_REVIEW_RATE_MAX",
        "ACTIVITIES_OFFICIAL_ANOMALY_WEIGHT",
        "ACTIVITIES_MIN_ORDERS",
        "ACTIVITIES_MIN_REVIEWS",
        "ACTIVITIES_WINDOW_DAYS",
        "ACTIVITIES_WARNING_SHARE",
        "ACTIVITIES_NOT_AS_DESCRIBED_KEYWORDS",
        "ACTIVITIES_RELAXED_CATEGORIES",
        "ACTIVITIES_RELAXATION_FACTOR",
        "ACTIVITIES_REENROL_MIN_DSR",
        "ACTIVITIES_REENROL_CANCEL_RATE_MAX",
        "ACTIVITIES_REENROL_LATE_SHIPMENT_RATE_MAX",
        "ACTIVITIES_REENROL_ANOMALY_RATE_MAX",
        "ACTIVITIES_REENROL_NEGATIVE_REVIEW_RATE_MAX",
        "ACTIVITIES_REENROL_DAYS",
        "ACTIVITIES_POSTMORTEM_HOURS",
        "ACTIVITIES_APPEAL_HOURS",
        "ACTIVITIES_REVIEW_TARGET_HOURS",
        "ACTIVITIES_REPORT_HOURS",
        "ACTIVITIES_SNAPSHOT_RETENTION_DAYS",
    ),
    "Buyer accounts (SPEC B-1, B-2, B-5 to B-7)": (
        "BUYERS_PASSWORD_MIN_LENGTH",
        "BUYERS_CODE_TTL_SECONDS",
        "BUYERS_CODE_MAX_ATTEMPTS",
        "BUYERS_CODE_RESEND_SECONDS",
        "BUYERS_DEVICE_MAX_REGISTRATIONS",
        "BUYERS_DEVICE_WINDOW_DAYS",
        "BUYERS_LOW_ACTIVITY_HOURS",
        "BUYERS_CONTACT_CHANGE_MIN_DAYS",
        "BUYERS_CONTACT_CHANGE_MAX",
        "BUYERS_CONTACT_CHANGE_WINDOW_DAYS",
    ),
    "Email dispatch, health and billing (SPEC M-7 to M-12)": (
        "MAILING_QUOTA_NEW_PER_DAY",
        "MAILING_QUOTA_NEW_ACCOUNT_DAYS",
        "MAILING_QUOTA_PER_DAY",
        "MAILING_FREE_PER_MONTH",
        "MAILING_PRICE_MICROS",
        "MAILING_PRICE_CURRENCY",
        "MAILING_DEDUPE_HOURS",
        "MAILING_RETRY_MAX_ATTEMPTS",
        "MAILING_RETRY_BASE_SECONDS",
        "MAILING_CLAIM_STALE_SECONDS",
        "MAILING_BATCH_SIZE",
        "MAILING_LINT_VALUE_CHARS",
        "MAILING_LINT_MAX_CTAS",
        "MAILING_LINT_IMAGE_SHARE_MAX",
        "MAILING_LINT_IMAGE_TEXT_EQUIVALENT",
        "MAILING_DELIVERY_RATE_MIN",
        "MAILING_UNSUBSCRIBE_RATE_MAX",
        "MAILING_COMPLAINT_RATE_MAX",
        "MAILING_PAUSE_AFTER_DAYS",
        "MAILING_BENCHMARK_OPEN_TOP",
        "MAILING_BENCHMARK_CLICK_TOP",
        "MAILING_BENCHMARK_OPEN_INDUSTRY",
        "MAILING_BENCHMARK_CLICK_INDUSTRY",
        "MAILING_ATTRIBUTION_DAYS",
    ),
}
