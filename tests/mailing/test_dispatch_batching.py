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
