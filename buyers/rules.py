"""SPEC numbers of buyer accounts (B-1, B-2, B-5 … B-7), admin-changeable through the registry
(``settings.CONSTANCE_CONFIG``), and the pure ``check_*`` guards that apply them.

The guards take every input as an argument (no clock, no database): the services read the
state and the time, the guards decide. A refusal is a ``DomainError`` with a stable code.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from constance import config
from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import DomainError


class CodeInvalid(DomainError):
    code = "invalid_code"
    http_status = 401  # a one-time code that does not authenticate


class CodeLocked(DomainError):
    code = "code_locked"
    http_status = 429


class ResendTooSoon(DomainError):
    code = "resend_too_soon"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ContactChangeRefused(DomainError):
    code = "contact_change_too_soon"

    def __init__(self, message: str, *, next_allowed_at: datetime) -> None:
        super().__init__(message)
        self.next_allowed_at = next_allowed_at


# --- the numbers ------------------------------------------------------------------------------


def password_min_length() -> int:
    """SPEC B-1: a buyer password has at least this many characters (never below 6)."""
    return max(6, int(config.BUYERS_PASSWORD_MIN_LENGTH))


def code_ttl() -> timedelta:
    """SPEC B-2: a code is valid this long after it was sent."""
    return timedelta(seconds=int(config.BUYERS_CODE_TTL_SECONDS))


def code_max_attempts() -> int:
    """SPEC B-2: attempts per code; the next one is refused, even with the right code."""
    return int(config.BUYERS_CODE_MAX_ATTEMPTS)


def code_resend_after() -> timedelta:
    """SPEC B-2: a new code for the same contact only this long after the last one."""
    return timedelta(seconds=int(config.BUYERS_CODE_RESEND_SECONDS))


def device_max_registrations() -> int:
    """SPEC B-5: registrations allowed from one device in the window; more flags them all."""
    return int(config.BUYERS_DEVICE_MAX_REGISTRATIONS)


def device_window() -> timedelta:
    """SPEC B-5: the device check looks back this far."""
    return timedelta(days=int(config.BUYERS_DEVICE_WINDOW_DAYS))


def low_activity_after() -> timedelta:
    """SPEC B-6: no first payment this long after registration → low activity."""
    return timedelta(hours=int(config.BUYERS_LOW_ACTIVITY_HOURS))


def contact_change_min_gap() -> timedelta:
    """SPEC B-7: time needed since the last email/phone change."""
    return timedelta(days=int(config.BUYERS_CONTACT_CHANGE_MIN_DAYS))


def contact_change_max() -> int:
    """SPEC B-7: changes allowed in any window of ``contact_change_window()``."""
    return int(config.BUYERS_CONTACT_CHANGE_MAX)


def contact_change_window() -> timedelta:
    return timedelta(days=int(config.BUYERS_CONTACT_CHANGE_WINDOW_DAYS))


# Rate limits (core.ratelimit "N/period"), deployment settings rather than SPEC numbers.
def codes_per_contact_rate() -> str:
    return str(settings.SC_BUYER_CODES_PER_CONTACT)


def codes_per_ip_rate() -> str:
    return str(settings.SC_BUYER_CODES_PER_IP)


def code_failures_per_ip_rate() -> str:
    return str(settings.SC_BUYER_CODE_FAILURES_PER_IP)


# --- pure guards ------------------------------------------------------------------------------


def check_code_usable(
    *, created_at: datetime, used_at: datetime | None, attempts: int, now: datetime
) -> None:
    """SPEC B-2: a code is usable while unused, younger than the TTL and with attempts left.

    ``attempts`` counts the tries made *before* this one: with 5 allowed, the 6th try is
    refused even when it carries the right code.
    """
    if attempts >= code_max_attempts():
        raise CodeLocked(
            _("Too many wrong codes: this code no longer works. Request a new one."),
        )
    if used_at is not None:
        raise CodeInvalid(_("This code has already been used. Request a new one."))
    if now - created_at >= code_ttl():
        raise CodeInvalid(_("This code has expired. Request a new one."))


def check_resend_allowed(*, last_sent_at: datetime | None, now: datetime) -> None:
    """SPEC B-2: a new code only ``code_resend_after()`` after the previous one."""
    if last_sent_at is None:
        return
    wait = code_resend_after() - (now - last_sent_at)
    if wait > timedelta(0):
        seconds = int(wait.total_seconds()) + (1 if wait.total_seconds() % 1 else 0)
        raise ResendTooSoon(
            _("Wait %(seconds)s s before asking for a new code.") % {"seconds": seconds},
            retry_after=max(seconds, 1),
        )


def device_flags_all(*, registrations_in_window: int) -> bool:
    """SPEC B-5: more than the allowed registrations from one device flags every one of them."""
    return registrations_in_window > device_max_registrations()


def country_mismatch(*, declared: str, ip_country: str | None) -> bool:
    """SPEC B-4: the declared country differs from the IP's. No IP country → no signal."""
    if not ip_country:
        return False
    return declared.strip().upper() != ip_country.strip().upper()


def low_activity_due(
    *, registered_at: datetime, first_paid_at: datetime | None, now: datetime
) -> bool:
    """SPEC B-6: no first payment within the window after registration."""
    if first_paid_at is not None and first_paid_at - registered_at <= low_activity_after():
        return False
    return now - registered_at >= low_activity_after()


def next_contact_change_at(*, previous_changes: Sequence[datetime], now: datetime) -> datetime:
    """SPEC B-7: the earliest instant a new change is allowed (``now`` when it already is).

    Two limits: ``contact_change_min_gap()`` since the last change, and at most
    ``contact_change_max()`` changes in any ``contact_change_window()``.
    """
    earliest = now
    if not previous_changes:
        return earliest
    ordered = sorted(previous_changes)
    earliest = max(earliest, ordered[-1] + contact_change_min_gap())
    limit = contact_change_max()
    if len(ordered) >= limit:
        # The new change would be the (limit+1)th in a window unless the window has moved
        # past the limit-th most recent one.
        earliest = max(earliest, ordered[-limit] + contact_change_window())
    return earliest


def coupon_priority(*, low_activity: bool) -> str:
    """SPEC B-6: a low-activity buyer gets lower coupon priority (the storefront, which hands
    out the coupons, reads it from the buyer API)."""
    return "low" if low_activity else "normal"


def check_contact_change_allowed(*, previous_changes: Sequence[datetime], now: datetime) -> None:
    allowed_at = next_contact_change_at(previous_changes=previous_changes, now=now)
    if allowed_at > now:
        raise ContactChangeRefused(
            _("You can change your email or phone again from %(date)s UTC.")
            % {"date": f"{allowed_at:%Y-%m-%d %H:%M}"},
            next_allowed_at=allowed_at,
        )
