"""Helpers of the dispatch, tracking, health and billing tests: a real SMTP server on loopback
(aiosmtpd) that records what it receives, and campaign builders through the services."""

from __future__ import annotations

import email
import email.policy
import itertools
import threading
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from mailing.services import campaigns, dispatch

ADDRESS = "12 Harbour Road, Shenzhen"
PHONE = "+86 755 1234 5678"
BODY = (
    "<p>Hello {{ buyer.first_name }}, 20% off everything this week.</p>"
    '<p><a class="sc-button" href="https://www.aliexpress.com/store/1">Shop now</a></p>'
)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self):
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class SinkHandler:
    """Records every message; ``refuse`` maps a recipient to an SMTP answer ("550 …")."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope: Envelope, address, rcpt_options):
        answer = self.refuse.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope: Envelope):
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 Message accepted"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    def __init__(self) -> None:
        self.handler = SinkHandler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=_free_port())

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def received(self) -> list[Received]:
        return self.handler.received


def use_sink(settings, sink: SmtpSink) -> None:
    settings.SC_MAILING_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.SC_MAILING_EMAIL_OPTIONS = {"host": "127.0.0.1", "port": sink.port, "timeout": 10}


def recipients(n: int, *, domain: str = "example.com", start: int = 0, **extra):
    for i in range(start, start + n):
        yield dispatch.Recipient(
            buyer_id=extra.get("buyer_id"),
            email=f"r{i}@{domain}",
            language=extra.get("language", "en"),
            site=extra.get("site", "us"),
            time_zone=extra.get("time_zone", "America/New_York"),
        )


def campaign(shop, *, contents=None, **kw):
    contents = contents or [
        campaigns.ContentInput(language="en", subject="20% off this week", body=BODY),
        campaigns.ContentInput(
            language="fr", subject="-20 % cette semaine", body=BODY.replace("Hello", "Bonjour")
        ),
    ]
    return campaigns.campaign_create(
        shop=shop, name=kw.pop("name", "Spring sale"), contents=contents, **kw
    )


def start(campaign):
    """Confirmed and its recipients streamed (the task's work, run here in-line)."""
    from core import clock
    from mailing.models import Campaign, CampaignStatus

    Campaign.objects.filter(pk=campaign.pk).update(
        status=CampaignStatus.SCHEDULED, confirmed_at=clock.now()
    )
    dispatch.campaign_materialize(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


# --- fixtures (imported by tests/mailing/conftest.py) ---


def logo():
    """A PNG logo upload (SPEC M-2 b: required before a campaign is confirmed)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mailing import demo

    return SimpleUploadedFile("logo.png", demo.LOGO_PNG, content_type="image/png")


@pytest.fixture
def brand_a(enabled_a, shop_a):
    """Shop A's complete brand profile: footer (address, phone) and logo (SPEC M-2 b)."""
    from mailing.services import setup

    setup.brand_save(
        shop=shop_a,
        sender_name="Shop A",
        primary_colour="#e62e04",
        background_colour="#f5f5f5",
        physical_address=ADDRESS,
        service_phone=PHONE,
        logo=logo(),
    )
    return enabled_a


@pytest.fixture
def sink(settings):
    with SmtpSink() as s:
        use_sink(settings, s)
        yield s


@pytest.fixture
def audience(monkeypatch):
    """The campaign's recipients, as the audience would stream them."""
    people: list[dispatch.Recipient] = []
    monkeypatch.setattr(dispatch, "recipients_for", lambda campaign: iter(list(people)))
    return people


def sent(shop, people, *, campaign=None):
    """Messages sent to ``people`` (Recipients) through the default (test: in-memory) mailer."""
    from mailing.models import Message

    c = campaign or make_campaign(shop, name=f"c{next(_n)}")
    original = dispatch.recipients_for
    dispatch.recipients_for = lambda _c: iter(list(people))
    try:
        start(c)
    finally:
        dispatch.recipients_for = original
    while dispatch.batch_send(campaign_id=c.pk).claimed:
        pass
    return list(Message.objects.filter(campaign=c).order_by("id"))


_n = itertools.count()
make_campaign = campaign


def sent_rows(shop, n, *, at, campaign=None, domain="example.com", prefix="m", **fields):
    """``n`` message rows sent at ``at`` (bulk, for health and billing figures)."""
    from mailing.models import Message

    c = campaign or make_campaign(shop, name=f"bulk{next(_n)}")
    Message.objects.bulk_create(
        [
            Message(
                campaign=c,
                shop=shop,
                email=f"{prefix}{i}@{domain}",
                language="en",
                variant="A",
                state="sent",
                sent_at=at,
                billable=fields.get("billable", True),
                bounce=fields.get("bounce", ""),
                bounced_at=at if fields.get("bounce") else None,
                unsubscribed_at=at if i < fields.get("unsubscribed", 0) else None,
                complained_at=at if i < fields.get("complained", 0) else None,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    return c
