"""The dispatch engine (SPEC M-5, M-8, M-9, M-10) against a real SMTP server on loopback."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dispatchkit as kit
import dkim as dkimpy
import pytest
import time_machine
from dispatchkit import ADDRESS, PHONE

from core import clock
from core.errors import DomainError
from mailing.models import (
    BillingWindow,
    Campaign,
    CampaignStatus,
    Message,
    MessageState,
    QuotaDay,
)
from mailing.services import campaigns, dispatch


def _dkim_verifies(data: bytes, shop) -> bool:
    from mailing import dkim
    from mailing.models import SenderDomain

    domain = SenderDomain.objects.get(shop=shop, kind="default")

    def dnsfunc(name, timeout=5):
        expected = f"{domain.dkim_selector}._domainkey.{domain.domain}."
        assert name.decode().rstrip(".") + "." == expected
        return dkim.dns_txt_value(domain.dkim_public_key).encode()

    return dkimpy.verify(data, dnsfunc=dnsfunc)


def test_m10_messages_reach_the_smtp_server_signed_with_headers_footer_and_language(
    brand_a, shop_a, sink, audience
):
    # given: an English and a French recipient
    audience += [
        dispatch.Recipient(1, "anna@example.com", "en", "us", "America/New_York"),
        dispatch.Recipient(2, "marie@orange.fr", "fr", "fr", "Europe/Paris"),
    ]
    c = kit.start(kit.campaign(shop_a))

    # when
    result = dispatch.batch_send(campaign_id=c.pk)

    # then: each got one message in its language, DKIM-signed, with RFC 8058 headers
    assert (result.claimed, result.sent) == (2, 2)
    assert len(sink.received) == 2
    rows = {m.email: m for m in Message.objects.filter(campaign=c)}
    for address, subject in (
        ("anna@example.com", "20% off this week"),
        ("marie@orange.fr", "-20 % cette semaine"),
    ):
        [got] = sink.handler.to(address)
        msg = got.message
        row = rows[address]
        assert row.state == MessageState.SENT
        assert row.sent_at is not None
        assert msg["Subject"] == subject
        assert msg["Message-ID"].strip() == f"<{row.message_id.hex}@{row_domain(shop_a)}>"
        assert msg["From"].addresses[0].display_name == "Shop A"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = dispatch.unsubscribe_url(row)
        assert msg["List-Unsubscribe"] == f"<{unsubscribe}>"
        assert got.mail_from == f"bounce+{row.message_id.hex}@{row_domain(shop_a)}"
        html = msg.get_body(("html",)).get_content()
        # SPEC M-7 footer
        assert ADDRESS in html
        assert PHONE in html
        assert unsubscribe in html
        assert "/m/o/" in html  # open pixel
        assert "https://www.aliexpress.com/store/1" not in html  # links go through /m/c/
        assert "/m/c/" in html
        assert _dkim_verifies(got.data, shop_a)
        sig = msg["DKIM-Signature"]
        assert "list-unsubscribe:list-unsubscribe-post" in "".join(sig.lower().split())
    assert (
        "Bonjour" in sink.handler.to("marie@orange.fr")[0].message.get_body(("html",)).get_content()
    )
    c.refresh_from_db()
    assert c.status == CampaignStatus.SENT


def row_domain(shop) -> str:
    from mailing.models import SenderDomain

    return SenderDomain.objects.get(shop=shop, kind="default").domain


def test_m10_a_tampered_dkim_body_no_longer_verifies(brand_a, shop_a, sink, audience):
    audience.append(dispatch.Recipient(1, "anna@example.com", "en", "us", "UTC"))
    c = kit.start(kit.campaign(shop_a))
    dispatch.batch_send(campaign_id=c.pk)
    data = sink.received[0].data
    assert _dkim_verifies(data, shop_a)
    assert not _dkim_verifies(data.replace(b"Subject: 20%", b"Subject: 90%"), shop_a)


def test_m5_recipients_are_streamed_in_chunks_never_loaded_at_once(brand_a, shop_a, monkeypatch):
    # given: 2,500 recipients from a generator that checks, at each one it yields, how many
    # rows are already written (the engine may hold at most one chunk in memory)
    c = kit.campaign(shop_a)
    lag = []

    def stream(campaign):
        for i, r in enumerate(kit.recipients(2500)):
            if i % 500 == 0:
                lag.append(i - Message.objects.filter(campaign=campaign).count())
            yield r

    monkeypatch.setattr(dispatch, "recipients_for", stream)

    # when
    c = kit.start(c)

    # then
    assert (c.recipients_total, c.status) == (2500, CampaignStatus.SENDING)
    assert max(lag) <= dispatch.MATERIALIZE_CHUNK
    assert Message.objects.filter(campaign=c, state=MessageState.QUEUED).count() == 2500


def test_m5_materialising_again_after_a_crash_writes_each_recipient_once(
    brand_a, shop_a, monkeypatch
):
    c = kit.campaign(shop_a)
    Campaign.objects.filter(pk=c.pk).update(status=CampaignStatus.SCHEDULED)

    def crashing(campaign):
        for i, r in enumerate(kit.recipients(1500)):
            if i == 1200:
                raise RuntimeError("worker died")
            yield r

    monkeypatch.setattr(dispatch, "recipients_for", crashing)
    with pytest.raises(RuntimeError):
        dispatch.campaign_materialize(campaign_id=c.pk)
    assert Message.objects.filter(campaign=c).count() == 1000  # the first chunk committed

    monkeypatch.setattr(dispatch, "recipients_for", lambda campaign: kit.recipients(1500))
    dispatch.campaign_materialize(campaign_id=c.pk)

    assert Message.objects.filter(campaign=c).count() == 1500
    assert Message.objects.filter(campaign=c).values("email").distinct().count() == 1500


def test_m5_sends_at_the_chosen_local_time_in_each_recipients_site_zone(
    brand_a, shop_a, sink, audience
):
    # given: 09:00 local on 2027-03-10 for a Paris and a New York recipient
    audience += [
        dispatch.Recipient(1, "marie@orange.fr", "fr", "fr", "Europe/Paris"),
        dispatch.Recipient(2, "anna@example.com", "en", "us", "America/New_York"),
    ]
    c = kit.campaign(shop_a)
    campaigns.campaign_schedule(campaign=c, send_on=date(2027, 3, 10), send_at_local=time(9, 0))
    with time_machine.travel("2027-03-09T12:00:00Z", tick=False):
        c = kit.start(c)
    due = dict(Message.objects.filter(campaign=c).values_list("email", "due_at"))
    paris_9 = due["marie@orange.fr"]
    assert paris_9.astimezone(ZoneInfo("Europe/Paris")).hour == 9
    assert due["anna@example.com"].astimezone(ZoneInfo("America/New_York")).hour == 9

    # when: one second before 09:00 in Paris, then at 09:00
    with time_machine.travel(paris_9 - timedelta(seconds=1), tick=False):
        assert dispatch.batch_send(campaign_id=c.pk).claimed == 0
    with time_machine.travel(paris_9, tick=False):
        result = dispatch.batch_send(campaign_id=c.pk)

    # then: only Paris has had its 09:00
    assert result.sent == 1
    assert [r.rcpt_tos for r in sink.received] == [["marie@orange.fr"]]


def test_m10_550_fails_the_message_and_quarantines_the_address_30_days(
    brand_a, shop_a, sink, audience
):
    from mailing.models import Suppression

    sink.handler.refuse["gone@example.com"] = "550 5.1.1 User unknown"
    audience += [
        dispatch.Recipient(1, "gone@example.com", "en", "us", "UTC"),
        dispatch.Recipient(2, "ok@example.com", "en", "us", "UTC"),
    ]
    c = kit.start(kit.campaign(shop_a))

    result = dispatch.batch_send(campaign_id=c.pk)

    assert (result.sent, result.failed) == (1, 1)
    gone = Message.objects.get(campaign=c, email="gone@example.com")
    assert (gone.state, gone.error_code, gone.bounce, gone.billable) == (
        "failed",
        550,
        "hard",
        False,
    )
    s = Suppression.objects.get(shop=shop_a, email="gone@example.com")
    assert s.reason == "hard_bounce"
    assert s.expires_at - s.created_at == timedelta(days=30)


def test_m10_a_soft_failure_is_retried_with_backoff_then_sent_once(brand_a, shop_a, sink, audience):
    sink.handler.refuse["busy@example.com"] = "451 4.3.0 Try again later"
    audience.append(dispatch.Recipient(1, "busy@example.com", "en", "us", "UTC"))
    c = kit.start(kit.campaign(shop_a))
    t0 = clock.now()

    with time_machine.travel(t0, tick=False):
        assert dispatch.batch_send(campaign_id=c.pk).retried == 1
    m = Message.objects.get(campaign=c)
    assert (m.state, m.error_code, m.attempts) == ("queued", 451, 1)
    assert m.due_at == t0 + timedelta(seconds=60)  # first backoff step

    # the quota gave the slot back: a refused message was not sent
    assert QuotaDay.objects.get(shop=shop_a).used == 0
    sink.handler.refuse.clear()
    with time_machine.travel(t0 + timedelta(seconds=59), tick=False):
        assert dispatch.batch_send(campaign_id=c.pk).claimed == 0
    with time_machine.travel(t0 + timedelta(seconds=60), tick=False):
        assert dispatch.batch_send(campaign_id=c.pk).sent == 1
    assert len(sink.handler.to("busy@example.com")) == 1
    m.refresh_from_db()
    assert (m.state, m.attempts, m.error_code) == ("sent", 2, None)


def test_m10_soft_failures_give_up_after_the_last_attempt(brand_a, shop_a, sink, audience):
    from constance import config

    config.MAILING_RETRY_MAX_ATTEMPTS = 2
    sink.handler.refuse["busy@example.com"] = "452 4.2.2 Mailbox full"
    audience.append(dispatch.Recipient(1, "busy@example.com", "en", "us", "UTC"))
    c = kit.start(kit.campaign(shop_a))
    dispatch.batch_send(campaign_id=c.pk)
    with time_machine.travel(clock.now() + timedelta(minutes=5), tick=False):
        dispatch.batch_send(campaign_id=c.pk)
    m = Message.objects.get(campaign=c)
    assert (m.state, m.error_code, m.attempts, m.bounce) == ("failed", 452, 2, "soft")


def _account_age(shop, days: int) -> None:
    from mailing.models import MailingAccount

    MailingAccount.objects.filter(shop=shop).update(enabled_at=clock.now() - timedelta(days=days))


@pytest.mark.parametrize(("age_days", "quota"), [(29, 2000), (30, 5000)])
def test_m8_the_last_message_of_the_quota_leaves_the_next_waits_for_tomorrow_with_429(
    brand_a, shop_a, sink, audience, age_days, quota
):
    # given: quota - 1 messages already handed over today; two more due
    _account_age(shop_a, age_days)
    now = clock.now()
    QuotaDay.objects.create(shop=shop_a, day=clock.natural_day(now), used=quota - 1)
    audience += list(kit.recipients(2))
    c = kit.start(kit.campaign(shop_a))

    # when
    first = dispatch.batch_send(campaign_id=c.pk)
    second = dispatch.batch_send(campaign_id=c.pk)

    # then: the quota's last message (#quota) left; the next (#quota + 1) waits with 429
    assert (first.sent, second.claimed) == (1, 0)
    waiting = Message.objects.get(campaign=c, state=MessageState.QUEUED)
    tomorrow = clock.day_start(clock.natural_day(now) + timedelta(days=1))
    assert (waiting.error_code, waiting.due_at) == (429, tomorrow)
    assert QuotaDay.objects.get(shop=shop_a, day=clock.natural_day(now)).used == quota

    # and on the next natural day it goes
    with time_machine.travel(tomorrow, tick=False):
        assert dispatch.batch_send(campaign_id=c.pk).sent == 1
    assert len(sink.received) == 2


def test_m9_two_messages_to_one_buyer_within_24_hours_are_billed_once(
    brand_a, shop_a, sink, audience
):
    audience.append(dispatch.Recipient(1, "anna@example.com", "en", "us", "UTC"))
    t0 = clock.now()
    sent = []
    for offset in (timedelta(0), timedelta(hours=23, minutes=59), timedelta(hours=24)):
        with time_machine.travel(t0 + offset, tick=False):
            c = kit.start(kit.campaign(shop_a, name=f"c{offset}"))
            dispatch.batch_send(campaign_id=c.pk)
            sent.append(Message.objects.get(campaign=c).billable)
    # the second (23:59 later) is folded into the first; the third (24:00 later) is billed
    assert sent == [True, False, True]
    assert BillingWindow.objects.get(shop=shop_a).started_at == t0 + timedelta(hours=24)


def test_m10_401_nothing_leaves_while_the_sender_domain_is_unverified(
    brand_a, shop_a, sink, audience
):
    from mailing.models import SenderDomain

    audience.append(dispatch.Recipient(1, "anna@example.com", "en", "us", "UTC"))
    c = kit.start(kit.campaign(shop_a))
    SenderDomain.objects.filter(shop=shop_a).update(status="failed")

    result = dispatch.batch_send(campaign_id=c.pk)

    assert result.claimed == 0
    assert sink.received == []
    m = Message.objects.get(campaign=c)
    assert (m.state, m.error_code) == ("queued", 401)
    assert "48 hours" in m.error_detail


def test_m10_header_injection_in_the_subject_is_refused(brand_a, shop_a):
    with pytest.raises(DomainError) as exc:
        kit.campaign(
            shop_a,
            contents=[
                campaigns.ContentInput(
                    language="en", subject="Sale\r\nBcc: everyone@example.com", body=kit.BODY
                )
            ],
        )
    assert exc.value.code == "header_injection"
    assert not Campaign.objects.exists()


def test_m10_header_injection_in_the_sender_name_is_refused_at_send(brand_a, shop_a, audience):
    c = kit.campaign(shop_a)
    m = Message(campaign=c, shop=shop_a, email="a@example.com", language="en", variant="A")
    evil = dispatch.Sender(
        name="Shop\nBcc: all@example.com", address="n@x.example", domain="x.example"
    )
    with pytest.raises(DomainError) as exc:
        dispatch.build_message(c, m, evil, c.contents.get(language="en"))
    assert exc.value.code == "header_injection"


def test_m7_a_message_without_the_footer_is_blocked_not_sent(enabled_a, shop_a, sink, audience):
    # given: no physical address or phone in the brand
    audience.append(dispatch.Recipient(1, "anna@example.com", "en", "us", "UTC"))
    c = kit.campaign(shop_a)

    # when / then: confirming is refused, and a message that got queued anyway is not sent
    with pytest.raises(DomainError) as exc:
        campaigns.campaign_confirm(campaign=c)
    assert exc.value.code == "lint_blocked"
    c = kit.start(c)
    result = dispatch.batch_send(campaign_id=c.pk)
    assert (result.sent, result.failed) == (0, 1)
    m = Message.objects.get(campaign=c)
    assert (m.state, m.error_code) == ("failed", 422)
    assert sink.received == []


# --- SPEC M-3 at sending time: suppressed since the campaign was confirmed -------------------


@pytest.mark.parametrize("reason", ["unsubscribe", "complaint", "hard_bounce", "manual"])
def test_m3_an_address_suppressed_after_scheduling_is_skipped_not_sent(
    brand_a, shop_a, sink, audience, reason
):
    from mailing.models import Suppression
    from mailing.services import audience as audience_services
    from mailing.services import tracking

    # given: a campaign scheduled for tomorrow 09:00, its messages written
    audience += [
        dispatch.Recipient(1, "anna@example.com", "en", "us", "UTC"),
        dispatch.Recipient(2, "ok@example.com", "en", "us", "UTC"),
    ]
    c = kit.campaign(shop_a)
    campaigns.campaign_schedule(campaign=c, send_on=date(2027, 3, 10), send_at_local=time(9, 0))
    with time_machine.travel("2027-03-09T12:00:00Z", tick=False):
        c = kit.start(c)
        anna = Message.objects.get(campaign=c, email="anna@example.com")
        # when: the address is suppressed before its time comes (the unsubscribe link of the
        # message itself, a complaint, a hard bounce elsewhere, the shop by hand)
        if reason == "unsubscribe":
            tracking.unsubscribe(anna, source="page")
        else:
            audience_services.suppress(shop=shop_a, email="ANNA@example.com", reason=reason)
    assert Suppression.objects.filter(shop=shop_a, email="anna@example.com").exists()
    with time_machine.travel(anna.due_at, tick=False):
        result = dispatch.batch_send(campaign_id=c.pk)

    # then: not mailed, marked skipped, no quota used for it; the other one left
    assert (result.claimed, result.sent, result.skipped) == (1, 1, 1)
    assert [r.rcpt_tos for r in sink.received] == [["ok@example.com"]]
    anna.refresh_from_db()
    assert (anna.state, anna.sent_at, anna.billable) == (MessageState.SKIPPED, None, False)
    assert "suppression list" in anna.error_detail
    assert QuotaDay.objects.get(shop=shop_a).used == 1
    c.refresh_from_db()
    assert c.status == CampaignStatus.SENT


def test_m3_a_message_waiting_for_its_retry_is_skipped_once_its_address_is_suppressed(
    brand_a, shop_a, sink, audience
):
    from mailing.services import audience as audience_services

    # given: a soft failure waiting for its retry
    sink.handler.refuse["busy@example.com"] = "451 4.3.0 Try again later"
    audience.append(dispatch.Recipient(1, "busy@example.com", "en", "us", "UTC"))
    c = kit.start(kit.campaign(shop_a))
    assert dispatch.batch_send(campaign_id=c.pk).retried == 1
    busy = Message.objects.get(campaign=c)

    # when: they unsubscribe, then the retry comes due
    audience_services.suppress(shop=shop_a, email=busy.email, reason="unsubscribe")
    sink.handler.refuse.clear()
    with time_machine.travel(busy.due_at, tick=False):
        result = dispatch.batch_send(campaign_id=c.pk)

    # then
    assert (result.claimed, result.skipped) == (0, 1)
    assert sink.received == []
    busy.refresh_from_db()
    assert busy.state == MessageState.SKIPPED
    c.refresh_from_db()
    assert c.status == CampaignStatus.SENT


def test_m3_m6_the_ab_rest_held_for_the_winner_is_skipped_once_suppressed(
    brand_a, shop_a, sink, audience
):
    from mailing.services import audience as audience_services

    # given: an A/B test whose test share left; the rest held for the winner
    audience += list(kit.recipients(40))
    c = kit.campaign(
        shop_a,
        contents=[
            campaigns.ContentInput(language="en", subject="20% off this week", body=kit.BODY),
            campaigns.ContentInput(
                language="en", subject="30% off this week", body=kit.BODY, variant="B"
            ),
        ],
    )
    campaigns.campaign_ab_set(campaign=c, enabled=True, test_percent=20, metric="open")
    t0 = clock.now()
    with time_machine.travel(t0, tick=False):
        c = kit.start(c)
        dispatch.batch_send(campaign_id=c.pk)
    held = list(Message.objects.filter(campaign=c, state=MessageState.HELD))
    tested = len(sink.received)
    assert held
    assert tested == 40 - len(held)

    # when: the held rest unsubscribes, then the winner is decided and due
    for m in held:
        audience_services.suppress(shop=shop_a, email=m.email, reason="unsubscribe")
    with time_machine.travel(t0 + timedelta(hours=5), tick=False):
        dispatch.ab_decide(campaign_id=c.pk)
        result = dispatch.batch_send(campaign_id=c.pk)

    # then: none of them was mailed
    assert (result.claimed, result.skipped) == (0, len(held))
    assert len(sink.received) == tested
    states = Message.objects.filter(pk__in=[m.pk for m in held]).values_list("state", flat=True)
    assert set(states) == {MessageState.SKIPPED}
    c.refresh_from_db()
    assert c.status == CampaignStatus.SENT


def test_m3_an_expired_hard_bounce_quarantine_no_longer_skips(brand_a, shop_a, sink, audience):
    from mailing.services import audience as audience_services

    audience.append(dispatch.Recipient(1, "back@example.com", "en", "us", "UTC"))
    c = kit.start(kit.campaign(shop_a))
    audience_services.suppress(
        shop=shop_a,
        email="back@example.com",
        reason="hard_bounce",
        at=clock.now() - timedelta(days=31),
    )
    result = dispatch.batch_send(campaign_id=c.pk)
    assert (result.sent, result.skipped) == (1, 0)


# --- SPEC M-5/M-6: the A/B rest at each recipient's local time -------------------------------


def test_m6_m5_the_ab_winner_reaches_the_rest_at_their_own_local_time(brand_a, shop_a, audience):
    # given: Paris and New York recipients of a 09:00-local campaign, decided 1 h after the
    # earliest zone's 09:00 (Paris: 08:00 UTC → decided 09:00 UTC; New York's 09:00 is 14:00 UTC)
    audience += [
        dispatch.Recipient(i, f"p{i}@orange.fr", "fr", "fr", "Europe/Paris") for i in range(40)
    ]
    audience += [
        dispatch.Recipient(100 + i, f"n{i}@example.com", "en", "us", "America/New_York")
        for i in range(40)
    ]
    c = kit.campaign(
        shop_a,
        contents=[
            campaigns.ContentInput(language="en", subject="20% off this week", body=kit.BODY),
            campaigns.ContentInput(
                language="en", subject="30% off this week", body=kit.BODY, variant="B"
            ),
        ],
    )
    campaigns.campaign_schedule(campaign=c, send_on=date(2027, 3, 10), send_at_local=time(9, 0))
    campaigns.campaign_ab_set(
        campaign=c, enabled=True, test_percent=20, metric="open", wait_hours=1
    )
    with time_machine.travel("2027-03-09T12:00:00Z", tick=False):
        c = kit.start(c)
    rest = list(Message.objects.filter(campaign=c, state=MessageState.HELD))
    assert {m.time_zone for m in rest} == {"Europe/Paris", "America/New_York"}

    # when
    with time_machine.travel(c.ab_decide_at, tick=False):
        winner = dispatch.ab_decide(campaign_id=c.pk)

    # then: New York's rest waits for 09:00 New York time; Paris's 09:00 has passed: now
    decided = c.ab_decide_at
    assert decided.astimezone(ZoneInfo("UTC")).hour == 9
    for m in Message.objects.filter(pk__in=[m.pk for m in rest]):
        assert (m.state, m.variant) == (MessageState.QUEUED, winner)
        local = m.due_at.astimezone(ZoneInfo(m.time_zone))
        if m.time_zone == "America/New_York":
            assert (local.date(), local.time()) == (date(2027, 3, 10), time(9, 0))
        else:
            assert m.due_at == decided


# --- SPEC M-10: which refusals quarantine the address ----------------------------------------


class _RejectingEsp:
    """An ESP backend (django-anymail's interface) that rejects every recipient."""

    def __init__(self, status="rejected"):
        self.status = status

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        from types import SimpleNamespace

        for m in messages:
            m.anymail_status = SimpleNamespace(status={self.status})
        return len(messages)


@pytest.mark.parametrize("status", ["rejected", "invalid"])
def test_m10_a_recipient_the_esp_rejects_is_550_and_quarantined_30_days(
    brand_a, shop_a, audience, status
):
    from mailing.models import Suppression

    audience.append(dispatch.Recipient(1, "gone@example.com", "en", "us", "UTC"))
    c = kit.start(kit.campaign(shop_a))

    result = dispatch.batch_send(campaign_id=c.pk, conn=_RejectingEsp(status))

    assert result.failed == 1
    m = Message.objects.get(campaign=c)
    assert (m.state, m.error_code, m.bounce, m.billable) == ("failed", 550, "hard", False)
    s = Suppression.objects.get(shop=shop_a, email="gone@example.com")
    assert s.reason == "hard_bounce"
    assert s.expires_at - s.created_at == timedelta(days=30)


@pytest.mark.parametrize(
    ("stage", "answer", "code", "quarantined"),
    [
        ("data", "554 5.7.1 Message content rejected", 554, False),
        ("data", "550 5.7.1 Spam detected", 550, False),
        ("mail", "553 5.7.1 Sender address rejected", 553, False),
        ("data", "550 5.1.1 Mailbox unknown", 550, True),  # the recipient, said after DATA
        ("rcpt", "554 5.7.1 Recipient refused", 554, True),
    ],
)
def test_m10_only_a_refused_recipient_is_quarantined_other_5xx_only_fail(
    brand_a, shop_a, sink, audience, stage, answer, code, quarantined
):
    from mailing.models import Suppression

    async def refuse_mail(server, session, envelope, address, mail_options):
        return answer

    async def refuse_data(server, session, envelope):
        return answer

    if stage == "mail":
        sink.handler.handle_MAIL = refuse_mail
    elif stage == "data":
        sink.handler.handle_DATA = refuse_data
    else:
        sink.handler.refuse["anna@example.com"] = answer
    audience.append(dispatch.Recipient(1, "anna@example.com", "en", "us", "UTC"))
    c = kit.start(kit.campaign(shop_a))

    result = dispatch.batch_send(campaign_id=c.pk)

    # then: the message fails either way (not billed, not retried) …
    assert result.failed == 1
    m = Message.objects.get(campaign=c)
    assert (m.state, m.error_code, m.bounce, m.billable) == ("failed", code, "hard", False)
    # … and only the recipient's refusal quarantines the address
    assert Suppression.objects.filter(shop=shop_a, email="anna@example.com").exists() is (
        quarantined
    )


# --- SPEC M-9: a message given up after its last soft failure is billed ----------------------


def test_m9_a_message_given_up_after_its_last_soft_failure_is_billed_once_per_24_hours(
    brand_a, shop_a, sink, audience
):
    from constance import config

    from mailing.services import billing

    # given: one attempt only, and a mailbox that stays full (all within March 2027)
    config.MAILING_RETRY_MAX_ATTEMPTS = 1
    sink.handler.refuse["full@example.com"] = "452 4.2.2 Mailbox full"
    audience.append(dispatch.Recipient(1, "full@example.com", "en", "us", "UTC"))
    t0 = datetime(2027, 3, 10, 4, 0, tzinfo=UTC)
    rows = []
    for n, offset in enumerate((timedelta(0), timedelta(hours=23), timedelta(hours=25))):
        with time_machine.travel(t0 + offset, tick=False):
            c = kit.start(kit.campaign(shop_a, name=f"full{n}"))
            assert dispatch.batch_send(campaign_id=c.pk).failed == 1
            rows.append(Message.objects.get(campaign=c))

    # then: each is a soft bounce, never sent; billed by the 24-hour rule (SPEC M-9)
    assert [(m.state, m.bounce, m.sent_at) for m in rows] == [("failed", "soft", None)] * 3
    assert [m.billable for m in rows] == [True, False, True]
    assert billing.billable_count(shop=shop_a, month=date(2027, 3, 1)) == 2
    assert campaigns.billable_this_month(shop_a, at=t0 + timedelta(days=2)) == 2


# --- a campaign with nothing (left) to send ends -----------------------------------------------


def test_m5_a_campaign_whose_audience_is_empty_ends_at_once(brand_a, shop_a, audience):
    # given: nobody in the audience
    c = kit.start(kit.campaign(shop_a))

    # then: sent (nothing to send), not left 'sending' for ever
    assert (c.status, c.recipients_total) == (CampaignStatus.SENT, 0)
    assert c.finished_at is not None
    assert dispatch.batch_send(campaign_id=c.pk).claimed == 0


def test_m5_a_campaign_whose_last_message_ended_outside_a_batch_ends_at_the_next_tick(
    brand_a, shop_a, audience
):
    import uuid

    from mailing import tasks

    # given: the campaign's one message was being handed over when its worker died
    audience.append(dispatch.Recipient(1, "anna@example.com", "en", "us", "UTC"))
    c = kit.start(kit.campaign(shop_a))
    long_ago = clock.now() - timedelta(hours=1)
    Message.objects.filter(campaign=c).update(
        state=MessageState.SENDING, claimed_at=long_ago, claim_token=uuid.uuid4()
    )

    # when: the beat's tick recovers it (unknown, never resent)
    tasks.dispatch_tick_task()

    # then
    assert Message.objects.get(campaign=c).state == MessageState.UNKNOWN
    c.refresh_from_db()
    assert c.status == CampaignStatus.SENT


# --- SPEC M-2 (b): the brand logo before sending ---------------------------------------------


def test_m2_confirming_is_refused_until_the_brand_logo_is_uploaded(enabled_a, shop_a, audience):
    from mailing.services import setup

    # given: the footer is complete, the logo missing
    setup.brand_save(
        shop=shop_a,
        sender_name="Shop A",
        primary_colour="#e62e04",
        background_colour="#f5f5f5",
        physical_address=ADDRESS,
        service_phone=PHONE,
    )
    audience.append(dispatch.Recipient(1, "anna@example.com", "en", "us", "UTC"))
    c = kit.campaign(shop_a)
    checklist = campaigns.checklist(campaign=c)
    assert not checklist.brand_ok
    assert not checklist.can_send
    assert checklist.brand_problems == ("The logo is missing.",)

    # when / then: refused, saying what is missing and how to fix it
    with pytest.raises(DomainError) as exc:
        campaigns.campaign_confirm(campaign=c)
    assert exc.value.code == "brand_incomplete"
    assert "logo" in exc.value.message
    assert "Brand profile" in exc.value.message
    c.refresh_from_db()
    assert c.status == CampaignStatus.DRAFT

    # and once the logo is there, it is confirmed
    setup.brand_save(
        shop=shop_a,
        sender_name="Shop A",
        primary_colour="#e62e04",
        background_colour="#f5f5f5",
        physical_address=ADDRESS,
        service_phone=PHONE,
        logo=kit.logo(),
    )
    assert campaigns.checklist(campaign=c).brand_ok
    assert campaigns.campaign_confirm(campaign=c).status != CampaignStatus.DRAFT
