"""The dispatch engine's per-batch work (SPEC M-10, bench `dispatch`): one render per content and
language, one key per batch, one database round trip per message — and still never more than one
message handed over and not yet recorded."""

from __future__ import annotations

import dispatchkit as kit
from constance import config
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mailing.models import Message, MessageState
from mailing.services import dispatch


def _batch_queries(shop, audience, n: int, *, start: int) -> tuple[int, int]:
    audience[:] = list(kit.recipients(n, start=start))
    c = kit.start(kit.campaign(shop, name=f"batch {start}"))
    config.MAILING_BATCH_SIZE = n
    with CaptureQueriesContext(connection) as ctx:
        result = dispatch.batch_send(campaign_id=c.pk)
    assert result.sent == n
    assert Message.objects.filter(campaign=c, state=MessageState.SENT).count() == n
    return len(ctx.captured_queries), Message.objects.filter(campaign=c, billable=True).count()


def test_m10_a_batch_costs_a_fixed_number_of_queries_plus_one_per_message(
    brand_a, shop_a, sink, audience
):
    # given / when: a batch of 2 and a batch of 8 (warm caches first)
    _batch_queries(shop_a, audience, 1, start=900)
    small, billed_small = _batch_queries(shop_a, audience, 2, start=0)
    large, billed_large = _batch_queries(shop_a, audience, 8, start=100)
    # then: the 6 more messages cost exactly 6 more statements (each message's 'sending' mark,
    # which also records the previous one 'sent' with its billing window), nothing else
    assert large - small == 6
    # the batch's fixed statements: campaign, pause, identity, brand, registry numbers, quota
    # row, claim, contents, the claimed rows, release check, finish check
    assert small <= 26
    # and every message was recorded sent and billed (new addresses: each one billable)
    assert (billed_small, billed_large) == (2, 8)


def test_m10_never_more_than_one_message_sending_while_a_batch_runs(
    brand_a, shop_a, sink, audience, monkeypatch
):
    # given: 5 recipients; at each hand-over, the rows 'sending' and 'sent' are counted
    audience[:] = list(kit.recipients(5))
    c = kit.start(kit.campaign(shop_a))
    seen = []

    def before(message):
        rows = Message.objects.filter(campaign=c)
        seen.append(
            (
                rows.filter(state=MessageState.SENDING).count(),
                rows.filter(state=MessageState.SENT).count(),
            )
        )

    monkeypatch.setattr(dispatch, "_before_send", before)
    # when
    result = dispatch.batch_send(campaign_id=c.pk)
    # then: only the message about to be handed over is 'sending'; every earlier one is 'sent'
    assert result.sent == 5
    assert seen == [(1, 0), (1, 1), (1, 2), (1, 3), (1, 4)]
    assert Message.objects.filter(campaign=c, state=MessageState.SENT).count() == 5


def test_m2_a_batch_renders_each_content_once_with_the_same_result(
    brand_a, shop_a, audience, monkeypatch
):
    # given: two messages of one campaign (English)
    from mailing import rendering

    audience[:] = list(kit.recipients(2))
    c = kit.start(kit.campaign(shop_a))
    first, second = Message.objects.filter(campaign=c).order_by("id")
    sender = dispatch.sender_for(shop_a)
    content = c.contents.get(language="en")
    renders_done = []
    real_render = rendering.render
    monkeypatch.setattr(
        rendering, "render", lambda *a, **kw: renders_done.append(1) or real_render(*a, **kw)
    )
    # when: built with a batch's render cache, and each on its own
    cache: dict = {}
    batched = [
        dispatch.build_message(c, m, sender, content, renders=cache) for m in (first, second)
    ]
    cached_renders = len(renders_done)
    alone = [dispatch.build_message(c, m, sender, content) for m in (first, second)]
    # then: one render for the batch, and byte for byte the same subject, HTML and text, each
    # with its own unsubscribe link (the stand-in never leaks)
    assert cached_renders == 1
    for b, a, m in zip(batched, alone, (first, second), strict=True):
        assert (b.subject, b.html, b.text) == (a.subject, a.html, a.text)
        assert dispatch.unsubscribe_url(m) in b.html
        assert dispatch.unsubscribe_url(m) in b.text
        assert "sc-stand-in" not in b.html + b.text
        assert b"sc-stand-in" not in b.email.signed
    assert batched[0].html != batched[1].html


def _unsigned(data: bytes) -> bytes:
    """The message without the DKIM-Signature field in front of it."""
    assert data.startswith(b"DKIM-Signature:")
    end = 0
    while True:
        end = data.index(b"\r\n", end) + 2
        if data[end : end + 1] not in (b" ", b"\t"):
            return data[end:]


def test_m2_m11_a_built_message_is_standard_mime_with_encoded_words_and_one_line_unsubscribe(
    brand_a, shop_a, audience
):
    # given: a non-ASCII subject and sender name, a recipient in French
    import email
    import email.policy

    from mailing.services import campaigns

    audience[:] = [dispatch.Recipient(1, "marie@orange.fr", "fr", "fr", "Europe/Paris")]
    c = kit.start(
        kit.campaign(
            shop_a,
            contents=[
                campaigns.ContentInput(
                    language="en", subject="Soldes d’été — 20 % 🎉", body=kit.BODY
                )
            ],
        )
    )
    m = Message.objects.get(campaign=c)
    sender = dispatch.Sender(name="Boutique Élodie", address="news@x.example", domain="x.example")

    # when
    built = dispatch.build_message(c, m, sender, c.contents.get())

    # then: ASCII on the wire, encoded-words for the non-ASCII header values, CRLF lines
    data = built.data
    assert data.isascii()
    assert b"\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    head = data.split(b"\r\n\r\n", 1)[0]
    assert b"=?utf-8?" in head  # RFC 2047 encoded-words (Subject, From)
    unsubscribe = dispatch.unsubscribe_url(m)
    # RFC 8058: the URL itself in angle brackets on the header line (not an encoded-word)
    assert f"\r\nList-Unsubscribe: <{unsubscribe}>\r\n".encode() in head
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in head
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Subject"] == "Soldes d’été — 20 % 🎉"
    assert parsed["From"].addresses[0].display_name == "Boutique Élodie"
    assert parsed["To"] == "marie@orange.fr"
    assert parsed["Message-ID"] == f"<{m.message_id.hex}@x.example>"
    assert parsed["Date"].datetime is not None
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = (p.get_content() for p in parsed.iter_parts())
    assert parsed.get_body(("plain",)).get_content() == text
    assert text.replace("\r\n", "\n").strip() == built.text.strip()
    assert html.replace("\r\n", "\n").strip() == built.html.strip()
    assert unsubscribe in html
    assert unsubscribe in text


def test_m2_a_batch_signature_is_byte_for_byte_dkimpys_and_verifies(brand_a, shop_a, audience):
    # given: a batch's messages, signed with the batch's key at one moment
    import dkim as dkimpy
    import time_machine

    from integrations.services import decrypt_secret
    from mailing import dkim

    audience[:] = [
        *kit.recipients(2),
        dispatch.Recipient(9, "élodie@exemple.fr", "fr", "fr", "Europe/Paris"),
    ]
    c = kit.start(kit.campaign(shop_a))
    sender = dispatch.sender_for(shop_a)
    domain = sender.dkim
    batch_sender = dispatch.Sender(
        name=sender.name,
        address=sender.address,
        domain=sender.domain,
        dkim=domain,
        from_header=sender.from_header,
        signer=dkim.KeySigner(domain),
    )
    content = {x.language: x for x in c.contents.all()}
    cache: dict = {}
    with time_machine.travel("2026-03-02 10:00:00+00:00", tick=False):
        built = [
            dispatch.build_message(
                c, m, batch_sender, content.get(m.language, content["en"]), renders=cache
            )
            for m in Message.objects.filter(campaign=c).order_by("id")
        ]
        # when: dkimpy signs the same unsigned bytes with the same key
        references = [
            dkimpy.sign(
                _unsigned(b.data),
                selector=domain.dkim_selector.encode(),
                domain=domain.domain.encode(),
                privkey=decrypt_secret(domain.dkim_private_key_encrypted).encode(),
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=list(dkim.SIGNED_HEADERS),
            )
            + _unsigned(b.data)
            for b in built
        ]

    # then
    assert [b.data for b in built] == references

    def dnsfunc(name, timeout=5):
        return dkim.dns_txt_value(domain.dkim_public_key).encode()

    assert all(dkimpy.verify(b.data, dnsfunc=dnsfunc) for b in built)
    tampered = built[0].data.replace(b"List-Unsubscribe: <", b"List-Unsubscribe: <x")
    assert not dkimpy.verify(tampered, dnsfunc=dnsfunc)


def test_m10_a_row_taken_back_while_its_mark_commits_is_never_delivered(
    brand_a, shop_a, sink, audience, monkeypatch
):
    # given: 3 recipients; the 2nd row is taken back (as recovery would) just before its
    # 'sending' mark, while the mail server already has its transaction open (MAIL, RCPT, DATA)
    audience[:] = list(kit.recipients(3))
    c = kit.start(kit.campaign(shop_a))
    second = Message.objects.filter(campaign=c).order_by("id")[1]
    real = dispatch._mark_sending

    def mark(message, *args, **kwargs):
        if message.pk == second.pk:
            Message.objects.filter(pk=second.pk).update(state=MessageState.UNKNOWN)
        return real(message, *args, **kwargs)

    monkeypatch.setattr(dispatch, "_mark_sending", mark)

    # when
    result = dispatch.batch_send(campaign_id=c.pk)

    # then: its opened transaction was dropped, not delivered; the others went out once each
    assert (result.sent, result.released) == (2, 1)
    received = sorted(r.rcpt_tos[0] for r in sink.received)
    assert received == sorted(
        m.email for m in Message.objects.filter(campaign=c) if m.pk != second.pk
    )


def test_m10_messages_are_built_ahead_on_the_build_thread_in_order(
    brand_a, shop_a, sink, audience, monkeypatch
):
    # given: 5 recipients; each build records its thread
    import threading

    audience[:] = list(kit.recipients(5))
    c = kit.start(kit.campaign(shop_a))
    real = dispatch._prepare
    built_on = []

    def prepare(campaign, message, *args, **kwargs):
        built_on.append((message.pk, threading.current_thread() is threading.main_thread()))
        return real(campaign, message, *args, **kwargs)

    monkeypatch.setattr(dispatch, "_prepare", prepare)
    # when
    result = dispatch.batch_send(campaign_id=c.pk)
    # then: every message was built once, off the main thread, in the order it was sent
    ids = list(Message.objects.filter(campaign=c).order_by("id").values_list("pk", flat=True))
    assert result.sent == 5
    assert built_on == [(pk, False) for pk in ids]
    assert [r.rcpt_tos[0] for r in sink.received] == [
        Message.objects.get(pk=pk).email for pk in ids
    ]


def test_m10_a_build_that_queries_the_database_stops_the_batch_and_hands_its_rows_back(
    brand_a, shop_a, sink, audience, monkeypatch
):
    # given: 3 recipients; the 2nd message's build reads the database (not allowed there)
    audience[:] = list(kit.recipients(3))
    c = kit.start(kit.campaign(shop_a))
    second = Message.objects.filter(campaign=c).order_by("id")[1]
    real = dispatch._prepare

    def prepare(campaign, message, *args, **kwargs):
        if message.pk == second.pk:
            Message.objects.filter(pk=message.pk).exists()
        return real(campaign, message, *args, **kwargs)

    monkeypatch.setattr(dispatch, "_prepare", prepare)
    # when
    try:
        dispatch.batch_send(campaign_id=c.pk)
    except RuntimeError as exc:
        refused = str(exc)
    else:
        refused = ""
    # then: refused loudly; the 1st was sent, the 2nd and 3rd are queued again, nothing twice
    assert "no query on the build thread" in refused
    states = dict(Message.objects.filter(campaign=c).values_list("pk", "state"))
    first, _, third = sorted(states)
    assert states == {
        first: MessageState.SENT,
        second.pk: MessageState.QUEUED,
        third: MessageState.QUEUED,
    }
    assert len(sink.received) == 1
