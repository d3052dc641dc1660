"""What an attacker (or a fumbling user) sends to the seller pages: never a 500, never a leak.

- Fault 4 (issue 6 §3): out-of-range dates, ids beyond bigint, NUL bytes, overlong strings and
  non-numeric ids in every query string and form field of every seller page.
- Fault 5: a role that may not see buyers' contacts may not search by them (SPEC B-8).
- Fault 9 (DESIGN §5): read-only pages answer GET/HEAD only; pages with buyers' contacts are
  ``Cache-Control: private, no-store``.
"""

import pytest
from django.urls import reverse
from factories import make_buyer, make_order, make_shop

from shops.middleware import SESSION_KEY

HUGE = "99999999999999999999999"

# Every read-only seller page (name, args).
READ_ONLY_PAGES = [
    ("home", []),
    ("orders:list", []),
    ("orders:detail", ["order"]),
    ("shops:products", []),
    ("shops:product_detail", ["product"]),
    ("coins:index", []),
    ("affiliate:index", []),
    ("mailing:index", []),
    ("activities:index", []),
    ("activities:monitor", []),
    ("activities:reenrol", []),
]
CONTACT_PAGES = {"home", "orders:list", "orders:detail"}


def _url(name, args, order, product):
    objects = {"order": order.pk, "product": product.pk}
    return reverse(name, args=[objects[a] for a in args])


def _numbers(response) -> list[str]:
    return [o.number for o in response.context["page_obj"]]


# --- fault 4: out-of-range input -------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "0001-01-01"},
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01", "date_to": "9999-12-31"},
    ],
)
def test_orders_list_out_of_range_dates_are_a_form_error_not_a_500(owner_client, order_a, query):
    # when
    response = owner_client.get(reverse("orders:list"), query)
    # then: the filter is reported and left out; the list still shows the shop's orders
    assert response.status_code == 200
    content = response.content.decode()
    assert "Some filters were not applied" in content
    assert "Enter a date from 1970-01-01 to 2999-12-31." in content
    assert _numbers(response) == [order_a.number]


def test_orders_list_accepts_the_edges_of_the_date_range(owner_client, order_a):
    # when
    response = owner_client.get(
        reverse("orders:list"), {"date_from": "1970-01-01", "date_to": "2999-12-31"}
    )
    # then
    assert response.status_code == 200
    assert "Some filters were not applied" not in response.content.decode()
    assert _numbers(response) == [order_a.number]


JUNK_VALUES = [HUGE, "-" + HUGE, "1\x00", "\x00", "x" * 5000, "abc", "1e9", "٣", "", " "]
ORDER_LIST_FIELDS = [
    "status",
    "date_from",
    "date_to",
    "buyer",
    "number",
    "sort",
    "after",
    "before",
    "page",
]


@pytest.mark.parametrize("field", ORDER_LIST_FIELDS)
@pytest.mark.parametrize("value", JUNK_VALUES, ids=range(len(JUNK_VALUES)))
def test_orders_list_survives_junk_in_every_field(owner_client, order_a, field, value):
    # when
    response = owner_client.get(reverse("orders:list"), {field: value})
    # then: never a 500; the list renders (a junk search may simply match nothing)
    assert response.status_code == 200
    assert 'id="orders-table"' in response.content.decode()
    if field in {"sort", "after", "before", "page"}:  # navigation: junk falls back to page 1
        assert _numbers(response) == [order_a.number]


@pytest.mark.parametrize("field", ["q", "status", "category", "page"])
@pytest.mark.parametrize("value", JUNK_VALUES, ids=range(len(JUNK_VALUES)))
def test_products_list_survives_junk_in_every_field(owner_client, product_a, field, value):
    # when
    response = owner_client.get(reverse("shops:products"), {field: value})
    # then
    assert response.status_code == 200


@pytest.mark.parametrize("url", ["/orders/{}/", "/shops/products/{}/"])
@pytest.mark.parametrize("value", [HUGE, "0", "-1", "abc", "1%00"])
def test_detail_pages_with_junk_ids_are_404(owner_client, url, value):
    # when
    response = owner_client.get(url.format(value))
    # then
    assert response.status_code == 404


@pytest.mark.parametrize("page", ["/", "/coins/", "/affiliate/", "/mailing/", "/activities/"])
def test_overview_pages_ignore_junk_query_strings(owner_client, page):
    # when
    response = owner_client.get(page, {"page": HUGE, "x": "\x00", "sort": "x" * 5000})
    # then
    assert response.status_code == 200


@pytest.mark.parametrize(
    "shop_id", [HUGE, "-" + HUGE, "1\x00", "\x00", "x" * 5000, "1.5", "0", "", "[1]"]
)
def test_switching_to_a_junk_shop_id_is_refused_not_a_500(owner_client, shop_a, shop_id):
    # when
    response = owner_client.post(reverse("shops:switch"), {"shop_id": shop_id}, follow=True)
    # then
    assert response.status_code == 200
    assert "You cannot switch to that shop" in response.content.decode()
    assert owner_client.session[SESSION_KEY] == shop_a.pk


def test_switch_with_a_junk_next_goes_home(owner_client, shop_a):
    # when
    response = owner_client.post(
        reverse("shops:switch"), {"shop_id": shop_a.pk, "next": "\x00" + "x" * 5000}
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


@pytest.mark.parametrize(
    "data",
    [
        {"username": "owner\x00", "password": "x"},
        {"username": "o" * 5000, "password": "x"},
        {"username": HUGE, "password": "\x00"},
    ],
)
def test_login_form_survives_junk(client, owner, data):
    # when
    response = client.post(reverse("login"), data)
    # then: the form again, with an error; nobody signed in
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


# --- fault 5: no contact oracle ---------------------------------------------------------------


def test_b8_analyst_cannot_find_orders_by_buyer_email_prefix(analyst_client, shop_a):
    # given
    buyer = make_buyer(email="secret.person@example.org", phone="+8613800000000")
    order = make_order(shop_a, buyer, number="ORACLE-1")
    url = reverse("orders:list")
    # when: the letter-by-letter probe, the full address and the phone
    probes = [analyst_client.get(url, {"buyer": q}) for q in ("s", "secret", buyer.email)]
    by_phone = analyst_client.get(url, {"buyer": buyer.phone})
    by_id = analyst_client.get(url, {"buyer": buyer.external_id})
    # then: a contact matches nothing; the buyer id still finds the order
    for response in [*probes, by_phone]:
        assert response.status_code == 200
        assert _numbers(response) == []
    assert _numbers(by_id) == [order.number]


def test_b8_owner_and_marketer_still_search_by_contact(owner_client, marketer_client, shop_a):
    # given
    buyer = make_buyer(email="secret.person@example.org", phone="+8613800000000")
    order = make_order(shop_a, buyer, number="ORACLE-2")
    url = reverse("orders:list")
    # when / then
    for client in (owner_client, marketer_client):
        assert _numbers(client.get(url, {"buyer": "secret"})) == [order.number]
        assert _numbers(client.get(url, {"buyer": buyer.phone})) == [order.number]


def test_b8_the_buyer_field_tells_an_analyst_it_takes_a_buyer_id(analyst_client, owner_client):
    # when
    analyst = analyst_client.get(reverse("orders:list")).content.decode()
    owner = owner_client.get(reverse("orders:list")).content.decode()
    # then
    assert 'placeholder="Buyer id"' in analyst
    assert 'placeholder="Email prefix or buyer id"' in owner


@pytest.mark.parametrize(
    ("role", "sees"), [("owner", True), ("marketer", True), ("analyst", False)]
)
def test_b8_membership_decides_who_sees_buyer_contacts(request, shop_a, role, sees):
    # given
    from shops.models import Membership
    from shops.selectors import can_see_buyer_contacts

    user = request.getfixturevalue(role)
    membership = Membership.objects.get(user=user, shop=shop_a)
    # then
    assert membership.can_see_buyer_contacts is sees
    assert can_see_buyer_contacts(membership) is sees
    assert can_see_buyer_contacts(None) is False


# --- fault 9: read-only pages, no caching of contacts ------------------------------------------


@pytest.mark.parametrize(("name", "args"), READ_ONLY_PAGES)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_read_only_pages_refuse_writes_with_405(
    owner_client, order_a, product_a, name, args, method
):
    # when
    response = getattr(owner_client, method)(_url(name, args, order_a, product_a))
    # then
    assert response.status_code == 405
    assert sorted(response["Allow"].split(", ")) == ["GET", "HEAD"]


@pytest.mark.parametrize(("name", "args"), READ_ONLY_PAGES)
def test_read_only_pages_answer_get_and_head(owner_client, order_a, product_a, name, args):
    # when
    url = _url(name, args, order_a, product_a)
    # then
    assert owner_client.get(url).status_code == 200
    assert owner_client.head(url).status_code == 200


def test_anonymous_post_to_a_read_only_page_is_405_too(client, order_a):
    assert client.post(reverse("orders:list")).status_code == 405


@pytest.mark.parametrize(("name", "args"), READ_ONLY_PAGES)
@pytest.mark.parametrize("persona", ["owner_client", "analyst_client"])
def test_pages_with_buyer_contacts_are_never_cached(
    request, order_a, product_a, name, args, persona
):
    # when
    client = request.getfixturevalue(persona)
    response = client.get(_url(name, args, order_a, product_a))
    # then
    cache = {d.strip() for d in response.get("Cache-Control", "").split(",") if d.strip()}
    if name in CONTACT_PAGES:
        assert {"private", "no-store"} <= cache
    else:
        assert "no-store" not in cache


def test_a_member_of_two_shops_gets_the_first_by_name_by_default(db):
    # given: shops created in the other order than their names sort
    from factories import login_client, make_member

    zeta, alpha = make_shop(name="Zeta Store"), make_shop(name="Alpha Store")
    user = make_member(zeta, "owner")
    make_member(alpha, "analyst", user=user)
    client = login_client(user)  # nothing chosen yet
    # when
    response = client.get(reverse("home"))
    # then
    assert response.context["current_shop"] == alpha
    assert client.session[SESSION_KEY] == alpha.pk


NASTY = [HUGE, "\x00", "x" * 5000, "//evil.example", "javascript:alert(1)"]


@pytest.mark.parametrize("value", NASTY, ids=range(len(NASTY)))
def test_sign_in_language_and_admin_views_survive_junk(client, owner_client, db, value):
    # when / then: the views around the seller pages answer, never 500, never redirect off-site
    for c in (client, owner_client):
        assert c.get(reverse("login"), {"next": value}).status_code in (200, 302)
        assert c.get(reverse("admin:login"), {"next": value}).status_code in (200, 302)
        response = c.post(reverse("set_language"), {"language": value, "next": value})
        assert response.status_code == 302
        assert not response["Location"].startswith(("//", "javascript:", "http"))
    response = client.post(reverse("admin:login"), {"username": value, "password": value})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/orders/", "buyer=%ff%fe&date_from=%ff&after=%ff%00&number=%00%00&sort=%ff"),
        ("/shops/products/", "q=%ff%fe&category=%00&status=%ff&page=%00"),
    ],
)
def test_undecodable_query_strings_are_harmless(owner_client, order_a, url, query):
    # when: bytes that are not UTF-8, as a raw request can send them
    response = owner_client.get(url, QUERY_STRING=query)
    # then
    assert response.status_code == 200
