"""Tenancy (DESIGN §2, SPEC §0 roles): the current shop comes from the session only for a member,
roles gate writes, and shop-scoped selectors answer 404 for anything outside the shop.

Tiny views below exercise the middleware and decorators in isolation; the test URLconf
(``@pytest.mark.urls(__name__)``) mounts them beside the real URLs (login redirects need them).
"""

import pytest
from django.http import Http404, JsonResponse
from django.urls import include, path
from factories import login_client, make_member, make_user

from orders.selectors import get_order_for_shop
from shops.decorators import role_required, shop_required, write_required
from shops.middleware import SESSION_KEY
from shops.models import Membership, Role
from shops.selectors import get_product_for_shop


def _whoami(request):
    return JsonResponse(
        {
            "shop": request.shop.pk if request.shop else None,
            "role": request.membership.role if request.membership else None,
        }
    )


whoami = _whoami
read_view = shop_required(_whoami)
write_view = write_required(_whoami)
owner_view = role_required(Role.OWNER)(_whoami)

urlpatterns = [
    path("t/whoami/", whoami),
    path("t/read/", read_view),
    path("t/write/", write_view),
    path("t/owner/", owner_view),
    path("", include("sellercenter.urls")),
]

pytestmark = pytest.mark.urls(__name__)


def _session_shop(client):
    return client.session.get(SESSION_KEY)


# --- middleware --------------------------------------------------------------------------------


def test_a_member_gets_the_session_shop_and_role(owner_client, shop_a):
    # when
    response = owner_client.get("/t/whoami/")

    # then
    assert response.json() == {"shop": shop_a.pk, "role": "owner"}


def test_a_member_of_two_shops_works_in_the_one_selected(shop_a, shop_b):
    # given
    user = make_member(shop_a, Role.ANALYST)
    make_member(shop_b, Role.MARKETER, user=user)

    # when
    in_b = login_client(user, shop_b).get("/t/whoami/").json()
    in_a = login_client(user, shop_a).get("/t/whoami/").json()

    # then
    assert in_b == {"shop": shop_b.pk, "role": "marketer"}
    assert in_a == {"shop": shop_a.pk, "role": "analyst"}


def test_a_forged_session_shop_falls_back_to_the_users_own_shop(owner, shop_a, shop_b):
    # given: the owner of A with shop B's id planted in the session
    client = login_client(owner, shop_b)

    # when
    response = client.get("/t/whoami/")

    # then: shop A, never B; the session is corrected
    assert response.json() == {"shop": shop_a.pk, "role": "owner"}
    assert _session_shop(client) == shop_a.pk


def test_with_no_shop_in_the_session_the_users_first_shop_is_current(owner, shop_a):
    # given
    client = login_client(owner)

    # when
    response = client.get("/t/whoami/")

    # then
    assert response.json() == {"shop": shop_a.pk, "role": "owner"}


def test_a_user_without_membership_has_no_shop(db, shop_a):
    # given: a staff user of no shop, with shop A's id in the session
    client = login_client(make_user("nobody"), shop_a)

    # when
    whoami_response = client.get("/t/whoami/")
    read_response = client.get("/t/read/")

    # then
    assert whoami_response.json() == {"shop": None, "role": None}
    assert read_response.status_code == 403


def test_a_revoked_membership_takes_effect_at_once(owner_client, owner, shop_a):
    # given
    assert owner_client.get("/t/read/").status_code == 200

    # when
    Membership.objects.filter(user=owner, shop=shop_a).delete()

    # then
    assert owner_client.get("/t/whoami/").json() == {"shop": None, "role": None}
    assert owner_client.get("/t/read/").status_code == 403


def test_anonymous_requests_have_no_shop_and_are_sent_to_login(client, shop_a):
    # when
    whoami_response = client.get("/t/whoami/")
    read_response = client.get("/t/read/")

    # then
    assert whoami_response.json() == {"shop": None, "role": None}
    assert read_response.status_code == 302
    assert read_response["Location"].startswith("/accounts/login/")


# --- role decorators ---------------------------------------------------------------------------


def test_analyst_is_read_only(analyst_client, shop_a):
    # when
    read = analyst_client.get("/t/read/")
    write = analyst_client.get("/t/write/")
    write_post = analyst_client.post("/t/write/")

    # then
    assert read.status_code == 200
    assert write.status_code == 403
    assert write_post.status_code == 403


@pytest.mark.parametrize("persona", ["owner_client", "marketer_client"])
def test_owner_and_marketer_may_write(request, persona, shop_a):
    # given
    client = request.getfixturevalue(persona)

    # when
    response = client.get("/t/write/")

    # then
    assert response.status_code == 200
    assert response.json()["shop"] == shop_a.pk


def test_role_required_admits_only_the_listed_roles(owner_client, marketer_client, analyst_client):
    # then
    assert owner_client.get("/t/owner/").status_code == 200
    assert marketer_client.get("/t/owner/").status_code == 403
    assert analyst_client.get("/t/owner/").status_code == 403


def test_the_role_is_the_one_in_the_current_shop(shop_a, shop_b):
    # given: analyst in A, owner in B
    user = make_member(shop_a, Role.ANALYST)
    make_member(shop_b, Role.OWNER, user=user)

    # when
    in_a = login_client(user, shop_a).get("/t/write/")
    in_b = login_client(user, shop_b).get("/t/write/")

    # then
    assert in_a.status_code == 403
    assert in_b.status_code == 200
    assert in_b.json()["shop"] == shop_b.pk


def test_other_shops_owner_writes_only_in_its_own_shop(other_client, shop_b):
    # when
    response = other_client.get("/t/write/")

    # then
    assert response.json() == {"shop": shop_b.pk, "role": "owner"}


# --- shop-scoped selectors ---------------------------------------------------------------------

JUNK_IDS = ["abc", None, -1, 0, "1 OR 1=1", "", 2**70]


def test_get_order_for_shop_finds_its_own_order(order_a, shop_a):
    # when / then
    assert get_order_for_shop(shop=shop_a, order_id=order_a.pk) == order_a
    assert get_order_for_shop(shop=shop_a, order_id=str(order_a.pk)) == order_a


def test_get_order_for_shop_refuses_another_shops_order(order_a, order_b, shop_b):
    # when / then
    with pytest.raises(Http404):
        get_order_for_shop(shop=shop_b, order_id=order_a.pk)


@pytest.mark.parametrize("junk", JUNK_IDS, ids=repr)
def test_get_order_for_shop_refuses_junk(order_a, shop_a, junk):
    # when / then
    with pytest.raises(Http404):
        get_order_for_shop(shop=shop_a, order_id=junk)


def test_get_product_for_shop_finds_its_own_product(product_a, shop_a):
    # when / then
    assert get_product_for_shop(shop=shop_a, product_id=product_a.pk) == product_a


def test_get_product_for_shop_refuses_another_shops_product(product_a, product_b, shop_b):
    # when / then
    with pytest.raises(Http404):
        get_product_for_shop(shop=shop_b, product_id=product_a.pk)


@pytest.mark.parametrize("junk", JUNK_IDS, ids=repr)
def test_get_product_for_shop_refuses_junk(product_a, shop_a, junk):
    # when / then
    with pytest.raises(Http404):
        get_product_for_shop(shop=shop_a, product_id=junk)


def test_a_page_view_does_not_rewrite_the_session(owner_client, shop_a):
    # given: a member whose session already names the shop
    owner_client.get("/")
    # when: the member opens another page
    response = owner_client.get("/orders/")
    # then: the session was not saved again (no Set-Cookie, no UPDATE of django_session)
    assert response.status_code == 200
    assert "sessionid" not in response.cookies


def test_a_junk_session_shop_id_falls_back_to_the_users_shop(owner_client, shop_a):
    # given: a session holding something that is not a shop id
    session = owner_client.session
    session["shop_id"] = "not-a-number"
    session.save()
    # when
    response = owner_client.get("/")
    # then: no error; the user's own shop is selected and stored
    assert response.status_code == 200
    assert response.wsgi_request.shop == shop_a
    assert owner_client.session["shop_id"] == shop_a.pk


# --- role_required without a shop (issue 6 §6.5) ------------------------------------------------


@pytest.mark.parametrize("decorate", [shop_required, write_required, role_required(Role.OWNER)])
def test_a_request_without_a_shop_gets_the_no_shop_page_not_a_500(owner, decorate):
    # given: a request that never went through CurrentShopMiddleware (no request.shop at all)
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    request = RequestFactory().get("/t/")
    request.user = owner
    request.session = SessionStore()
    # when
    response = decorate(_whoami)(request)
    # then
    assert response.status_code == 403
    assert b"not a member of any shop" in response.content


def test_role_required_for_a_user_without_any_shop_is_the_no_shop_page(db):
    # given
    client = login_client(make_user())
    # when
    response = client.get("/t/owner/")
    # then
    assert response.status_code == 403
    assert b"not a member of any shop" in response.content
