"""SPEC §0: the marketplace credits a shop's balance with ``shop.balance_credited`` — once per
event id and once per marketplace credit id."""

import pytest
from api.support import Sender, ev
from factories import make_shop

from core.money import Money
from integrations.services import integration_create
from shops.models import BalanceEntry
from shops.selectors import balance_for_shop


@pytest.fixture
def sender(db):
    integration, secret = integration_create(name="Marketplace")
    return Sender(integration, secret)


@pytest.fixture
def shop(db):
    return make_shop(external_id="shop-bal")


def credit(shop_id="shop-bal", credit_id="cr-1", amount=120_00, currency="CNY", **extra):
    return ev(
        "shop.balance_credited",
        {
            "shop_id": shop_id,
            "credit_id": credit_id,
            "amount_minor": amount,
            "currency": currency,
            **extra,
        },
    )


def test_balance_credited_event_credits_the_shop(sender, shop):
    # when
    result = sender.one(credit(reason="Settlement payout 2026-05"))

    # then
    assert result["status"] == "applied"
    entry = BalanceEntry.objects.get()
    assert result["result"] == {"balance_entry_id": entry.pk, "balance_after_minor": 120_00}
    assert (entry.reason, entry.kind) == ("Settlement payout 2026-05", "credit")
    assert balance_for_shop(shop=shop) == Money(120_00, "CNY")


@pytest.mark.parametrize("reason", [None, "", "   ", "\t\n"])
def test_credit_without_a_reason_is_credited_with_the_default_reason(sender, shop, reason):
    # given: no reason, an empty one, or only whitespace (which the ledger would refuse)
    extra = {} if reason is None else {"reason": reason}

    # when
    result = sender.one(credit(**extra))

    # then: credited, with the ledger's own "Marketplace credit" reason
    assert result["status"] == "applied", result
    entry = BalanceEntry.objects.get()
    assert (entry.reason, entry.reason_key) == ("Marketplace credit", "shops.marketplace_credit")
    assert balance_for_shop(shop=shop) == Money(120_00, "CNY")


def test_credit_reason_is_kept_without_surrounding_whitespace(sender, shop):
    sender.one(credit(reason="  Settlement payout 2026-05 "))
    entry = BalanceEntry.objects.get()
    assert (entry.reason, entry.reason_key) == ("Settlement payout 2026-05", "")


def test_replayed_event_is_a_duplicate_and_credits_once(sender, shop):
    # given
    event = credit()
    sender.one(event)

    # when
    again = sender.one(event)

    # then
    assert (again["status"], again["original_status"]) == ("duplicate", "applied")
    assert balance_for_shop(shop=shop) == Money(120_00, "CNY")


def test_same_credit_id_under_a_new_event_id_credits_once(sender, shop):
    # given
    first = sender.one(credit())

    # when: the marketplace re-sends the credit with a fresh event id
    again = sender.one(credit())

    # then: applied with the first entry, not a second credit
    assert again["status"] == "applied"
    assert again["result"] == first["result"]
    assert BalanceEntry.objects.count() == 1
    assert balance_for_shop(shop=shop) == Money(120_00, "CNY")


def test_same_credit_id_with_another_amount_is_rejected(sender, shop):
    # given
    sender.one(credit())
    # when
    result = sender.one(credit(amount=999_00))
    # then
    assert (result["status"], result["code"]) == ("rejected", "idempotency_key_reused")
    assert balance_for_shop(shop=shop) == Money(120_00, "CNY")


def test_credit_in_another_currency_is_rejected(sender, shop):
    # when
    result = sender.one(credit(currency="USD"))
    # then
    assert (result["status"], result["code"]) == ("rejected", "currency_mismatch")
    assert not BalanceEntry.objects.exists()


def test_credit_for_an_unknown_shop_is_retryable(sender, shop):
    # when
    result = sender.one(credit(shop_id="shop-unknown"))
    # then
    assert (result["status"], result["code"], result["retryable"]) == (
        "rejected",
        "unknown_shop",
        True,
    )
    assert not BalanceEntry.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"amount_minor": 0},
        {"amount_minor": -5},
        {"amount_minor": 12.5},
        {"amount_minor": "1200"},
        {"currency": None},
        {"credit_id": ""},
    ],
)
def test_malformed_credit_is_refused_by_the_schema(sender, shop, data):
    # given
    event = credit()
    event["data"].update(data)
    # when
    response = sender.send([event])
    # then
    assert response.status_code == 422
    assert not BalanceEntry.objects.exists()
