"""The seller's Balance page: the shop's balance and its ledger, tenant-isolated, paginated,
read-only, a fixed number of queries, in English and Chinese."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from factories import login_client, make_member, make_shop

from core.money import Money
from shops.models import Role
from shops.services import balance_credit, balance_debit

URL = "/shops/balance/"


def _entries(shop, n, *, tag=""):
    for i in range(n):
        balance_credit(
            shop=shop,
            amount=Money(10_00, "CNY"),
            reason=f"Payout {tag}{i}",
            idempotency_key=f"p-{shop.pk}-{i}",
        )


def test_every_role_sees_the_balance_and_entries(shop_a, analyst_client):
    # given
    _entries(shop_a, 2, tag="A")
    balance_debit(
        shop=shop_a, amount=Money(5_00, "CNY"), reason="Coin fund top-up", idempotency_key="d1"
    )

    # when
    response = analyst_client.get(URL)

    # then
    assert response.status_code == 200
    text = response.text
    assert "¥15.00" in text  # the balance
    assert "Payout A0" in text
    assert "Payout A1" in text
    assert "Coin fund top-up" in text
    assert "−¥5.00" in text


def test_another_shops_entries_never_show(shop_a, shop_b, owner_client):
    # given
    _entries(shop_a, 1, tag="mine-")
    _entries(shop_b, 3, tag="theirs-")

    # when
    text = owner_client.get(URL).text

    # then
    assert "Payout mine-0" in text
    assert "theirs" not in text
    assert "¥10.00" in text
    assert "¥30.00" not in text


def test_filter_by_kind(shop_a, owner_client):
    # given
    _entries(shop_a, 1)
    balance_debit(
        shop=shop_a, amount=Money(1_00, "CNY"), reason="Mail beyond quota", idempotency_key="d"
    )

    # when
    debits = owner_client.get(URL, {"kind": "debit"}).text
    junk = owner_client.get(URL, {"kind": "<script>"})

    # then
    assert "Mail beyond quota" in debits
    assert "Payout 0" not in debits
    assert junk.status_code == 200
    assert "Payout 0" in junk.text


def test_entries_are_paginated(shop_a, owner_client, settings):
    # given
    settings.SC_PAGE_SIZE = 5
    _entries(shop_a, 7)

    # when
    first = owner_client.get(URL).text
    second = owner_client.get(URL, {"page": 2}).text
    beyond = owner_client.get(URL, {"page": "999999999999999999999"})

    # then: newest first
    assert "Payout 6" in first
    assert "Payout 1" not in first
    assert "Payout 1" in second
    assert "Payout 0" in second
    assert "Payout 6" not in second
    assert beyond.status_code == 200


def test_htmx_request_renders_only_the_entries(shop_a, owner_client):
    # given
    _entries(shop_a, 1)
    # when
    response = owner_client.get(URL, headers={"HX-Request": "true"})
    # then
    assert "Payout 0" in response.text
    assert "<html" not in response.text


def test_page_is_read_only(owner_client):
    # when
    response = owner_client.post(URL)
    # then
    assert response.status_code == 405


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_page_in_chinese(shop_a, owner_client):
    # given
    owner_client.cookies["django_language"] = "zh-hans"
    # when
    text = owner_client.get(URL).text
    # then
    assert "余额" in text
    assert "暂无余额记录" in text


@pytest.mark.parametrize("url", [URL, URL + "?kind=credit", URL + "?page=2"])
def test_query_count_does_not_grow_with_entries(db, url, settings):
    # given: a shop with 3 entries and one with 40
    settings.SC_PAGE_SIZE = 25
    small, big = make_shop(), make_shop()
    _entries(small, 3)
    _entries(big, 40)
    clients = [login_client(make_member(s, Role.OWNER), s) for s in (small, big)]
    for c in clients:
        c.get(url)  # warm-up

    # when
    counts = []
    for c in clients:
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        counts.append(len(ctx.captured_queries))

    # then
    assert counts[0] == counts[1]
    assert counts[1] <= 12


def test_reasons_are_worded_in_the_readers_language(shop_a, owner_client):
    # given: a marketplace payout (worded), a top-up of the coin fund (worded), a mail statement
    # and a settlement batch (worded, the batch path), and a credit whose reason came as text
    from django.utils import translation

    from shops.notices import Reason
    from shops.services import balance_debit_batch

    balance_credit(
        shop=shop_a,
        amount=Money(500_00, "CNY"),
        reason=Reason("shops.marketplace_payout"),
        idempotency_key="r-1",
    )
    balance_credit(
        shop=shop_a, amount=Money(1_00, "CNY"), reason="结算 as sent", idempotency_key="r-2"
    )
    balance_debit(
        shop=shop_a,
        amount=Money(10_00, "CNY"),
        reason=Reason("coins.fund_top_up"),
        idempotency_key="r-3",
    )
    balance_debit_batch(
        shop=shop_a,
        currency="CNY",
        debits=[("r-4", 2_00, Reason("affiliate.commission", {"order": "ORD-77"}))],
    )
    # then: stored in English with their facts
    from shops.models import BalanceEntry

    stored = dict(BalanceEntry.objects.values_list("idempotency_key", "reason"))
    assert stored == {
        "r-1": "Marketplace settlement payout",
        "r-2": "结算 as sent",
        "r-3": "Coin fund top-up",
        "r-4": "Affiliate commission, order ORD-77",
    }
    assert BalanceEntry.objects.get(idempotency_key="r-4").reason_params == {"order": "ORD-77"}
    # when: the page in Chinese, then in English
    owner_client.cookies["django_language"] = "zh-hans"
    zh = owner_client.get(URL).text
    owner_client.cookies["django_language"] = "en"
    en = owner_client.get(URL).text
    # then: each reason in its reader's language; the text one as it came
    with translation.override("zh-hans"):
        wanted = [
            translation.gettext("Marketplace settlement payout"),
            translation.gettext("Coin fund top-up"),
            translation.gettext("Affiliate commission, order %(order)s") % {"order": "ORD-77"},
        ]
    for english, chinese in zip(
        ["Marketplace settlement payout", "Coin fund top-up", "Affiliate commission, order ORD-77"],
        wanted,
        strict=True,
    ):
        assert chinese != english
        assert chinese in zh
        assert english not in zh
        assert english in en
    assert "结算 as sent" in zh


def test_a_reason_that_cannot_be_worded_is_refused_and_nothing_is_written(shop_a):
    from core.errors import DomainError
    from shops.models import BalanceEntry
    from shops.notices import Reason
    from shops.services import balance_debit_batch

    # when / then: an unknown reason, missing facts (one call, and one debit of a batch)
    for reason in (Reason("coins.no_such"), Reason("affiliate.commission", {})):
        with pytest.raises(DomainError) as exc:
            balance_credit(
                shop=shop_a, amount=Money(1_00, "CNY"), reason=reason, idempotency_key="x-1"
            )
        assert exc.value.code == "invalid_reason"
    balance_credit(shop=shop_a, amount=Money(5_00, "CNY"), reason="Seed", idempotency_key="x-2")
    with pytest.raises(DomainError) as exc:
        balance_debit_batch(
            shop=shop_a,
            currency="CNY",
            debits=[("x-3", 1_00, "Fine"), ("x-4", 1_00, Reason("mailing.statement", {}))],
        )
    assert exc.value.code == "invalid_reason"
    assert list(BalanceEntry.objects.values_list("idempotency_key", flat=True)) == ["x-2"]
