"""The issuance-rule pages (SPEC C-7): list, create with its cost preview, edit, stop; the
monthly ceiling form. Roles (analysts read), tenant isolation, bad input, query counts."""

from datetime import timedelta

import pytest
from coinkit import coin_shop, rule
from django.urls import reverse
from factories import first_sku, make_buyer, make_order, make_product

from coins.models import CoinBudget, CoinRule, RuleKind, RuleStatus
from core import clock

pytestmark = pytest.mark.django_db


def _valid(**over):
    today = clock.natural_day()
    data = {
        "name": "Thank-you coins",
        "kind": RuleKind.INSTANT_CASHBACK,
        "amount_mode": "fixed",
        "coins": "100",
        "percent": "",
        "threshold": "",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(),
        "budget_coins": "10000",
        "stackable": "on",
    }
    data.update(over)
    return data


def test_c7_rules_list_paginated_for_every_role_and_only_this_shop(
    shop_a, shop_b, analyst_client, django_assert_max_num_queries
):
    coin_shop(shop_a)
    coin_shop(shop_b)
    for _ in range(27):
        rule(shop_a)
    theirs = rule(shop_b)
    with django_assert_max_num_queries(20):
        response = analyst_client.get(reverse("coins:rules"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Page 1 of 2" in body
    assert theirs.name not in body
    # an analyst reads but sees no write controls
    assert reverse("coins:rule_new") not in body
    assert "Save ceiling" not in body
    assert "C-7" not in body
    assert analyst_client.get(reverse("coins:rules") + "?page=2").status_code == 200


def test_c7_create_rule_through_the_form(shop_a, marketer_client):
    coin_shop(shop_a)
    response = marketer_client.post(reverse("coins:rule_new"), _valid())
    assert response.status_code == 302
    r = CoinRule.objects.get(shop=shop_a)
    assert (r.kind, r.coins, r.budget_coins, r.stackable) == ("instant_cashback", 100, 10000, True)
    # the window is whole natural days in the platform time zone, the last day included
    assert r.starts_at == clock.day_start(clock.natural_day())
    assert r.ends_at == clock.day_start(clock.natural_day() + timedelta(days=31))


def test_c7_completion_cashback_as_a_share_and_threshold_rule(shop_a, owner_client):
    coin_shop(shop_a)
    owner_client.post(
        reverse("coins:rule_new"),
        _valid(kind=RuleKind.COMPLETION_CASHBACK, amount_mode="percent", coins="", percent="2.5"),
    )
    owner_client.post(
        reverse("coins:rule_new"),
        _valid(name="Big spenders", kind=RuleKind.SPEND_THRESHOLD, coins="1000", threshold="100"),
    )
    share = CoinRule.objects.get(kind=RuleKind.COMPLETION_CASHBACK)
    assert (share.percent_bp, share.coins) == (250, 0)
    threshold = CoinRule.objects.get(kind=RuleKind.SPEND_THRESHOLD)
    assert threshold.threshold_minor == 100_00


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"coins": "0"}, "coins", "at least 1 coin"),
        ({"coins": "-5"}, "coins", "at least 1 coin"),
        ({"coins": "1.5"}, "coins", "whole number of coins"),
        ({"coins": "abc"}, "coins", "whole number of coins"),
        ({"coins": "9" * 20}, "coins", "at most"),
        ({"budget_coins": "0"}, "budget_coins", "at least 1 coin"),
        ({"budget_coins": "50"}, "budget_coins", "cover at least one grant"),
        ({"ends_on": "2000-01-01"}, "ends_on", "on or after the first day"),
        ({"starts_on": "0001-01-01"}, "starts_on", "Enter a date from"),
        (
            {"amount_mode": "percent", "kind": "completion_cashback", "percent": "0"},
            "percent",
            "0.01 to 100",
        ),
        (
            {"amount_mode": "percent", "kind": "completion_cashback", "percent": "100.01"},
            "percent",
            "0.01 to 100",
        ),
        (
            {"amount_mode": "percent", "kind": "completion_cashback", "percent": "1.234"},
            "percent",
            "2 decimal places",
        ),
        ({"amount_mode": "percent"}, "amount_mode", "Only cashback on completion"),
        ({"kind": "spend_threshold", "threshold": ""}, "threshold", "amount an order must reach"),
        ({"kind": "spend_threshold", "threshold": "-1"}, "threshold", "above zero"),
        ({"kind": "nonsense"}, "kind", "Select a valid choice"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_c7_bad_input_is_a_clear_form_error_and_nothing_is_written(
    shop_a, owner_client, over, field, message
):
    coin_shop(shop_a)
    response = owner_client.post(reverse("coins:rule_new"), _valid(**over))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert message in response.content.decode()
    assert not CoinRule.objects.exists()


def test_c7_cost_preview_counts_the_last_30_days_and_saves_nothing(shop_a, owner_client):
    # given: 3 orders paid in the window (two ≥ ¥100), one paid 40 days ago
    coin_shop(shop_a, fund=500)
    data = _valid(kind=RuleKind.SPEND_THRESHOLD, coins="1000", threshold="100", preview="1")
    before = owner_client.post(reverse("coins:rule_new"), data).context["preview"].orders
    sku = first_sku(make_product(shop_a, price_minor=150_00))
    buyer = make_buyer()
    for price in (150_00, 120_00, 50_00):
        make_order(shop_a, buyer, sku=sku, unit_price_minor=price, status="paid")
    make_order(shop_a, sku=sku, status="paid", placed_at=clock.now() - timedelta(days=40))
    # when: previewing a spend-threshold rule, without JavaScript
    response = owner_client.post(reverse("coins:rule_new"), data)
    # then: 2 more orders, 1,000 coins each (¥10.00), above the ¥5.00 fund; nothing saved
    assert response.status_code == 200
    p = response.context["preview"]
    n = before + 2
    assert (p.orders, p.coins, p.value.amount, p.covered) == (n, n * 1000, n * 10_00, False)
    body = response.content.decode()
    assert f'id="preview-coins">{n * 1000:,}<' in body
    assert "Top up the coin fund" in body
    assert not CoinRule.objects.exists()


def test_c7_cost_preview_htmx_partial_and_budget_cap(shop_a, owner_client):
    coin_shop(shop_a)
    for _ in range(2):
        make_order(shop_a, status="paid")
    data = _valid(coins="100", budget_coins="250", preview="1")
    response = owner_client.post(reverse("coins:rule_new"), data, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body  # the partial only
    p = response.context["preview"]
    assert (p.orders, p.uncapped_coins, p.coins, p.capped_by_budget) == (3, 300, 250, True)
    assert "the budget stops it earlier" in body


def test_c7_cost_preview_welcome_and_percent_cashback(shop_a, owner_client):
    from buyers.models import Buyer

    coin_shop(shop_a)
    url = reverse("coins:rule_new")
    welcome_data = _valid(kind=RuleKind.WELCOME, coins="500", preview="1")
    share_data = _valid(
        kind="completion_cashback", amount_mode="percent", coins="", percent="5", preview="1"
    )
    welcome_before = owner_client.post(url, welcome_data).context["preview"].orders
    share_before = owner_client.post(url, share_data).context["preview"]
    sku = first_sku(make_product(shop_a, price_minor=100_00))
    returning, new, flagged = make_buyer(), make_buyer(), make_buyer()
    Buyer.objects.filter(pk=flagged.pk).update(low_activity=True)
    make_order(
        shop_a, returning, sku=sku, status="paid", placed_at=clock.now() - timedelta(days=60)
    )
    make_order(shop_a, returning, sku=sku, status="paid")
    make_order(shop_a, new, sku=sku, status="completed")
    make_order(shop_a, flagged, sku=sku, status="paid")
    welcome = owner_client.post(url, welcome_data).context["preview"]
    # only the new, unflagged buyer's first paid order is in the window
    assert (welcome.orders, welcome.coins) == (welcome_before + 1, (welcome_before + 1) * 500)
    share = owner_client.post(url, share_data).context["preview"]
    # 5% of ¥100 = ¥5 = 500 coins on the one completed order
    assert (share.orders, share.coins) == (share_before.orders + 1, share_before.coins + 500)


def test_c7_preview_with_bad_input_lists_the_errors(shop_a, owner_client):
    coin_shop(shop_a)
    response = owner_client.post(
        reverse("coins:rule_new"), _valid(coins="-1", preview="1"), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "fix the fields" in response.content.decode()


def test_c7_analyst_cannot_create_preview_edit_stop_or_set_the_ceiling(shop_a, analyst_client):
    coin_shop(shop_a)
    r = rule(shop_a)
    assert analyst_client.get(reverse("coins:rule_new")).status_code == 403
    assert analyst_client.post(reverse("coins:rule_new"), _valid(preview="1")).status_code == 403
    assert analyst_client.post(reverse("coins:rule_edit", args=[r.pk]), {}).status_code == 403
    assert analyst_client.post(reverse("coins:rule_stop", args=[r.pk])).status_code == 403
    assert analyst_client.post(reverse("coins:ceiling"), {"ceiling_coins": "5"}).status_code == 403
    r.refresh_from_db()
    assert r.status == RuleStatus.ACTIVE
    assert not CoinBudget.objects.exists()


def test_c7_another_shops_rule_is_404_for_edit_and_stop(shop_a, shop_b, other_client):
    coin_shop(shop_a)
    r = rule(shop_a)
    assert other_client.get(reverse("coins:rule_edit", args=[r.pk])).status_code == 404
    assert other_client.post(reverse("coins:rule_stop", args=[r.pk])).status_code == 404
    r.refresh_from_db()
    assert r.status == RuleStatus.ACTIVE


def test_c7_edit_changes_only_safe_fields_and_stop_is_final(shop_a, owner_client):
    coin_shop(shop_a)
    r = rule(shop_a, coins=100, budget=1000)
    response = owner_client.post(
        reverse("coins:rule_edit", args=[r.pk]),
        {"name": "Renamed", "ends_on": "", "budget_coins": "5000", "coins": "9999"},
    )
    assert response.status_code == 302
    r.refresh_from_db()
    assert (r.name, r.budget_coins, r.coins, r.stackable) == ("Renamed", 5000, 100, False)
    owner_client.post(reverse("coins:rule_stop", args=[r.pk]))
    r.refresh_from_db()
    assert r.status == RuleStatus.STOPPED
    # a stopped rule stays stopped: editing it changes nothing
    owner_client.post(
        reverse("coins:rule_edit", args=[r.pk]),
        {"name": "Again", "budget_coins": "9000", "stackable": "on"},
    )
    r.refresh_from_db()
    assert (r.name, r.status) == ("Renamed", RuleStatus.STOPPED)


def test_c7_edit_budget_below_granted_is_refused(shop_a, owner_client):
    from coins import services

    coin_shop(shop_a)
    r = rule(shop_a, coins=100, budget=1000)
    services.grant_issue(rule_id=r.pk, order=make_order(shop_a, status="paid"), coins=300)
    response = owner_client.post(
        reverse("coins:rule_edit", args=[r.pk]), {"name": "x", "budget_coins": "299"}
    )
    assert response.status_code == 400
    assert "already granted 300 coins" in response.content.decode()
    r.refresh_from_db()
    assert r.budget_coins == 1000


def test_c11_ceiling_form_sets_and_removes_and_refuses_bad_input(shop_a, owner_client):
    coin_shop(shop_a)
    owner_client.post(reverse("coins:ceiling"), {"ceiling_coins": "5000"})
    assert CoinBudget.objects.get(shop=shop_a).ceiling_coins == 5000
    response = owner_client.post(reverse("coins:ceiling"), {"ceiling_coins": "-3"}, follow=True)
    assert "Ceiling not saved" in response.content.decode()
    assert CoinBudget.objects.get(shop=shop_a).ceiling_coins == 5000
    owner_client.post(reverse("coins:ceiling"), {"ceiling_coins": ""})
    assert CoinBudget.objects.get(shop=shop_a).ceiling_coins is None


def test_c7_new_rule_without_account_points_to_opening(shop_a, owner_client):
    response = owner_client.post(reverse("coins:rule_new"), _valid())
    assert not CoinRule.objects.exists()
    assert reverse("coins:index") in response.content.decode()


def test_c7_preview_the_fund_does_not_cover_links_to_the_fund_top_up(shop_a, owner_client):
    # given: a fund of ¥1.00 and two paid orders of the last 30 days
    coin_shop(shop_a, fund=100)
    for _ in range(2):
        make_order(shop_a, status="paid")
    data = _valid(coins="1000", preview="1")
    # when: the cost is previewed (htmx, as the page does)
    response = owner_client.post(reverse("coins:rule_new"), data, headers={"HX-Request": "true"})
    # then: the fund does not cover it, and the link goes to the fund's top-up, not elsewhere
    assert response.context["preview"].covered is False
    body = response.content.decode()
    assert f'<a href="{reverse("coins:fund")}" id="preview-top-up">' in body


def test_c7_coins_per_grant_help_is_in_the_shops_currency(owner, owner_client, shop_a):
    # given: a euro shop the owner works in
    from factories import login_client, make_member, make_shop

    euro = make_shop(currency="EUR")
    make_member(euro, user=owner)
    coin_shop(euro)
    # when
    body = login_client(owner, euro).get(reverse("coins:rule_new")).content.decode()
    # then: one coin is worth a euro cent there, not a yuan fen
    assert "1 coin = €0.01" in body
    assert "¥" not in body.split('id="id_coins-help"', 1)[1].split("</div>\n</div>", 1)[0]
