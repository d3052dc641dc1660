"""SPEC §0 money: a shop's balance (keyed by shop and currency) and orders are kept in its
currency, so ``shop.upserted`` never moves a shop to another currency behind its money: an
update that omits ``currency`` leaves it as it is, and a change once money is kept in it is
refused (``currency_change``) with nothing written."""

from datetime import timedelta

import pytest

from core import clock
from core.money import Money
from shops.models import BalanceEntry, LogisticsSetting, Shop
from shops.selectors import balance_for_shop
from shops.services import balance_debit

from .support import ev


def shop_event(shop_id="mk-cur", *, currency=None, name="Currency shop", **extra) -> dict:
    data = {
        "shop_id": shop_id,
        "name": name,
        "opened_at": (clock.now() - timedelta(days=400)).isoformat(),
        "main_category": "home_garden",
        **extra,
    }
    if currency is not None:
        data["currency"] = currency
    return ev("shop.upserted", data)


def credit_event(shop_id="mk-cur", *, amount=1000_00, currency="CNY", credit_id="cr-1") -> dict:
    return ev(
        "shop.balance_credited",
        {"shop_id": shop_id, "credit_id": credit_id, "amount_minor": amount, "currency": currency},
    )


@pytest.fixture
def cny_shop_with_balance(sender) -> Shop:
    assert sender.one(shop_event(currency="CNY"))["status"] == "applied"
    assert sender.one(credit_event())["status"] == "applied"
    return Shop.objects.get(external_id="mk-cur")


def test_s0_shop_update_without_currency_keeps_the_currency_and_the_balance(
    sender, cny_shop_with_balance
):
    # when: a routine profile update that does not repeat the currency
    result = sender.one(shop_event(name="Renamed shop", store_level=4))

    # then: applied, the profile changed, the currency and the balance did not
    assert result["status"] == "applied"
    shop = Shop.objects.get(pk=cny_shop_with_balance.pk)
    assert (shop.name, shop.store_level, shop.currency) == ("Renamed shop", 4, "CNY")
    assert balance_for_shop(shop=shop) == Money(1000_00, "CNY")
    # and the balance still pays for what the shop buys
    balance_debit(
        shop=shop, amount=Money(100_00, "CNY"), reason="Coin fund top-up", idempotency_key="k-1"
    )
    assert balance_for_shop(shop=shop) == Money(900_00, "CNY")


def test_s0_shop_update_with_null_currency_keeps_the_currency(sender, cny_shop_with_balance):
    event = shop_event()
    event["data"]["currency"] = None
    assert sender.one(event)["status"] == "applied"
    assert Shop.objects.get(pk=cny_shop_with_balance.pk).currency == "CNY"


def test_s0_a_new_shop_without_currency_is_created_in_usd(sender):
    assert sender.one(shop_event("mk-new"))["status"] == "applied"
    assert Shop.objects.get(external_id="mk-new").currency == "USD"


def test_s0_currency_change_of_a_shop_with_balance_entries_is_refused_and_writes_nothing(
    sender, cny_shop_with_balance
):
    # when: the same shop arrives in another currency, with other changes beside it
    result = sender.one(
        shop_event(
            currency="USD",
            name="Renamed shop",
            logistics=[{"carrier": "aliexpress_standard", "enabled": True, "certified": True}],
        )
    )

    # then: a final rejection with its own code and a message naming both currencies
    assert (result["status"], result["code"], result["retryable"]) == (
        "rejected",
        "currency_change",
        False,
    )
    assert "CNY" in result["message"]
    assert "USD" in result["message"]
    # and nothing of the event is written
    shop = Shop.objects.get(pk=cny_shop_with_balance.pk)
    assert (shop.name, shop.currency) == ("Currency shop", "CNY")
    assert not LogisticsSetting.objects.filter(shop=shop).exists()
    assert balance_for_shop(shop=shop) == Money(1000_00, "CNY")
    assert BalanceEntry.objects.filter(shop=shop).count() == 1


def test_s0_currency_change_of_a_shop_with_orders_is_refused(sender, shop_a, order_a):
    # given: a CNY shop with an order and no balance entry
    assert not BalanceEntry.objects.filter(shop=shop_a).exists()

    # when
    result = sender.one(shop_event(shop_a.external_id, currency="USD", name=shop_a.name))

    # then
    assert (result["status"], result["code"]) == ("rejected", "currency_change")
    assert Shop.objects.get(pk=shop_a.pk).currency == "CNY"


def test_s0_currency_of_a_shop_without_orders_or_balance_can_be_corrected(sender):
    # given: a shop created in the default currency by mistake, nothing kept in it yet
    assert sender.one(shop_event("mk-fix"))["status"] == "applied"

    # when / then: the marketplace corrects it
    assert sender.one(shop_event("mk-fix", currency="CNY"))["status"] == "applied"
    assert Shop.objects.get(external_id="mk-fix").currency == "CNY"


def test_s0_repeating_the_same_currency_is_not_a_change(sender, cny_shop_with_balance):
    assert sender.one(shop_event(currency="CNY", name="Same money"))["status"] == "applied"
    assert Shop.objects.get(pk=cny_shop_with_balance.pk).name == "Same money"


def test_s0_openapi_says_an_omitted_currency_is_left_unchanged(client):
    # given the OpenAPI document
    shop = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["ShopData"]
    # then: currency is optional, has no default that would overwrite a shop's currency, and
    # its description says what an omission and a change do
    currency = shop["properties"]["currency"]
    assert "currency" not in shop["required"]
    assert currency.get("default") is None
    assert "keeps its currency" in currency["description"]
    assert "currency_change" in currency["description"]
