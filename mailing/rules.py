"""SPEC numbers of the marketing-email module (M-1), admin-changeable: the registry is
``settings.CONSTANCE_CONFIG`` (django-constance, database backend; Django admin → Rule numbers)."""

from dataclasses import dataclass
from decimal import Decimal

from constance import config

from core.money import Money


def min_shop_age_days() -> int:
    """SPEC M-1: the shop has been open at least this many days."""
    return int(config.MAILING_MIN_SHOP_AGE_DAYS)


def min_gmv_30d() -> Money:
    """SPEC M-1: minimum 30-day GMV, as Money (integer minor units, never floats)."""
    return Money(int(config.MAILING_MIN_GMV_30D_MINOR), str(config.MAILING_MIN_GMV_30D_CURRENCY))


def min_store_rating() -> Decimal:
    """SPEC M-1: minimum store rating (0-5)."""
    return Decimal(str(config.MAILING_MIN_STORE_RATING))


def violation_window_days() -> int:
    """SPEC M-1 (Decision: M-1 names no window; the C-1 window is used)."""
    return int(config.MAILING_VIOLATION_WINDOW_DAYS)


def dns_recheck_hours() -> int:
    """SPEC M-2: a verified own sender domain is checked again every this many hours."""
    return int(config.MAILING_DNS_RECHECK_HOURS)


def dns_propagation_hours() -> int:
    """SPEC M-10: DNS can take this long; failing domains are re-checked often until then."""
    return int(config.MAILING_DNS_PROPAGATION_HOURS)


def domain_recheck_due(
    *, status: str, last_checked_hours: float | None, failing_hours: float | None
) -> bool:
    """SPEC M-2, M-10: is an own domain due for another DNS check?

    Never checked: yes. Verified: once ``dns_recheck_hours`` have passed. Missing or wrong
    records: at every run while within ``dns_propagation_hours`` of the first failure, then
    like a verified domain (once a recheck period)."""
    if last_checked_hours is None:
        return True
    if (
        status != "verified"
        and failing_hours is not None
        and failing_hours < dns_propagation_hours()
    ):
        return True
    return last_checked_hours >= dns_recheck_hours()


# --- the audience (SPEC M-3, M-4, M-13; B-8) ---------------------------------------------------


def double_opt_in_countries() -> frozenset[str]:
    """SPEC M-3: countries whose recipients need double opt-in (Decision: EU + EEA)."""
    return _countries(config.MAILING_DOUBLE_OPT_IN_COUNTRIES)


def hard_bounce_quarantine_days() -> int:
    """SPEC M-3/M-10: days a hard-bounced address stays suppressed."""
    return int(config.MAILING_HARD_BOUNCE_QUARANTINE_DAYS)


def confirmation_link_days() -> int:
    """SPEC M-3: days a double opt-in confirmation link stays valid."""
    return int(config.MAILING_CONFIRMATION_LINK_DAYS)


def import_max_rows() -> int:
    """SPEC M-13: the most rows one CSV import may hold."""
    return int(config.MAILING_IMPORT_MAX_ROWS)


_AUDIENCE_KEYS = (
    "MAILING_DOUBLE_OPT_IN_COUNTRIES",
    "MAILING_RFM_RECENT_DAYS",
    "MAILING_RFM_LAPSED_DAYS",
    "MAILING_RFM_FREQUENT_ORDERS",
)


@dataclass(frozen=True)
class AudienceNumbers:
    """The numbers one audience query applies (SPEC M-3 countries, B-8 RFM thresholds)."""

    double_opt_in_countries: frozenset[str]
    rfm_recent_days: int
    rfm_lapsed_days: int
    rfm_frequent_orders: int


def _countries(raw: object) -> frozenset[str]:
    return frozenset(c.strip().upper() for c in str(raw).replace("\n", ",").split(",") if c.strip())


def audience_numbers() -> AudienceNumbers:
    """Every number of an audience query, read in one query (the registry's database backend
    reads one row per number otherwise)."""
    backend = config._backend
    stored = dict(backend.mget(list(_AUDIENCE_KEYS))) if hasattr(backend, "mget") else {}
    v = {k: stored[k] if stored.get(k) is not None else getattr(config, k) for k in _AUDIENCE_KEYS}
    return AudienceNumbers(
        double_opt_in_countries=_countries(v["MAILING_DOUBLE_OPT_IN_COUNTRIES"]),
        rfm_recent_days=int(v["MAILING_RFM_RECENT_DAYS"]),
        rfm_lapsed_days=int(v["MAILING_RFM_LAPSED_DAYS"]),
        rfm_frequent_orders=int(v["MAILING_RFM_FREQUENT_ORDERS"]),
    )


# --- dispatch, tracking, health and billing (SPEC M-7 to M-12) -------------------------------


def daily_quota(*, account_age_days: int) -> int:
    """SPEC M-8: 2,000 a day until the mailing account is 30 days old, then 5,000 (Decision:
    "first week 2,000" read as 2,000 until day 30)."""
    if account_age_days < int(config.MAILING_QUOTA_NEW_ACCOUNT_DAYS):
        return int(config.MAILING_QUOTA_NEW_PER_DAY)
    return int(config.MAILING_QUOTA_PER_DAY)


def free_per_month() -> int:
    """SPEC M-9: billable messages free in each calendar month."""
    return int(config.MAILING_FREE_PER_MONTH)


def price_micros() -> int:
    """SPEC M-9: price per message in millionths of ``price_currency()`` ($0.0025 = 2500)."""
    return int(config.MAILING_PRICE_MICROS)


def price_currency() -> str:
    return str(config.MAILING_PRICE_CURRENCY)


def charge_minor(*, count: int, exponent: int) -> int:
    """SPEC M-9: what ``count`` messages cost, in minor units of a currency with ``exponent``
    decimals. Decision: the total is rounded up to the next minor unit (a fraction of a cent is
    charged as a cent once per statement, never per message)."""
    if count <= 0:
        return 0
    micros = count * price_micros()
    per_minor = 10 ** (6 - exponent)
    return -(-micros // per_minor)


def charged_messages(*, billable: int) -> int:
    """SPEC M-9: the messages of a month beyond the free ones."""
    return max(0, billable - free_per_month())


def dedupe_hours() -> int:
    """SPEC M-9: several messages to one buyer within this many hours count as one."""
    return int(config.MAILING_DEDUPE_HOURS)


def retry_max_attempts() -> int:
    return int(config.MAILING_RETRY_MAX_ATTEMPTS)


def retry_delay_seconds(*, attempt: int) -> int:
    """SPEC M-10: soft failures retry with backoff: base, 2×base, 4×base, …"""
    return int(config.MAILING_RETRY_BASE_SECONDS) * 2 ** max(0, attempt - 1)


def claim_stale_seconds() -> int:
    return int(config.MAILING_CLAIM_STALE_SECONDS)


def batch_size() -> int:
    return int(config.MAILING_BATCH_SIZE)


def is_hard_failure(code: int) -> bool:
    """SPEC M-10: a 5xx answer is permanent (the message fails); 4xx is soft (retried)."""
    return 500 <= code < 600


def quarantines(*, code: int, stage: str, enhanced: str = "") -> bool:
    """SPEC M-10 "550 recipient unknown/rejected → address quarantined 30 days": a permanent
    refusal of the *recipient* — a 5xx answer to RCPT TO, or an enhanced status 5.1.x (bad
    destination mailbox or address, RFC 3463) at any stage. Other permanent answers (to MAIL
    FROM: the sender; after DATA: the content, e.g. "554 5.7.1 content rejected") fail the
    message without quarantining the address. ``stage``: "rcpt", "mail", "data" or ""."""
    if not is_hard_failure(code):
        return False
    return stage == "rcpt" or enhanced.startswith("5.1.")


def lint_value_chars() -> int:
    return int(config.MAILING_LINT_VALUE_CHARS)


def lint_max_ctas() -> int:
    return int(config.MAILING_LINT_MAX_CTAS)


def lint_image_share_max() -> Decimal:
    return Decimal(str(config.MAILING_LINT_IMAGE_SHARE_MAX))


def lint_image_text_equivalent() -> int:
    return int(config.MAILING_LINT_IMAGE_TEXT_EQUIVALENT)


def image_share(*, images: int, text_chars: int, weight: int | None = None) -> Decimal:
    """SPEC M-7 (Decision: an image weighs ``lint_image_text_equivalent()`` characters of text):
    the images' share of the message, percent."""
    weight = images * (lint_image_text_equivalent() if weight is None else weight)
    total = weight + max(0, text_chars)
    if total == 0:
        return Decimal(0)
    return (Decimal(weight) * 100 / Decimal(total)).quantize(Decimal("0.1"))


def delivery_rate_min() -> Decimal:
    return Decimal(str(config.MAILING_DELIVERY_RATE_MIN))


def unsubscribe_rate_max() -> Decimal:
    return Decimal(str(config.MAILING_UNSUBSCRIBE_RATE_MAX))


def complaint_rate_max() -> Decimal:
    return Decimal(str(config.MAILING_COMPLAINT_RATE_MAX))


def pause_after_days() -> int:
    return int(config.MAILING_PAUSE_AFTER_DAYS)


def rate(part: int, whole: int) -> Decimal | None:
    """A percentage with 4 decimals, or None when nothing was sent."""
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.0001"))


def day_breaches(*, sent: int, bounced: int, unsubscribed: int, complained: int) -> list[str]:
    """SPEC M-12: which of a day's rates breach: delivery < 85%, unsubscribe > 0.3%,
    complaint > 0.01% (rates of the day's sent messages; a day with nothing sent breaches
    nothing)."""
    if sent <= 0:
        return []
    out = []
    delivered = sent - bounced
    if rate(delivered, sent) < delivery_rate_min():  # type: ignore[operator]
        out.append("delivery")
    if rate(unsubscribed, sent) > unsubscribe_rate_max():  # type: ignore[operator]
        out.append("unsubscribe")
    if rate(complained, sent) > complaint_rate_max():  # type: ignore[operator]
        out.append("complaint")
    return out


def benchmarks() -> dict[str, Decimal]:
    """SPEC M-12: open/click rates of the top 10% and of the industry, percent."""
    return {
        "open_top": Decimal(str(config.MAILING_BENCHMARK_OPEN_TOP)),
        "click_top": Decimal(str(config.MAILING_BENCHMARK_CLICK_TOP)),
        "open_industry": Decimal(str(config.MAILING_BENCHMARK_OPEN_INDUSTRY)),
        "click_industry": Decimal(str(config.MAILING_BENCHMARK_CLICK_INDUSTRY)),
    }


def attribution_days() -> int:
    """SPEC M-11: orders within this many days of a click."""
    return int(config.MAILING_ATTRIBUTION_DAYS)
