"""The dispatch engine (SPEC M-5, M-8, M-9, M-10) against a real SMTP server on loopback."""

from __future__ import annotations

from datetime import date, time, timedelta
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
