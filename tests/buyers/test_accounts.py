"""Buyer accounts through their services (SPEC B-1 … B-7): registration, codes, sign-in,
password reset, contact changes, device and country checks, low activity."""

import threading
from datetime import timedelta

import pytest
import time_machine
from buyer_mailbox import last_code
from django.core import mail
from django.db import connection
from django.test import override_settings
from factories import make_buyer

from buyers import rules, services, sms
from buyers.models import (
    Buyer,
    BuyerRiskDecision,
    Channel,
    CodePurpose,
    ContactChange,
    RiskStatus,
    VerificationCode,
)
from buyers.services import accounts
from core import clock, ratelimit
from core.errors import DomainError

PW = "Tr1cky-pass"
IP = "203.0.113.7"


def _register(contact="new@example.com", **kw):
    fields = {"password": PW, "country": "CN", "ip": IP}
    fields.update(kw)
    return accounts.buyer_register_public(contact=services.parse_contact(contact), **fields)


# --- B-1 registration --------------------------------------------------------------------------


def test_b1_register_by_email_creates_an_unverified_buyer_and_mails_a_code(db):
    # when
    result = _register("New.Buyer@Example.com", site="fr")

    # then
    buyer = Buyer.objects.get()
    assert result.buyer == buyer
    assert (buyer.email, buyer.source, buyer.email_verified_at) == (
        "new.buyer@example.com",
        "signup",
        None,
    )
    assert buyer.password
    assert buyer.password != PW
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.buyer@example.com"]
    assert len(last_code("new.buyer@example.com")) == 6
    assert "code" in mail.outbox[0].body.lower() or "code" in mail.outbox[0].subject.lower()


def test_b2_a_code_request_without_delivery_queues_nothing_and_returns_its_code(db):
    # given: an account on a contact that cannot receive anything (an import, the demo)
    contact = services.parse_contact("quiet@example.com")
    at = clock.now() - timedelta(days=3)
    accounts.buyer_register(
        contact=contact, password=PW, country="CN", ip=IP, external_id="sc-import-1", now=at
    )

    # when
    sent = services.code_request(
        contact=contact, purpose=CodePurpose.REGISTER, ip=IP, now=at, deliver=False
    )

    # then: nothing went out, the code is the caller's (never in the result's repr), and it
    # verifies the account "then"
    assert mail.outbox == []
    assert sms.outbox == []
    assert len(sent.code) == 6
    assert sent.code not in repr(sent)
    row = VerificationCode.objects.get()
    assert row.created_at == at
    buyer = services.buyer_verify_contact(contact=contact, code=sent.code, ip=IP, now=at)
    assert (buyer.external_id, buyer.registered_at, buyer.email_verified_at) == (
        "sc-import-1",
        at,
        at,
    )


def test_b1_register_by_phone_sends_an_sms(db):
    # when
    _register("+86 138 0013 8000")

    # then
    assert Buyer.objects.get().phone == "+8613800138000"
    assert [m.to for m in sms.outbox] == ["+8613800138000"]
    assert mail.outbox == []


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"])
def test_b1_password_is_hashed_with_argon2(db):
    # when
    _register()

    # then
    assert Buyer.objects.get().password.startswith("argon2$argon2id$")


def test_b1_production_settings_put_argon2_first():
    from sellercenter import settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("abc12", "too short"),
        ("password", "too common"),
        ("12345678", "too common"),
        ("x" * 129, "too long"),
    ],
)
def test_b1_weak_passwords_are_refused_and_nothing_written(db, password, fragment):
    with pytest.raises(DomainError) as exc:
        _register(password=password)
    assert fragment in exc.value.message
    assert exc.value.code == "invalid_password"
    assert not Buyer.objects.exists()
    assert not VerificationCode.objects.exists()
    assert mail.outbox == []


def test_b1_minimum_length_follows_the_registry(db):
    from constance import config

    config.BUYERS_PASSWORD_MIN_LENGTH = 12
    with pytest.raises(DomainError, match="too short"):
        _register(password="Tr1cky-pass")  # 11 characters
    _register(password="Tr1cky-pass!")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not-an-email",
        "a@b",
        "a b@example.com",
        "rеal@example.com",  # Cyrillic "е"
        "payрal@exаmple.com",  # mixed scripts
        "ｆｕｌｌ@example.com",  # full-width
        "x" * 250 + "@example.com",
        "13800138000",  # no country code
        "+86 1",
        "+1 555 0000 00000000000000000000000000",
        "<script>@example.com",
        "a@example.com\nBcc: b@example.com",
    ],
)
def test_b1_hostile_contacts_are_refused_clearly(db, raw):
    with pytest.raises(DomainError) as exc:
        services.parse_contact(raw)
    assert exc.value.code == "invalid_contact"
    assert exc.value.message


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("country", "ZZ", "invalid_input"),
        ("country", "china", "invalid_input"),
        ("site", "mars", "invalid_input"),
        ("device_id", "d" * 129, "invalid_input"),
        ("device_id", "dev ice;drop", "invalid_input"),
    ],
)
def test_b1_bad_fields_are_refused_and_nothing_written(db, field, value, code):
    with pytest.raises(DomainError) as exc:
        _register(**{field: value})
    assert exc.value.code == code
    assert not Buyer.objects.exists()


# --- B-3 one contact, one account --------------------------------------------------------------


def test_b3_second_registration_of_a_contact_answers_like_the_first_and_writes_nothing(db):
    # given: a verified buyer
    first = _register("taken@example.com")
    services.buyer_verify_contact(
        contact=services.parse_contact("taken@example.com"),
        code=last_code("taken@example.com"),
        ip=IP,
    )
    mail.outbox.clear()

    # when: someone registers the same address in another case, a minute later
    with time_machine.travel(clock.now() + timedelta(seconds=61), tick=False):
        second = _register("TAKEN@example.com", password="Other-pass-9")

    # then: one account, its password unchanged; the owner is told, no code goes out
    assert second is None
    assert Buyer.objects.count() == 1
    assert Buyer.objects.get().password == first.buyer.password
    assert len(mail.outbox) == 1
    assert "tried to register" in mail.outbox[0].subject
    assert not any(ch.isdigit() for ch in mail.outbox[0].body)


def test_b3_service_refuses_a_taken_contact_with_a_clear_error(db):
    make_buyer(email="owner@example.com")
    with pytest.raises(services.ContactTaken) as exc:
        accounts.buyer_register(
            contact=services.parse_contact("Owner@Example.com"), password=PW, country="US"
        )
    assert exc.value.code == "contact_taken"


@pytest.mark.django_db(transaction=True)
def test_b3_concurrent_registrations_make_one_account():
    for round_no in range(3):
        Buyer.objects.all().delete()
        barrier = threading.Barrier(2)
        results: list = [None, None]
        contact = services.parse_contact(f"race{round_no}@example.com")

        def register(i: int, barrier=barrier, results=results, contact=contact) -> None:
            try:
                barrier.wait(timeout=10)
                results[i] = accounts.buyer_register(
                    contact=contact, password=PW, country="CN", ip=IP
                )
            except Exception as exc:
                results[i] = exc
            finally:
                connection.close()

        threads = [threading.Thread(target=register, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)

        winners = [r for r in results if isinstance(r, accounts.RegistrationResult)]
        losers = [r for r in results if isinstance(r, services.ContactTaken)]
        assert (len(winners), len(losers)) == (1, 1), results
        assert Buyer.objects.count() == 1


# --- B-2 codes ---------------------------------------------------------------------------------


def _contact(raw="new@example.com"):
    return services.parse_contact(raw)


def test_b2_right_code_verifies_the_contact_once(db):
    _register()
    code = last_code("new@example.com")

    buyer = services.buyer_verify_contact(contact=_contact(), code=code, ip=IP)

    assert buyer.email_verified_at is not None
    with pytest.raises(rules.CodeInvalid, match="already been used"):
        services.buyer_verify_contact(contact=_contact(), code=code, ip=IP)


def test_b2_code_is_stored_hashed(db):
    _register()
    code = last_code("new@example.com")
    row = VerificationCode.objects.get()
    assert code not in row.code_hash
    assert len(row.code_hash) == 64


def test_b2_code_expires_after_5_minutes(db):
    _register()
    code = last_code("new@example.com")
    start = VerificationCode.objects.get().created_at

    with (
        time_machine.travel(start + timedelta(minutes=5, seconds=1), tick=False),
        pytest.raises(rules.CodeInvalid, match="expired"),
    ):
        services.buyer_verify_contact(contact=_contact(), code=code, ip=IP)
    assert Buyer.objects.get().email_verified_at is None


def test_b2_code_still_valid_at_4_59(db):
    _register()
    code = last_code("new@example.com")
    start = VerificationCode.objects.get().created_at

    with time_machine.travel(start + timedelta(minutes=4, seconds=59), tick=False):
        buyer = services.buyer_verify_contact(contact=_contact(), code=code, ip=IP)
    assert buyer.email_verified_at is not None


def test_b2_sixth_attempt_refused_even_with_the_right_code(db):
    _register()
    code = last_code("new@example.com")
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    for left in (4, 3, 2, 1, 0):
        with pytest.raises(rules.CodeInvalid, match=f"{left} attempts left"):
            services.buyer_verify_contact(contact=_contact(), code=wrong, ip=IP)

    with pytest.raises(rules.CodeLocked):
        services.buyer_verify_contact(contact=_contact(), code=code, ip=IP)
    assert VerificationCode.objects.get().attempts == 5
    assert Buyer.objects.get().email_verified_at is None


def test_b2_malformed_codes_count_as_attempts(db):
    _register()
    for bad in ("", "12345", "1234567", "abcdef", "１２３４５６"):
        with pytest.raises(rules.CodeInvalid):
            services.buyer_verify_contact(contact=_contact(), code=bad, ip=IP)
    assert VerificationCode.objects.get().attempts == 5


def test_b2_resend_refused_at_59_seconds_allowed_at_60(db):
    _register()
    start = VerificationCode.objects.get().created_at

    with (
        time_machine.travel(start + timedelta(seconds=59), tick=False),
        pytest.raises(rules.ResendTooSoon) as exc,
    ):
        services.code_request(contact=_contact(), purpose=CodePurpose.REGISTER, ip=IP)
    assert exc.value.retry_after == 1
    with time_machine.travel(start + timedelta(seconds=60), tick=False):
        services.code_request(contact=_contact(), purpose=CodePurpose.REGISTER, ip=IP)
    assert VerificationCode.objects.count() == 2
    assert len(mail.outbox) == 2


def test_b2_a_new_code_replaces_the_old_one(db):
    _register()
    old = last_code("new@example.com")
    with time_machine.travel(clock.now() + timedelta(seconds=61), tick=False):
        services.code_request(contact=_contact(), purpose=CodePurpose.REGISTER, ip=IP)
        new = last_code("new@example.com")
        if old != new:
            with pytest.raises(rules.CodeInvalid):
                services.buyer_verify_contact(contact=_contact(), code=old, ip=IP)
        assert services.buyer_verify_contact(contact=_contact(), code=new, ip=IP)


def test_b2_codes_per_contact_are_rate_limited(db, settings):
    settings.SC_BUYER_CODES_PER_CONTACT = "2/h"
    # The windows are fixed (staggered per key): start where this contact's window has more
    # than the test's ten minutes left, so the three requests fall in one window.
    t = clock.now()
    while True:
        with time_machine.travel(t, tick=False):
            left = ratelimit.usage(
                accounts._limits_request(None),
                group="buyers.codes.contact",
                key=_contact().value,
                rate="2/h",
                increment=False,
            ).seconds_left
        if left > 11 * 60:
            break
        t += timedelta(minutes=10)
    for i in range(2):
        with time_machine.travel(t + timedelta(minutes=2 * i), tick=False):
            services.code_request(contact=_contact(), purpose=CodePurpose.RESET, ip=f"10.0.0.{i}")
    with (
        time_machine.travel(t + timedelta(minutes=10), tick=False),
        pytest.raises(services.RateLimited),
    ):
        services.code_request(contact=_contact(), purpose=CodePurpose.RESET, ip="10.0.0.9")
    assert VerificationCode.objects.count() == 2


def test_b2_codes_per_ip_are_rate_limited(db, settings):
    settings.SC_BUYER_CODES_PER_IP = "3/h"
    for i in range(3):
        services.code_request(contact=_contact(f"a{i}@example.com"), purpose="reset", ip=IP)
    with pytest.raises(services.RateLimited) as exc:
        services.code_request(contact=_contact("a9@example.com"), purpose="reset", ip=IP)
    assert exc.value.code == "rate_limited"


def _window_with_room(group: str, key: str, rate: str, *, minutes: int):
    """An instant from which the fixed rate-limit window of ``key`` lasts ``minutes`` more (the
    windows are staggered per key), so the requests of a test fall in one window."""
    t = clock.now()
    while True:
        with time_machine.travel(t, tick=False):
            left = ratelimit.usage(
                accounts._limits_request(None), group=group, key=key, rate=rate, increment=False
            ).seconds_left
        if left > (minutes + 1) * 60:
            return t
        t += timedelta(minutes=minutes)


def test_b2_registration_over_the_per_contact_code_limit_is_refused_and_writes_nothing(
    db, settings
):
    # given: the contact's codes for the hour are used up (requests from other networks)
    settings.SC_BUYER_CODES_PER_CONTACT = "2/h"
    contact = _contact("victim@example.com")
    t = _window_with_room("buyers.codes.contact", contact.value, "2/h", minutes=5)
    for i in range(2):
        with time_machine.travel(t + timedelta(seconds=61 * i), tick=False):
            services.code_request(contact=contact, purpose=CodePurpose.RESET, ip=f"10.2.0.{i}")

    # when: someone registers the contact from an address with requests to spare
    with (
        time_machine.travel(t + timedelta(minutes=4), tick=False),
        pytest.raises(services.RateLimited) as exc,
    ):
        _register("victim@example.com", ip="203.0.113.9")

    # then: refused like a code request, and no account without a code is left behind
    assert exc.value.code == "rate_limited"
    assert exc.value.http_status == 429
    assert not Buyer.objects.exists()
    assert not VerificationCode.objects.filter(purpose=CodePurpose.REGISTER).exists()
    assert mail.outbox == []

    # when: the same registration once the limit has passed
    with time_machine.travel(t + timedelta(hours=2), tick=False):
        result = _register("victim@example.com", ip="203.0.113.9")

    # then: the account is created and its code goes out
    assert result.buyer == Buyer.objects.get()
    assert result.code is not None
    assert [m.to for m in mail.outbox] == [["victim@example.com"]]
    assert services.buyer_verify_contact(
        contact=contact, code=last_code("victim@example.com"), ip=IP
    ).email_verified_at


def test_b2_parallel_guessing_over_many_contacts_is_limited_per_ip(db, settings):
    settings.SC_BUYER_CODE_FAILURES_PER_IP = "3/h"
    for i in range(3):
        _register(f"g{i}@example.com", ip=f"10.1.0.{i}")
    for i in range(3):
        with pytest.raises(rules.CodeInvalid):
            services.buyer_verify_contact(
                contact=_contact(f"g{i}@example.com"), code="000000", ip=IP
            )
    # then: even the right code of another contact is refused from this IP
    right = last_code("g0@example.com")
    with pytest.raises(services.RateLimited):
        services.buyer_verify_contact(contact=_contact("g0@example.com"), code=right, ip=IP)


def test_b2_reset_code_request_looks_the_same_for_unknown_contacts(db):
    make_buyer(email="known@example.com")

    known = services.code_request(contact=_contact("known@example.com"), purpose="reset", ip=IP)
    unknown = services.code_request(contact=_contact("nobody@example.com"), purpose="reset", ip=IP)

    assert known == unknown
    assert VerificationCode.objects.count() == 2  # both counted, same work
    assert [m.to for m in mail.outbox] == [["known@example.com"]]


def test_b2_codes_are_never_logged(db, caplog):
    caplog.set_level("DEBUG")
    _register()
    code = last_code("new@example.com")
    services.buyer_verify_contact(contact=_contact(), code=code, ip=IP)
    assert code not in caplog.text


# --- B-4 / B-5 ---------------------------------------------------------------------------------


def test_b4_country_mismatch_creates_the_buyer_in_risk_review(db):
    result = _register(country="US", ip_country="RU")

    assert result.risk_review is True
    buyer = Buyer.objects.get()
    assert buyer.risk_status == RiskStatus.RISK_REVIEW
    assert buyer.ip_country == "RU"
    decision = BuyerRiskDecision.objects.get()
    assert decision.decided_by is None
    assert "RU" in decision.reason
    assert "US" in decision.reason


def test_b4_matching_or_unknown_country_is_ok(db):
    assert _register("a@example.com", country="CN", ip_country="CN").risk_review is False
    assert _register("b@example.com", country="CN", ip_country=None).risk_review is False
    assert not BuyerRiskDecision.objects.exists()


def test_b5_fourth_registration_from_one_device_flags_all_four(db):
    for i in range(3):
        assert not _register(f"d{i}@example.com", device_id="dev-1").risk_review
    assert set(Buyer.objects.values_list("risk_status", flat=True)) == {"ok"}

    result = _register("d3@example.com", device_id="dev-1")

    assert result.risk_review is True
    assert set(Buyer.objects.values_list("risk_status", flat=True)) == {RiskStatus.SUSPECTED_FRAUD}
    assert BuyerRiskDecision.objects.filter(decided_by__isnull=True).count() == 4


def test_b5_registrations_older_than_30_days_do_not_count(db):
    start = clock.now()
    with time_machine.travel(start - timedelta(days=31), tick=False):
        _register("old@example.com", device_id="dev-2")
    for i in range(3):
        _register(f"n{i}@example.com", device_id="dev-2")
    assert not Buyer.objects.exclude(risk_status="ok").exists()


def test_b5_an_admin_decision_stands_against_the_device_check(db, admin_user):
    ids = [_register(f"d{i}@example.com", device_id="dev-3").buyer for i in range(3)]
    services.buyer_risk_decide(
        buyer=ids[0], status=RiskStatus.RISK_REVIEW, decided_by=admin_user, reason="looked at it"
    )
    services.buyer_risk_decide(
        buyer=ids[0], status=RiskStatus.OK, decided_by=admin_user, reason="known family device"
    )
    _register("d9@example.com", device_id="dev-3")
    assert Buyer.objects.get(pk=ids[0].pk).risk_status == RiskStatus.OK
    assert Buyer.objects.filter(risk_status=RiskStatus.SUSPECTED_FRAUD).count() == 3


# --- sign-in and password ----------------------------------------------------------------------


def test_b1_sign_in_with_the_right_password_only(db):
    _register()
    assert services.buyer_authenticate(contact=_contact(), password=PW, ip=IP).email
    with pytest.raises(services.InvalidCredentials) as wrong:
        services.buyer_authenticate(contact=_contact(), password="nope", ip=IP)
    with pytest.raises(services.InvalidCredentials) as unknown:
        services.buyer_authenticate(contact=_contact("x@example.com"), password=PW, ip=IP)
    assert wrong.value.message == unknown.value.message


def test_b1_sign_in_failures_lock_even_the_right_password(db, settings):
    settings.SC_LOGIN_FAILURES_PER_ACCOUNT = "3/15m"
    _register()
    for _ in range(3):
        with pytest.raises(services.InvalidCredentials):
            services.buyer_authenticate(contact=_contact(), password="nope", ip=IP)
    with pytest.raises(services.RateLimited):
        services.buyer_authenticate(contact=_contact(), password=PW, ip=IP)


def test_b7_forgotten_password_reset_by_a_code(db):
    _register()
    with time_machine.travel(clock.now() + timedelta(seconds=61), tick=False):
        services.code_request(contact=_contact(), purpose="reset", ip=IP)
        code = last_code("new@example.com")
        services.buyer_password_reset(
            contact=_contact(), code=code, new_password="An0ther-secret", ip=IP
        )
    buyer = services.buyer_authenticate(contact=_contact(), password="An0ther-secret", ip=IP)
    assert buyer.email_verified_at is not None
    with pytest.raises(services.InvalidCredentials):
        services.buyer_authenticate(contact=_contact(), password=PW, ip=IP)


# --- B-7 contact changes -----------------------------------------------------------------------


def _verified_buyer():
    _register("me@example.com")
    return services.buyer_verify_contact(
        contact=_contact("me@example.com"), code=last_code("me@example.com"), ip=IP
    )


def _change(buyer, new, *, password=PW):
    services.contact_change_request(
        buyer=buyer, new_contact=_contact(new), password=password, ip=IP
    )
    return services.contact_change_confirm(
        buyer=buyer, new_contact=_contact(new), code=last_code(_contact(new).value), ip=IP
    )


def test_b7_change_needs_the_current_password(db):
    buyer = _verified_buyer()
    with pytest.raises(services.InvalidCredentials):
        services.contact_change_request(
            buyer=buyer, new_contact=_contact("+8613800138000"), password="wrong", ip=IP
        )
    assert not sms.outbox


def test_b7_change_phone_with_a_code_to_the_new_contact_and_old_contact_told(db):
    buyer = _verified_buyer()
    mail.outbox.clear()

    change = _change(buyer, "new@example.org")

    buyer.refresh_from_db()
    assert buyer.email == "new@example.org"
    assert buyer.email_verified_at
    assert (change.old_value, change.new_value, change.channel) == (
        "me@example.com",
        "new@example.org",
        Channel.EMAIL,
    )
    notice = [m for m in mail.outbox if m.to == ["me@example.com"]]
    assert len(notice) == 1
    assert change.report_token in notice[0].body


def test_b7_second_change_within_7_days_refused_naming_the_date(db):
    buyer = _verified_buyer()
    first = _change(buyer, "+8613800138000")

    with (
        time_machine.travel(first.changed_at + timedelta(days=6), tick=False),
        pytest.raises(rules.ContactChangeRefused) as exc,
    ):
        services.contact_change_request(
            buyer=buyer, new_contact=_contact("+8613800138001"), password=PW, ip=IP
        )
    assert exc.value.next_allowed_at == first.changed_at + timedelta(days=7)
    assert f"{first.changed_at + timedelta(days=7):%Y-%m-%d}" in exc.value.message

    with time_machine.travel(first.changed_at + timedelta(days=7), tick=False):
        _change(buyer, "+8613800138001")
    assert ContactChange.objects.count() == 2


def test_b7_third_change_within_180_days_refused(db):
    buyer = _verified_buyer()
    t = clock.now()
    _change(buyer, "+8613800138000")
    with time_machine.travel(t + timedelta(days=10), tick=False):
        _change(buyer, "+8613800138001")
    with (
        time_machine.travel(t + timedelta(days=100), tick=False),
        pytest.raises(rules.ContactChangeRefused) as exc,
    ):
        services.contact_change_request(
            buyer=buyer, new_contact=_contact("+8613800138002"), password=PW, ip=IP
        )
    assert (
        exc.value.next_allowed_at.date()
        == (
            ContactChange.objects.order_by("changed_at").first().changed_at + timedelta(days=180)
        ).date()
    )


def test_b7_change_to_a_taken_contact_is_refused(db):
    buyer = _verified_buyer()
    make_buyer(email="other@example.com")
    services.contact_change_request(
        buyer=buyer, new_contact=_contact("other@example.com"), password=PW, ip=IP
    )
    assert not [m for m in mail.outbox if m.to == ["other@example.com"]]
    with pytest.raises(rules.CodeInvalid):
        services.contact_change_confirm(
            buyer=buyer, new_contact=_contact("other@example.com"), code="123456", ip=IP
        )
    assert not ContactChange.objects.exists()


def test_b7_report_by_old_contact_puts_the_buyer_in_review(db):
    buyer = _verified_buyer()
    change = _change(buyer, "+8613800138000")

    services.contact_change_report(token=change.report_token)
    services.contact_change_report(token=change.report_token)  # twice: one decision

    buyer.refresh_from_db()
    assert buyer.risk_status == RiskStatus.RISK_REVIEW
    assert BuyerRiskDecision.objects.filter(buyer=buyer).count() == 1
    with pytest.raises(DomainError):
        services.contact_change_report(token="nope")


# --- B-6 low activity --------------------------------------------------------------------------


def test_b6_flags_after_72_hours_without_payment(db):
    buyer = _register().buyer
    with time_machine.travel(buyer.registered_at + timedelta(hours=71, minutes=59), tick=False):
        assert services.buyers_flag_low_activity() == 0
    with time_machine.travel(buyer.registered_at + timedelta(hours=72), tick=False):
        assert services.buyers_flag_low_activity() == 1
        assert services.buyers_flag_low_activity() == 0
    assert Buyer.objects.get().low_activity is True


def test_b6_a_paying_buyer_is_not_flagged_nor_marketplace_buyers(db):
    payer = _register("payer@example.com").buyer
    make_buyer(registered_at=clock.now() - timedelta(days=30))
    services.buyer_first_payment_record(buyer_id=payer.pk, paid_at=clock.now())
    assert services.buyer_first_payment_record(buyer_id=payer.pk, paid_at=clock.now()) is False
    with time_machine.travel(clock.now() + timedelta(hours=73), tick=False):
        assert services.buyers_flag_low_activity() == 0


@pytest.mark.parametrize(
    ("paid_after", "low_activity"),
    [
        (timedelta(hours=70), False),
        (timedelta(hours=72), False),  # within 72 h, the boundary included
        (timedelta(hours=72, seconds=1), True),
        (timedelta(hours=73), True),
    ],
)
def test_b6_a_payment_handled_after_the_job_counts_from_when_it_was_made(
    db, paid_after, low_activity
):
    # given: a buyer the job flagged at 73 h, before the payment's event was handled
    buyer = _register().buyer
    t0 = buyer.registered_at
    with time_machine.travel(t0 + timedelta(hours=73), tick=False):
        assert services.buyers_flag_low_activity() == 1

        # when: the first payment is recorded, dated when it was made
        assert services.buyer_first_payment_record(buyer_id=buyer.pk, paid_at=t0 + paid_after)

    # then: a payment within 72 h clears the flag, a later one leaves it (SPEC B-6)
    buyer.refresh_from_db()
    assert (buyer.first_paid_at, buyer.low_activity) == (t0 + paid_after, low_activity)
    assert buyer.low_activity is rules.low_activity_due(
        registered_at=t0, first_paid_at=buyer.first_paid_at, now=t0 + timedelta(hours=80)
    )
    # and a later payment changes nothing
    assert not services.buyer_first_payment_record(buyer_id=buyer.pk, paid_at=t0)
    assert Buyer.objects.get(pk=buyer.pk).low_activity is low_activity


def test_b6_a_first_payment_after_72_hours_flags_even_before_the_job_runs(db):
    # given: a buyer who first paid at 72 h 5 min, recorded before the job's next run
    buyer = _register().buyer
    t0 = buyer.registered_at
    with time_machine.travel(t0 + timedelta(hours=72, minutes=6), tick=False):
        services.buyer_first_payment_record(
            buyer_id=buyer.pk, paid_at=t0 + timedelta(hours=72, minutes=5)
        )
        # when the job runs
        assert services.buyers_flag_low_activity() == 0

    # then: flagged all the same — no first payment within 72 h
    assert Buyer.objects.get(pk=buyer.pk).low_activity is True


def test_b6_recording_a_payment_leaves_a_marketplace_buyers_flag_alone(db):
    # given: marketplace buyers (B-6 is about self-registered ones), one flagged in admin
    t0 = clock.now() - timedelta(days=10)
    flagged = make_buyer(registered_at=t0)
    other = make_buyer(registered_at=t0)
    Buyer.objects.filter(pk=flagged.pk).update(low_activity=True)

    # when: each pays, one in time and one late
    services.buyer_first_payment_record(buyer_id=flagged.pk, paid_at=t0 + timedelta(hours=1))
    services.buyer_first_payment_record(buyer_id=other.pk, paid_at=t0 + timedelta(days=5))

    # then
    assert Buyer.objects.get(pk=flagged.pk).low_activity is True
    assert Buyer.objects.get(pk=other.pk).low_activity is False


def test_b3_registering_over_an_unverified_account_sends_a_notice_not_a_code(db):
    # given: someone opened an account with this address and never verified it
    _register("victim@example.com", password="Attacker-pw-1")
    mail.outbox.clear()

    # when: the address's owner registers a minute later
    with time_machine.travel(clock.now() + timedelta(seconds=61), tick=False):
        answer = _register("victim@example.com", password="Owner-pw-22")

    # then: nothing tells them apart, and no code could verify the first account
    assert answer is None
    assert len(mail.outbox) == 1
    assert "tried to register" in mail.outbox[0].subject
    assert Buyer.objects.get().email_verified_at is None


def test_b3_no_registration_code_reaches_a_contested_unverified_account(db):
    # given: an unverified account, and the address's owner registering over it (a notice)
    _register("victim@example.com", password="Attacker-pw-1")
    t = clock.now()
    with time_machine.travel(t + timedelta(seconds=61), tick=False):
        _register("victim@example.com", password="Owner-pw-22")
    mail.outbox.clear()
    contact = services.parse_contact("victim@example.com")

    # when: a resend is asked for (the first registrant, through /codes), then a sign-in
    with time_machine.travel(t + timedelta(seconds=130), tick=False):
        services.code_request(contact=contact, purpose=CodePurpose.REGISTER, ip=IP)

    # then: nothing goes out, and no row could verify the first registrant's account
    assert mail.outbox == []
    assert (
        not VerificationCode.objects.filter(
            contact="victim@example.com", purpose=CodePurpose.REGISTER, buyer__isnull=False
        )
        .exclude(created_at__lt=t + timedelta(seconds=61))
        .exists()
    )
    with pytest.raises(rules.CodeInvalid):
        services.buyer_verify_contact(contact=contact, code="123456", ip=IP)
    assert Buyer.objects.get().email_verified_at is None

    # and: the address's owner claims it by a password reset, which verifies the contact
    with time_machine.travel(t + timedelta(seconds=200), tick=False):
        services.code_request(contact=contact, purpose=CodePurpose.RESET, ip=IP)
        services.buyer_password_reset(
            contact=contact, code=last_code("victim@example.com"), new_password="Owner-pw-22", ip=IP
        )
    buyer = Buyer.objects.get()
    assert buyer.email_verified_at is not None
    assert services.buyer_authenticate(contact=contact, password="Owner-pw-22", ip=IP) == buyer


def test_b2_an_unverified_registrants_resend_still_reaches_them(db):
    # given: a registration nobody contested
    _register("fresh@example.com")
    mail.outbox.clear()

    # when: the resend after 60 s
    with time_machine.travel(clock.now() + timedelta(seconds=61), tick=False):
        services.code_request(
            contact=services.parse_contact("fresh@example.com"),
            purpose=CodePurpose.REGISTER,
            ip=IP,
        )

    # then: a new code, and it verifies the account
    assert len(mail.outbox) == 1
    buyer = services.buyer_verify_contact(
        contact=services.parse_contact("fresh@example.com"),
        code=last_code("fresh@example.com"),
        ip=IP,
    )
    assert buyer.email_verified_at is not None


def test_b3_the_notice_is_in_the_owners_language(db):
    _register("owner@example.com", site="fr")
    mail.outbox.clear()
    with time_machine.travel(clock.now() + timedelta(seconds=61), tick=False):
        _register("owner@example.com", password="Other-pass-9")
    assert mail.outbox[0].subject == "Quelqu'un a essayé de s'inscrire avec votre contact"
    assert VerificationCode.objects.order_by("-created_at").first().buyer is None
