"""The coin account pages (SPEC C-1, C-2) and the coin fund (C-5), per role."""

import pytest
from coinkit import open_account, top_up
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from factories import make_feedback, make_order

from coins.models import AccountStatus, CoinAccount, CoinFund, CoinMovement
from core.money import Money
from shops.selectors import balance_for_shop
from shops.services import balance_credit

INDEX = "/coins/"
FUND = "/coins/fund/"


def _eligible(shop):
    make_feedback(make_order(shop, status="delivered"), kind="positive")


def _credit(shop, minor):
    balance_credit(
        shop=shop, amount=Money(minor, shop.currency), reason="payout", idempotency_key=f"c{minor}"
    )


# --- opening (C-1) -----------------------------------------------------------------------------


def test_c1_eligible_owner_sees_the_open_button_and_opens_the_account(owner_client, shop_a):
    # given
    _eligible(shop_a)
    # when
    page = owner_client.get(INDEX).content.decode()
    response = owner_client.post(reverse("coins:open"))
    # then
    assert 'id="coin-open-form"' in page
    assert response.status_code == 302
    account = CoinAccount.objects.get(shop=shop_a)
    overview = owner_client.get(INDEX).content.decode()
    assert account.coin_id in overview
    assert 'id="coin-account"' in overview
    assert "Opening checks" not in overview


def test_c1_marketer_may_open_the_account(marketer_client, shop_a):
    _eligible(shop_a)
    marketer_client.post(reverse("coins:open"))
    assert CoinAccount.objects.filter(shop=shop_a).exists()


def test_c1_analyst_sees_no_open_button_and_cannot_post(analyst_client, shop_a):
    # given
    _eligible(shop_a)
    # when
    page = analyst_client.get(INDEX).content.decode()
    response = analyst_client.post(reverse("coins:open"))
    # then
    assert 'id="coin-open-form"' not in page
    assert "An owner or a marketer of the shop can open the coin account." in page
    assert response.status_code == 403
    assert not CoinAccount.objects.filter(shop=shop_a).exists()


def test_c1_ineligible_shop_cannot_open_and_sees_each_failed_check(owner_client, shop_a):
    # given: no feedback at all, so the positive-rate check fails
    # when
    page = owner_client.get(INDEX).content.decode()
    response = owner_client.post(reverse("coins:open"), follow=True)
    # then
    assert 'id="coin-open-form"' not in page
    assert "no feedback in 90 days" in page
    assert not CoinAccount.objects.filter(shop=shop_a).exists()
    assert "cannot be opened yet" in response.content.decode()


def test_c1_open_is_post_only(owner_client, shop_a):
    _eligible(shop_a)
    assert owner_client.get(reverse("coins:open")).status_code == 405
    assert not CoinAccount.objects.filter(shop=shop_a).exists()


# --- overview, pause and resume (C-2) ----------------------------------------------------------


def test_c2_overview_shows_fund_available_reserved_and_outstanding(owner_client, shop_a):
    # given
    open_account(shop_a)
    top_up(shop_a, 1_000_00)
    # when
    page = owner_client.get(INDEX).content.decode()
    # then
    assert "¥1,000.00" in page
    assert 'id="coins-outstanding">0<' in page
    assert "Pausing stops new coin issuance and coin deduction at checkout" in page


def test_c2_pause_needs_a_confirmation_that_says_what_stops_and_what_runs_on(owner_client, shop_a):
    # given
    open_account(shop_a)
    # when
    confirm = owner_client.get(reverse("coins:account_status", args=["pause"]))
    # then: nothing changed yet
    body = confirm.content.decode()
    assert confirm.status_code == 200
    assert "New coin issuance" in body
    assert "Coin deduction at checkout" in body
    assert "Buyers keep their coin balances." in body
    assert "Coins keep expiring on their dates" in body
    assert CoinAccount.objects.get(shop=shop_a).status == AccountStatus.ACTIVE
    # when
    owner_client.post(reverse("coins:account_status", args=["pause"]))
    # then
    assert CoinAccount.objects.get(shop=shop_a).status == AccountStatus.PAUSED
    page = owner_client.get(INDEX).content.decode()
    assert 'id="paused-note"' in page
    # when: resume
    owner_client.post(reverse("coins:account_status", args=["resume"]))
    assert CoinAccount.objects.get(shop=shop_a).status == AccountStatus.ACTIVE


@pytest.mark.parametrize("action", ["close", "delete"])
def test_c2_there_is_no_close_or_delete(owner_client, shop_a, action):
    open_account(shop_a)
    response = owner_client.post(reverse("coins:account_status", args=[action]))
    assert response.status_code == 404
    assert CoinAccount.objects.filter(shop=shop_a, status=AccountStatus.ACTIVE).exists()
    page = owner_client.get(INDEX).content.decode()
    assert "/coins/account/close" not in page
    assert "Close the coin account" not in page


def test_c2_analyst_cannot_pause(analyst_client, shop_a):
    open_account(shop_a)
    assert analyst_client.get(reverse("coins:account_status", args=["pause"])).status_code == 403
    assert analyst_client.post(reverse("coins:account_status", args=["pause"])).status_code == 403
    assert CoinAccount.objects.get(shop=shop_a).status == AccountStatus.ACTIVE
    assert "Pause the coin account" not in analyst_client.get(INDEX).content.decode()


def test_c2_other_shops_owner_cannot_pause_shop_a(other_client, shop_a, shop_b):
    # given: only shop A has an account; other_owner works in shop B
    open_account(shop_a)
    # when
    response = other_client.post(reverse("coins:account_status", args=["pause"]))
    # then
    assert response.status_code == 404
    assert CoinAccount.objects.get(shop=shop_a).status == AccountStatus.ACTIVE


# --- top-up (C-5) ------------------------------------------------------------------------------


def _token(client):
    return client.get(FUND).context["form"]["token"].value()


def test_c5_top_up_moves_money_from_the_shop_balance_into_the_fund(owner_client, shop_a):
    # given
    open_account(shop_a)
    _credit(shop_a, 1_000_00)
    # when
    response = owner_client.post(FUND, {"amount": "500.5", "token": _token(owner_client)})
    # then: exact minor units, 1 coin = ¥0.01
    assert response.status_code == 302
    assert CoinFund.objects.get(shop=shop_a).available == 500_50
    assert balance_for_shop(shop=shop_a) == Money(499_50, "CNY")
    page = owner_client.get(FUND).content.decode()
    assert "Top-up: shop balance → available" in page


def test_c5_a_double_submit_tops_up_once(owner_client, shop_a):
    # given
    open_account(shop_a)
    _credit(shop_a, 1_000_00)
    token = _token(owner_client)
    # when
    owner_client.post(FUND, {"amount": "100", "token": token})
    owner_client.post(FUND, {"amount": "100", "token": token})
    # then
    assert CoinFund.objects.get(shop=shop_a).available == 100_00
    assert balance_for_shop(shop=shop_a) == Money(900_00, "CNY")
    assert CoinMovement.objects.filter(shop=shop_a).count() == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "This field is required."),
        ("abc", "digits only"),
        ("-5", "digits only"),
        ("0", "above zero"),
        ("0.00", "above zero"),
        ("1.234", "at most 2 decimal places"),
        ("1e5", "digits only"),
        ("1,000", "digits only"),
        ("NaN", "digits only"),
        ("Infinity", "digits only"),
        ("100000001", "Enter at most"),
        ("9" * 40, "Ensure this value has at most 32 characters"),
        ("0x10", "digits only"),
        ("１０", "digits only"),
    ],
)
def test_c5_bad_amounts_are_form_errors_and_write_nothing(owner_client, shop_a, amount, message):
    # given
    open_account(shop_a)
    _credit(shop_a, 1_000_00)
    # when
    response = owner_client.post(FUND, {"amount": amount, "token": _token(owner_client)})
    # then
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CoinMovement.objects.filter(shop=shop_a).exists()
    assert balance_for_shop(shop=shop_a) == Money(1_000_00, "CNY")


def test_c5_top_up_above_the_shop_balance_is_refused(owner_client, shop_a):
    open_account(shop_a)
    _credit(shop_a, 100_00)
    response = owner_client.post(FUND, {"amount": "100.01", "token": _token(owner_client)})
    assert response.status_code == 400
    assert "Your shop balance is ¥100.00, less than ¥100.01" in response.content.decode()
    assert not CoinMovement.objects.filter(shop=shop_a).exists()
    assert CoinFund.objects.get(shop=shop_a).available == 0


def test_c5_a_tampered_token_is_refused(owner_client, shop_a):
    open_account(shop_a)
    _credit(shop_a, 100_00)
    response = owner_client.post(FUND, {"amount": "1", "token": "short"})
    assert response.status_code == 400
    assert not CoinMovement.objects.filter(shop=shop_a).exists()


def test_c5_analyst_sees_the_fund_but_cannot_top_up(analyst_client, shop_a):
    # given
    open_account(shop_a)
    _credit(shop_a, 100_00)
    # when
    page = analyst_client.get(FUND)
    response = analyst_client.post(FUND, {"amount": "1", "token": "x" * 32})
    # then
    assert page.status_code == 200
    assert 'id="top-up-form"' not in page.content.decode()
    assert response.status_code == 403
    assert not CoinMovement.objects.filter(shop=shop_a).exists()


def test_c5_fund_page_before_opening_sends_to_the_account_page(owner_client, shop_a):
    assert owner_client.get(FUND).url == INDEX


def test_c5_fund_movements_are_paginated(owner_client, shop_a, settings):
    # given
    settings.SC_PAGE_SIZE = 2
    open_account(shop_a)
    for coins in (1_00, 2_00, 3_00):
        top_up(shop_a, coins)
    # when
    first = owner_client.get(FUND)
    second = owner_client.get(FUND, {"after": first.context["page_obj"].next_cursor})
    # then: newest first, the oldest on page two
    assert [r["m"].coins for r in first.context["rows"]] == [3_00, 2_00]
    assert [r["m"].coins for r in second.context["rows"]] == [1_00]


def test_c5_fund_page_query_count_is_constant_in_the_number_of_movements(owner_client, shop_a):
    # given
    open_account(shop_a)
    top_up(shop_a, 1_00)
    owner_client.get(FUND)
    with CaptureQueriesContext(connection) as few:
        owner_client.get(FUND)
    for _ in range(20):
        top_up(shop_a, 1_00)
    # when
    with CaptureQueriesContext(connection) as many:
        owner_client.get(FUND)
    # then
    assert len(many.captured_queries) == len(few.captured_queries) <= 20


def test_c1_index_query_count_is_constant(owner_client, shop_a, django_assert_max_num_queries):
    open_account(shop_a)
    top_up(shop_a, 1_00)
    with django_assert_max_num_queries(15):
        assert owner_client.get(INDEX).status_code == 200


def test_c5_fund_movements_name_their_order_in_the_page_language_not_the_internal_memo(
    owner_client, shop_a
):
    # given: a grant for an order, on top of a top-up
    from coinkit import give
    from factories import make_buyer

    open_account(shop_a)
    top_up(shop_a, 1_000_00)
    grant = give(shop_a, make_buyer(), 300)
    # when: the fund page is read in Chinese
    body = owner_client.get(FUND, headers={"accept-language": "zh-hans"}).content.decode()
    # then: the grant's order is a link to it, in Chinese; no English memo with a rule's pk
    url = reverse("orders:detail", args=[grant.order_id])
    assert f'<a href="{url}">订单 {grant.order.number}</a>' in body
    assert f"rule {grant.rule_id} order" not in body
    assert "top-up ¥" not in body
