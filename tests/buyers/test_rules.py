"""The pure guards of buyer accounts (SPEC B-1, B-2, B-4 … B-7) at their boundaries, and the
registry numbers they read."""

from datetime import UTC, datetime, timedelta

import pytest
from constance import config

from buyers import rules

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_b_defaults_are_the_spec_numbers(db):
    assert rules.password_min_length() == 6
    assert rules.code_ttl() == timedelta(minutes=5)
    assert rules.code_max_attempts() == 5
    assert rules.code_resend_after() == timedelta(seconds=60)
    assert rules.device_max_registrations() == 3
    assert rules.device_window() == timedelta(days=30)
    assert rules.low_activity_after() == timedelta(hours=72)
    assert rules.contact_change_min_gap() == timedelta(days=7)
    assert rules.contact_change_max() == 2
    assert rules.contact_change_window() == timedelta(days=180)


def test_b1_password_length_never_below_six_even_if_the_registry_says_so(db):
    config.BUYERS_PASSWORD_MIN_LENGTH = 4
    assert rules.password_min_length() == 6
    config.BUYERS_PASSWORD_MIN_LENGTH = 9
    assert rules.password_min_length() == 9


@pytest.mark.parametrize(
    ("age", "usable"),
    [
        (timedelta(0), True),
        (timedelta(minutes=4, seconds=59), True),
        (timedelta(minutes=5), False),
        (timedelta(minutes=5, seconds=1), False),
    ],
)
def test_b2_code_valid_5_minutes(db, age, usable):
    call = lambda: rules.check_code_usable(  # noqa: E731
        created_at=T0, used_at=None, attempts=0, now=T0 + age
    )
    if usable:
        call()
    else:
        with pytest.raises(rules.CodeInvalid) as exc:
            call()
        assert exc.value.code == "invalid_code"


@pytest.mark.parametrize(("attempts", "locked"), [(0, False), (4, False), (5, True), (6, True)])
def test_b2_at_most_5_attempts(db, attempts, locked):
    call = lambda: rules.check_code_usable(  # noqa: E731
        created_at=T0, used_at=None, attempts=attempts, now=T0
    )
    if locked:
        with pytest.raises(rules.CodeLocked) as exc:
            call()
        assert exc.value.code == "code_locked"
    else:
        call()


def test_b2_lock_wins_over_expiry_and_use(db):
    with pytest.raises(rules.CodeLocked):
        rules.check_code_usable(created_at=T0, used_at=T0, attempts=5, now=T0 + timedelta(hours=1))


def test_b2_a_used_code_is_refused(db):
    with pytest.raises(rules.CodeInvalid, match="already been used"):
        rules.check_code_usable(created_at=T0, used_at=T0, attempts=1, now=T0)


@pytest.mark.parametrize(
    ("since", "allowed", "retry"),
    [
        (timedelta(seconds=59), False, 1),
        (timedelta(seconds=30), False, 30),
        (timedelta(seconds=58, milliseconds=500), False, 2),
        (timedelta(seconds=60), True, None),
        (timedelta(seconds=61), True, None),
    ],
)
def test_b2_resend_after_60_seconds(db, since, allowed, retry):
    call = lambda: rules.check_resend_allowed(last_sent_at=T0, now=T0 + since)  # noqa: E731
    if allowed:
        call()
    else:
        with pytest.raises(rules.ResendTooSoon) as exc:
            call()
        assert exc.value.retry_after == retry
        assert exc.value.code == "resend_too_soon"


def test_b2_first_code_needs_no_wait(db):
    rules.check_resend_allowed(last_sent_at=None, now=T0)


def test_b2_resend_delay_follows_the_registry(db):
    config.BUYERS_CODE_RESEND_SECONDS = 90
    with pytest.raises(rules.ResendTooSoon):
        rules.check_resend_allowed(last_sent_at=T0, now=T0 + timedelta(seconds=89))
    rules.check_resend_allowed(last_sent_at=T0, now=T0 + timedelta(seconds=90))


@pytest.mark.parametrize(("count", "flag"), [(1, False), (3, False), (4, True), (9, True)])
def test_b5_more_than_3_registrations_per_device_flag(db, count, flag):
    assert rules.device_flags_all(registrations_in_window=count) is flag


@pytest.mark.parametrize(
    ("declared", "ip_country", "mismatch"),
    [
        ("CN", "CN", False),
        ("cn", "CN ", False),
        ("US", "CN", True),
        ("US", None, False),
        ("US", "", False),
    ],
)
def test_b4_country_mismatch(declared, ip_country, mismatch):
    assert rules.country_mismatch(declared=declared, ip_country=ip_country) is mismatch


@pytest.mark.parametrize(
    ("age", "paid_after", "due"),
    [
        (timedelta(hours=71, minutes=59), None, False),
        (timedelta(hours=72), None, True),
        (timedelta(hours=80), timedelta(hours=10), False),
        (timedelta(hours=80), timedelta(hours=72), False),
        (timedelta(hours=80), timedelta(hours=73), True),
    ],
)
def test_b6_low_activity_after_72_hours(db, age, paid_after, due):
    paid = T0 + paid_after if paid_after is not None else None
    assert rules.low_activity_due(registered_at=T0, first_paid_at=paid, now=T0 + age) is due


def test_b7_first_change_allowed_now(db):
    assert rules.next_contact_change_at(previous_changes=[], now=T0) == T0
    rules.check_contact_change_allowed(previous_changes=[], now=T0)


def test_b7_seven_days_since_the_last_change(db):
    last = T0 - timedelta(days=6, hours=23)
    with pytest.raises(rules.ContactChangeRefused) as exc:
        rules.check_contact_change_allowed(previous_changes=[last], now=T0)
    assert exc.value.next_allowed_at == last + timedelta(days=7)
    assert exc.value.code == "contact_change_too_soon"
    assert f"{last + timedelta(days=7):%Y-%m-%d}" in exc.value.message
    rules.check_contact_change_allowed(previous_changes=[T0 - timedelta(days=7)], now=T0)


def test_b7_third_change_inside_180_days_refused(db):
    changes = [T0 - timedelta(days=100), T0 - timedelta(days=20)]
    with pytest.raises(rules.ContactChangeRefused) as exc:
        rules.check_contact_change_allowed(previous_changes=changes, now=T0)
    assert exc.value.next_allowed_at == changes[0] + timedelta(days=180)
    # once the older change leaves the window, a third one is allowed
    rules.check_contact_change_allowed(
        previous_changes=changes, now=changes[0] + timedelta(days=180)
    )


def test_b7_limits_follow_the_registry(db):
    config.BUYERS_CONTACT_CHANGE_MAX = 3
    changes = [T0 - timedelta(days=100), T0 - timedelta(days=20)]
    rules.check_contact_change_allowed(previous_changes=changes, now=T0)
    config.BUYERS_CONTACT_CHANGE_MIN_DAYS = 30
    with pytest.raises(rules.ContactChangeRefused):
        rules.check_contact_change_allowed(previous_changes=changes, now=T0)


def test_b_rate_settings_read_from_settings(settings):
    settings.SC_BUYER_CODES_PER_CONTACT = "2/m"
    settings.SC_BUYER_CODES_PER_IP = "3/m"
    settings.SC_BUYER_CODE_FAILURES_PER_IP = "4/m"
    assert (
        rules.codes_per_contact_rate(),
        rules.codes_per_ip_rate(),
        rules.code_failures_per_ip_rate(),
    ) == ("2/m", "3/m", "4/m")


# --- the messages the buyer reads (each says what to do next) ---------------------------------


def test_b2_locked_code_message_says_to_request_a_new_one(db):
    with pytest.raises(rules.CodeLocked) as exc:
        rules.check_code_usable(created_at=T0, used_at=None, attempts=5, now=T0)
    assert str(exc.value) == "Too many wrong codes: this code no longer works. Request a new one."


def test_b2_used_code_message_says_to_request_a_new_one(db):
    with pytest.raises(rules.CodeInvalid) as exc:
        rules.check_code_usable(created_at=T0, used_at=T0, attempts=0, now=T0)
    assert str(exc.value) == "This code has already been used. Request a new one."


def test_b2_expired_code_message_says_to_request_a_new_one(db):
    with pytest.raises(rules.CodeInvalid) as exc:
        rules.check_code_usable(
            created_at=T0, used_at=None, attempts=0, now=T0 + timedelta(minutes=5)
        )
    assert str(exc.value) == "This code has expired. Request a new one."


def test_b2_resend_message_gives_the_seconds_to_wait(db):
    with pytest.raises(rules.ResendTooSoon) as exc:
        rules.check_resend_allowed(last_sent_at=T0, now=T0 + timedelta(seconds=45))
    assert str(exc.value) == "Wait 15 s before asking for a new code."
    assert exc.value.retry_after == 15


def test_b7_refusal_message_gives_the_date_in_utc(db):
    with pytest.raises(rules.ContactChangeRefused) as exc:
        rules.check_contact_change_allowed(previous_changes=[T0], now=T0 + timedelta(days=1))
    assert str(exc.value) == "You can change your email or phone again from 2026-03-08 12:00 UTC."
    assert exc.value.next_allowed_at == T0 + timedelta(days=7)
