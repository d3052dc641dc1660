"""The shop a member works in (issue 7 item 11): the switcher remembers the last shop per user,
and a first sign-in lands on the shop with the most recent activity, not the first by name."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from factories import PASSWORD, make_member, make_order, make_shop, make_user

from core import clock
from sellercenter.landing import landing_membership, latest_order_at
from shops.middleware import SESSION_KEY
from shops.models import Membership, Role


@pytest.fixture
def three_shops(db):
    # "Alpha" comes first by name; "Zulu" had the latest order.
    alpha = make_shop(name="Alpha Store")
    mid = make_shop(name="Mid Store")
    zulu = make_shop(name="Zulu Store")
    make_order(alpha, placed_at=clock.now() - timedelta(days=9))
    make_order(mid, placed_at=clock.now() - timedelta(days=3))
    make_order(zulu, placed_at=clock.now() - timedelta(hours=2))
    make_order(mid, placed_at=clock.now() - timedelta(days=5))
    return alpha, mid, zulu


@pytest.fixture
def seller(three_shops):
    user = make_user("landing-seller")
    for shop in three_shops:
        make_member(shop, Role.OWNER, user=user)
    return user


def sign_in(username: str) -> Client:
    """Through the real login form, as a seller does."""
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


def current_shop_name(client: Client) -> str:
    content = client.get(reverse("home")).content.decode()
    start = content.index('class="text-truncate sc-shop-name">') + len(
        'class="text-truncate sc-shop-name">'
    )
    return content[start : content.index("<", start)]


def test_first_sign_in_lands_on_the_shop_with_the_latest_order(seller, three_shops):
    # given: a member of three shops who never chose one
    _alpha, _mid, zulu = three_shops
    # when
    client = sign_in(seller.username)
    # then: the shop with the most recent order, not "Alpha Store"
    assert client.session[SESSION_KEY] == zulu.pk
    assert current_shop_name(client) == "Zulu Store"


def test_the_switcher_is_remembered_for_the_next_sign_in(seller, three_shops):
    # given: the seller signs in and switches to Mid Store
    _alpha, mid, _zulu = three_shops
    client = sign_in(seller.username)
    response = client.post(reverse("shops:switch"), {"shop_id": mid.pk})
    assert response.status_code == 302
    # when: they sign in again on another device (a new session)
    other_device = sign_in(seller.username)
    # then: they land on the shop they chose last
    assert other_device.session[SESSION_KEY] == mid.pk
    assert current_shop_name(other_device) == "Mid Store"
    assert Membership.objects.get(user=seller, shop=mid).last_used_at is not None


def test_the_landing_itself_counts_as_use(seller, three_shops):
    # given: a first sign-in landed on Zulu (latest order)
    _alpha, mid, zulu = three_shops
    sign_in(seller.username)
    # when: Mid Store gets a newer order, and the seller signs in again
    make_order(mid, placed_at=clock.now() - timedelta(minutes=5))
    client = sign_in(seller.username)
    # then: they stay where they worked (the last used shop wins over activity)
    assert client.session[SESSION_KEY] == zulu.pk


def test_a_revoked_membership_is_not_landed_on(seller, three_shops):
    # given: the seller last used Zulu, then lost access to it
    _alpha, mid, zulu = three_shops
    client = sign_in(seller.username)
    assert client.session[SESSION_KEY] == zulu.pk
    Membership.objects.filter(user=seller, shop=zulu).delete()
    # when
    client = sign_in(seller.username)
    # then: the most active shop they still belong to
    assert client.session[SESSION_KEY] == mid.pk


def test_without_any_order_the_first_shop_by_name(db):
    # given
    user = make_user("quiet-seller")
    beta = make_shop(name="Beta")
    alpha = make_shop(name="Alpha")
    make_member(beta, user=user)
    make_member(alpha, user=user)
    # when
    client = sign_in(user.username)
    # then
    assert client.session[SESSION_KEY] == alpha.pk


def test_a_user_without_shops_signs_in_without_a_shop(db):
    # given
    user = make_user("no-shop")
    # when
    client = sign_in(user.username)
    # then
    assert SESSION_KEY not in client.session
    assert landing_membership(user=user) is None


def test_a_session_without_a_shop_falls_back_to_the_last_used(seller, three_shops):
    # given: the seller used Mid last; a session with no shop stored (e.g. before this change)
    _alpha, mid, _zulu = three_shops
    Membership.objects.filter(user=seller, shop=mid).update(last_used_at=clock.now())
    client = Client()
    client.force_login(seller)
    session = client.session
    session.pop(SESSION_KEY, None)
    session.save()
    # when
    name = current_shop_name(client)
    # then
    assert name == "Mid Store"


def test_latest_order_at_is_one_query_for_all_shops(three_shops):
    # given
    ids = [s.pk for s in three_shops]
    empty = make_shop(name="Empty")
    # when
    with CaptureQueriesContext(connection) as queries:
        latest = latest_order_at(shop_ids=[*ids, empty.pk])
    # then
    assert len(queries) == 1
    assert set(latest) == set(ids)  # a shop without orders is left out
    assert max(latest, key=latest.get) == three_shops[2].pk


def test_another_users_choice_does_not_move_mine(seller, three_shops):
    # given: a colleague in the same shops uses Alpha
    alpha, _mid, zulu = three_shops
    colleague = make_user("colleague")
    for shop in three_shops:
        make_member(shop, Role.MARKETER, user=colleague)
    colleague_client = sign_in(colleague.username)
    colleague_client.post(reverse("shops:switch"), {"shop_id": alpha.pk})
    # when
    client = sign_in(seller.username)
    # then: the last shop is remembered per user
    assert client.session[SESSION_KEY] == zulu.pk
