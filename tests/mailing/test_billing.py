"""Billing (SPEC M-9): the month's billable messages, 5,000 free, the rest charged to the shop
balance ledger once; hard bounces and messages folded by the 24-hour dedupe are not billed."""

from datetime import date, datetime, timedelta

import dispatchkit as kit
import pytest
from constance import config

from core import clock
from core.money import Money
from mailing import rules
from mailing.models import MailingAccount, Statement
from mailing.services import billing
from shops.models import BalanceEntry
from shops.services import balance_credit


@pytest.fixture
def priced(enabled_a, shop_a):
    """The price in the shop's currency (CNY) and an account enabled before the months used."""
    config.MAILING_PRICE_CURRENCY = shop_a.currency
    MailingAccount.objects.filter(shop=shop_a).update(
        enabled_at=datetime(2026, 12, 1, tzinfo=clock.platform_tz())
    )
    return shop_a


def _in(month: date, hours: int = 12) -> datetime:
    return clock.day_start(month) + timedelta(hours=hours)


def test_m9_charge_is_rounded_up_once_per_statement(db):
    assert rules.charge_minor(count=0, exponent=2) == 0
    assert rules.charge_minor(count=1, exponent=2) == 1  # $0.0025 → 1 cent
    assert rules.charge_minor(count=4, exponent=2) == 1  # exactly 1 cent
    assert rules.charge_minor(count=5, exponent=2) == 2
    assert rules.charge_minor(count=400, exponent=2) == 100
    assert rules.charge_minor(count=1, exponent=0) == 1  # JPY: a yen
    assert rules.charged_messages(billable=5000) == 0
    assert rules.charged_messages(billable=5001) == 1


def test_m9_the_5000th_message_is_free_and_the_5001st_is_charged(priced):
    shop = priced
    balance_credit(shop=shop, amount=Money(100_00, "CNY"), reason="top-up", idempotency_key="t")
    kit.sent_rows(shop, 5000, at=_in(date(2027, 1, 1)))
    kit.sent_rows(shop, 5001, at=_in(date(2027, 2, 1)), prefix="f")

    jan = billing.statement_close(shop=shop, month=date(2027, 1, 1))
    feb = billing.statement_close(shop=shop, month=date(2027, 2, 1))

    assert (jan.billable, jan.free, jan.charged, jan.amount_minor) == (5000, 5000, 0, 0)
    assert jan.balance_entry is None
    assert (feb.billable, feb.free, feb.charged, feb.amount_minor) == (5001, 5000, 1, 1)
    entry = BalanceEntry.objects.get(pk=feb.balance_entry_id)
    assert (entry.kind, entry.amount_minor) == ("debit", 1)


def test_m9_hard_bounces_and_deduped_messages_are_not_billed_soft_bounces_are(priced):
    shop = priced
    month = date(2027, 1, 1)
    kit.sent_rows(shop, 5000, at=_in(month))
    kit.sent_rows(shop, 3, at=_in(month), prefix="hard", bounce="hard")
    kit.sent_rows(shop, 2, at=_in(month), prefix="dup", billable=False)
    kit.sent_rows(shop, 4, at=_in(month), prefix="soft", bounce="soft")
    assert billing.billable_count(shop=shop, month=month) == 5004


def test_m9_the_month_is_a_natural_calendar_month(priced):
    shop = priced
    kit.sent_rows(shop, 1, at=clock.day_start(date(2027, 2, 1)) - timedelta(seconds=1))
    kit.sent_rows(shop, 1, at=clock.day_start(date(2027, 2, 1)), prefix="feb")
    assert billing.billable_count(shop=shop, month=date(2027, 1, 1)) == 1
    assert billing.billable_count(shop=shop, month=date(2027, 2, 1)) == 1


def test_m9_a_charge_the_balance_cannot_cover_waits_and_is_taken_once_later(priced):
    shop = priced
    kit.sent_rows(shop, 5400, at=_in(date(2027, 1, 1)))  # 400 charged = 1.00 CNY

    with_no_money = billing.statement_close(shop=shop, month=date(2027, 1, 1))
    assert with_no_money.balance_entry is None
    assert "cannot cover" in with_no_money.error

    balance_credit(shop=shop, amount=Money(5_00, "CNY"), reason="top-up", idempotency_key="t")
    with time_travel(date(2027, 2, 3)):
        assert billing.statements_close() == 1
        assert billing.statements_close() == 0  # charged: nothing left to retry
    s = Statement.objects.get(shop=shop)
    assert (s.amount_minor, s.error) == (100, "")
    assert BalanceEntry.objects.filter(shop=shop, kind="debit").count() == 1


def test_m9_no_exchange_rate_means_no_guess(enabled_a, shop_a):
    config.MAILING_PRICE_CURRENCY = "USD"
    kit.sent_rows(shop_a, 5001, at=clock.now())
    s = billing.statement_close(shop=shop_a, month=clock.natural_day())
    assert (s.charged, s.amount_minor, s.balance_entry) == (1, 0, None)
    assert "exchange rate" in s.error


def time_travel(day: date):
    import time_machine

    return time_machine.travel(clock.day_start(day) + timedelta(hours=1), tick=False)


def test_m9_statements_page_lists_the_shops_own_only(
    owner_client, other_client, priced, django_assert_max_num_queries
):
    kit.sent_rows(priced, 10, at=_in(date(2027, 1, 1)))
    billing.statement_close(shop=priced, month=date(2027, 1, 1))
    with django_assert_max_num_queries(12):
        mine = owner_client.get("/mailing/statements/")
    assert [s.month for s in mine.context["page_obj"]] == [date(2027, 1, 1)]
    assert list(other_client.get("/mailing/statements/").context["page_obj"]) == []


def _given_up(shop, n: int, *, at: datetime, billable: bool = True) -> None:
    """``n`` messages given up after their last soft failure at ``at`` (never sent)."""
    from mailing.models import Message

    c = kit.make_campaign(shop, name=f"soft-{at:%Y%m%d%H}")
    Message.objects.bulk_create(
        Message(
            campaign=c,
            shop=shop,
            email=f"gave-up{i}@example.com",
            language="en",
            variant="A",
            state="failed",
            error_code=452,
            bounce="soft",
            bounced_at=at,
            billable=billable,
        )
        for i in range(n)
    )


def test_m9_soft_bounces_given_up_unsent_are_billed_in_the_month_they_were_given_up(priced):
    shop = priced
    balance_credit(shop=shop, amount=Money(100_00, "CNY"), reason="top-up", idempotency_key="t")
    # given: only given-up soft bounces in January (two folded by the 24-hour rule), and one
    # given up on February's first natural day
    _given_up(shop, 5001, at=_in(date(2027, 1, 1)))
    _given_up(shop, 2, at=_in(date(2027, 1, 2)), billable=False)
    _given_up(shop, 1, at=clock.day_start(date(2027, 2, 1)))

    # then
    assert billing.billable_count(shop=shop, month=date(2027, 1, 1)) == 5001
    assert billing.billable_count(shop=shop, month=date(2027, 2, 1)) == 1
    with time_travel(date(2027, 2, 3)):
        assert billing.statements_close() == 1  # the shop sent nothing, and is billed
    jan = Statement.objects.get(shop=shop, month=date(2027, 1, 1))
    assert (jan.billable, jan.charged, jan.amount_minor) == (5001, 1, 1)


def test_m9_s0_a_price_in_another_currency_is_converted_at_the_months_last_day_rate(
    enabled_a, shop_a
):
    # given: $0.0025 a message, the shop's balance in CNY; the rate changes after the month
    from decimal import Decimal

    from core.models import FxRate

    config.MAILING_PRICE_CURRENCY = "USD"
    month = clock.natural_day().replace(day=1)
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    FxRate.objects.create(currency="CNY", day=month, units_per_usd=Decimal("7.1"))
    FxRate.objects.create(currency="CNY", day=last + timedelta(days=1), units_per_usd=Decimal("9"))
    kit.sent_rows(shop_a, 5401, at=clock.now())  # 401 charged = $1.0025

    # when
    s = billing.statement_close(shop=shop_a, month=month)

    # then: 1.0025 × 7.1 = ¥7.11775, rounded up once to ¥7.12
    assert (s.charged, s.amount_minor, s.currency) == (401, 7_12, "CNY")
    assert "exchange rate" not in s.error  # priced; only the empty balance waits


def test_m9_s0_a_statement_waiting_for_a_rate_is_charged_once_the_rate_exists(enabled_a, shop_a):
    from decimal import Decimal

    from core.models import FxRate

    config.MAILING_PRICE_CURRENCY = "USD"
    MailingAccount.objects.filter(shop=shop_a).update(
        enabled_at=datetime(2026, 12, 1, tzinfo=clock.platform_tz())
    )
    balance_credit(shop=shop_a, amount=Money(100_00, "CNY"), reason="top-up", idempotency_key="t")
    kit.sent_rows(shop_a, 5400, at=_in(date(2027, 1, 1)))  # 400 charged = $1.00
    with time_travel(date(2027, 2, 3)):
        assert billing.statements_close() == 1
    waiting = Statement.objects.get(shop=shop_a)
    assert (waiting.amount_minor, waiting.balance_entry) == (0, None)
    assert "exchange rate" in waiting.error

    # when: an admin adds the rate, and the daily job runs again (twice)
    FxRate.objects.create(currency="CNY", day=date(2027, 1, 1), units_per_usd=Decimal("7.2"))
    with time_travel(date(2027, 2, 4)):
        assert billing.statements_close() == 1
        assert billing.statements_close() == 0

    # then: charged once, ¥7.20
    s = Statement.objects.get(shop=shop_a)
    assert (s.amount_minor, s.error) == (7_20, "")
    assert s.balance_entry is not None
    debits = BalanceEntry.objects.filter(shop=shop_a, kind="debit")
    assert [d.amount_minor for d in debits] == [7_20]
