"""Promoter notices (SPEC A-1, A-3, A-6 fraud holds, payouts) are stored as a kind and its facts
and worded in the reader's language when shown; ``text`` keeps the English wording."""

from datetime import timedelta

import affkit
import pytest
from django.utils import translation
from test_portal import approved

from affiliate.models import HoldRule, PromoterNotice
from affiliate.notices import notice_send
from core import clock

TOO_FAST = {"seconds": 3, "min_seconds": 20}


@pytest.mark.parametrize(
    ("kind", "params", "english", "chinese"),
    [
        ("approved", {}, "Your documents are approved.", "您的资料已审核通过"),
        ("pid_idle", {"pid": "mm_1", "days": 21, "left": 2}, "in 2 days", "将在 2 天后被冻结"),
        (
            "hold",
            {
                "order": "SO-7",
                "rule": HoldRule.TOO_FAST,
                "details": {"seconds": 3, "min_seconds": 20},
            },
            "order SO-7 is on hold for review: Ordered 3 s after the click",
            "订单 SO-7 的佣金已暂停",
        ),
        (
            "payout_paid",
            {"amount_minor": 12_34, "currency": "CNY", "batch": 5},
            "Payout of ¥12.34 sent (batch 5).",
            "¥12.34 的打款已发出（批次 5）",
        ),
    ],
)
def test_a3_a6_notice_is_worded_in_the_readers_language_and_stored_in_english(
    db, kind, params, english, chinese
):
    # given: written by a job running in Chinese
    promoter = affkit.promoter()
    with translation.override("zh-hans"):
        notice = notice_send(
            promoter_id=promoter.pk, kind=kind, params=params, created_at=clock.now()
        )

    # then: stored in English, shown in the reader's language
    notice = PromoterNotice.objects.get(pk=notice.pk)
    assert english in notice.text
    with translation.override("en"):
        assert english in notice.message
    with translation.override("zh-hans"):
        assert chinese in notice.message


def test_a1_notice_written_before_its_facts_were_kept_shows_its_stored_text(db):
    promoter = affkit.promoter()
    old = PromoterNotice.objects.create(
        promoter=promoter, kind="pid_idle", text="PID x idle.", created_at=clock.now()
    )
    with translation.override("zh-hans"):
        assert old.message == "PID x idle."


def test_a1_portal_shows_the_approval_notice_in_the_promoters_language(db):
    client, _promoter = approved()
    response = client.get("/promoter/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "您的资料已审核通过" in response.content.decode()
    response = client.get("/promoter/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Your documents are approved." in response.content.decode()
    assert clock.now() - timedelta(minutes=5) < _promoter.notices.get().created_at
