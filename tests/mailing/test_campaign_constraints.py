"""Every database constraint of the campaign, dispatch, billing and health models refuses what
it must (IntegrityError), written here bypassing the services (DESIGN §2 backstop)."""

from datetime import date, time

import dispatchkit as kit
import pytest
from django.db import IntegrityError, transaction

from core import clock
from mailing.models import (
    BillingWindow,
    Campaign,
    CampaignContent,
    HealthDay,
    InboundEvent,
    Message,
    OrderAttribution,
    QuotaDay,
    SendingPause,
    Statement,
)


@pytest.fixture
def world(enabled_a, shop_a):
    c = kit.campaign(shop_a)
    m = Message.objects.create(
        campaign=c, shop=shop_a, email="a@example.com", language="en", state="queued", variant="A"
    )
    now = clock.now()
    QuotaDay.objects.create(shop=shop_a, day=date(2027, 1, 1))
    BillingWindow.objects.create(shop=shop_a, email="a@example.com", started_at=now)
    Statement.objects.create(
        shop=shop_a,
        month=date(2027, 1, 1),
        billable=1,
        free=1,
        charged=0,
        amount_minor=0,
        currency="CNY",
    )
    HealthDay.objects.create(shop=shop_a, day=date(2027, 1, 1), evaluated_at=now)
    SendingPause.objects.create(shop=shop_a, started_at=now)
    OrderAttribution.objects.create(shop=shop_a, message=m, campaign=c, order_id=1, ordered_at=now)
    InboundEvent.objects.create(source="esp", event_id="e1")
    return {"shop": shop_a, "campaign": c, "message": m, "now": now}


def _msg(w, **kw):
    fields = dict(
        campaign=w["campaign"],
        shop=w["shop"],
        email="b@example.com",
        language="en",
        state="queued",
        variant="A",
    )
    fields.update(kw)
    return Message.objects.create(**fields)


CASES = {
    "campaign_ab_share_range": lambda w: Campaign.objects.create(
        shop=w["shop"], name="x", ab_test_percent=51
    ),
    "campaign_schedule_both_or_none": lambda w: Campaign.objects.create(
        shop=w["shop"], name="x", send_on=date(2027, 1, 1)
    ),
    "campaigncontent_unique": lambda w: CampaignContent.objects.create(
        campaign=w["campaign"], variant="A", language="en", subject="s", body="b"
    ),
    "campaigncontent_variant_ab": lambda w: CampaignContent.objects.create(
        campaign=w["campaign"], variant="C", language="de", subject="s", body="b"
    ),
    "message_once_per_campaign": lambda w: _msg(w, email="a@example.com"),
    "message_claim_has_time": lambda w: _msg(w, state="claimed"),
    "message_sent_has_time": lambda w: _msg(w, state="sent"),
    "message_variant_ab": lambda w: _msg(w, variant="C"),
    "Message.message_id": lambda w: _msg(w, message_id=w["message"].message_id),
    "quotaday_unique": lambda w: QuotaDay.objects.create(shop=w["shop"], day=date(2027, 1, 1)),
    "billingwindow_unique": lambda w: BillingWindow.objects.create(
        shop=w["shop"], email="a@example.com", started_at=w["now"]
    ),
    "statement_unique": lambda w: Statement.objects.create(
        shop=w["shop"],
        month=date(2027, 1, 1),
        billable=0,
        free=0,
        charged=0,
        amount_minor=0,
        currency="CNY",
    ),
    "statement_amount_gte0": lambda w: Statement.objects.create(
        shop=w["shop"],
        month=date(2027, 2, 1),
        billable=0,
        free=0,
        charged=0,
        amount_minor=-1,
        currency="CNY",
    ),
    "statement_charged_le_billable": lambda w: Statement.objects.create(
        shop=w["shop"],
        month=date(2027, 3, 1),
        billable=1,
        free=0,
        charged=2,
        amount_minor=0,
        currency="CNY",
    ),
    "healthday_unique": lambda w: HealthDay.objects.create(
        shop=w["shop"], day=date(2027, 1, 1), evaluated_at=w["now"]
    ),
    "sendingpause_one_open": lambda w: SendingPause.objects.create(
        shop=w["shop"], started_at=w["now"]
    ),
    "OrderAttribution.order_id": lambda w: OrderAttribution.objects.create(
        shop=w["shop"],
        message=w["message"],
        campaign=w["campaign"],
        order_id=1,
        ordered_at=w["now"],
    ),
    "inboundevent_unique": lambda w: InboundEvent.objects.create(source="esp", event_id="e1"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_campaign_constraint_refuses_a_violating_row(world, name):
    with pytest.raises(IntegrityError), transaction.atomic():
        CASES[name](world)


def test_the_valid_rows_themselves_are_accepted(world):
    # a second schedule with both parts, a B variant, a claimed row with its time
    Campaign.objects.create(
        shop=world["shop"], name="ok", send_on=date(2027, 1, 1), send_at_local=time(9, 0)
    )
    CampaignContent.objects.create(
        campaign=world["campaign"], variant="B", language="en", subject="s", body="b"
    )
    _msg(world, state="claimed", claimed_at=world["now"])
