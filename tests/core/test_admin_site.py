"""The platform admin of shops, buyers and orders: every model is registered, every changelist
and change page renders for a superuser with data, search finds by the documented keys, the
changelists run a fixed number of queries whatever the number of rows, and marketplace facts
cannot be edited by hand."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from factories import (
    first_sku,
    make_buyer,
    make_feedback,
    make_member,
    make_order,
    make_product,
    make_review,
)

from buyers.models import Buyer
from core import clock
from core.admin import EstimatedCountPaginator
from orders import services as order_services
from orders.models import (
    Cart,
    CartLine,
    Dispute,
    Feedback,
    Order,
    OrderLine,
    Payment,
    Refund,
    Review,
    Shipment,
    ShopDailyStats,
    TrackingEvent,
)
from shops.models import LogisticsSetting, Membership, Product, Role, Shop, Sku, Violation
from shops.services import logistics_set, violation_record

# The foundation's models; models other engineers add to these apps (the API's Integration,
# IngestedEvent) come with their own admin and their own tests.
FOUNDATION_MODELS = [
    Shop, Membership, Product, Sku, LogisticsSetting, Violation,
    Buyer,
    Cart, CartLine, Order, OrderLine, Payment, Shipment, TrackingEvent, Refund, Dispute,
    Review, Feedback, ShopDailyStats,
]  # fmt: skip


def build_world(shop, *, tag: str) -> dict:
    """One row of every model of shops/buyers/orders in ``shop``, through the services.

    Returns ``{model: (object, search term that must find it)}``.
    """
    now = clock.now()
    buyer = make_buyer(external_id=f"buyer-{tag}", email=f"Buyer.{tag}@Example.com")
    product = make_product(shop, external_id=f"prod-{tag}", title=f"Lamp {tag}")
    sku = first_sku(product)
    paid = make_order(shop, buyer, status="paid", sku=sku, number=f"P-{tag}")
    delivered = make_order(shop, buyer, status="delivered", sku=sku, number=f"D-{tag}")
    refunded = make_order(shop, buyer, status="paid", sku=sku, number=f"R-{tag}")
    refund = order_services.order_refund(
        order=refunded, refund_id=f"ref-{tag}", amount_minor=40_00, refunded_at=now
    )
    dispute = order_services.dispute_open(order=paid, dispute_id=f"dsp-{tag}", opened_at=now)
    event = order_services.tracking_update(
        order=delivered, status="in_transit", occurred_at=now, location="Shenzhen"
    )
    review = make_review(delivered, rating=4)
    feedback = make_feedback(delivered)
    cart = order_services.cart_update(shop=shop, buyer=buyer, items=[(sku, 2)], at=now)
    staff = make_member(shop, Role.MARKETER, username=f"staff-{tag}")
    setting = logistics_set(shop=shop, carrier="aliexpress_standard", enabled=True, certified=True)
    violation = violation_record(
        shop=shop, external_id=f"vio-{tag}", kind="fake_tracking", serious=True, occurred_at=now
    )
    shipment = delivered.shipment
    return {
        Shop: (shop, shop.external_id),
        Membership: (Membership.objects.get(user=staff, shop=shop), staff.username),
        Product: (product, product.external_id),
        Sku: (sku, sku.code),
        LogisticsSetting: (setting, shop.external_id),
        Violation: (violation, violation.external_id),
        # Stored case-folded (B-3); the admin folds the query the same way.
        Buyer: (buyer, f"BUYER.{tag}@example.COM"),
        Order: (paid, paid.number),
        OrderLine: (paid.lines.get(), paid.number),
        Payment: (paid.payments.get(), paid.number),
        Shipment: (shipment, shipment.tracking_number),
        TrackingEvent: (event, shipment.tracking_number),
        Refund: (refund, refunded.number),
        Dispute: (dispute, paid.number),
        Review: (review, delivered.number),
        Feedback: (feedback, delivered.number),
        Cart: (cart, buyer.external_id),
        CartLine: (CartLine.objects.get(cart=cart), sku.code),
        ShopDailyStats: (ShopDailyStats.objects.get(shop=shop), shop.external_id),
    }


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def world(shop_a):
    return build_world(shop_a, tag="w1")


def test_every_foundation_model_is_registered_and_the_world_covers_it(world):
    # when
    missing = [m.__name__ for m in FOUNDATION_MODELS if not admin.site.is_registered(m)]

    # then
    assert missing == []
    assert set(world) == set(FOUNDATION_MODELS)


def test_every_changelist_and_change_page_renders_for_a_superuser(admin_client, world):
    for model, (obj, _term) in world.items():
        # when
        changelist = admin_client.get(_url(model, "changelist"))
        change = admin_client.get(_url(model, "change", obj.pk))

        # then
        assert changelist.status_code == 200, model.__name__
        assert change.status_code == 200, model.__name__
        assert obj.pk in [o.pk for o in changelist.context["cl"].result_list], model.__name__


def test_changelist_search_finds_the_object_by_its_documented_key(admin_client, world, shop_b):
    # given: a second world in another shop, which the searches must not return
    other = build_world(shop_b, tag="w2")

    for model, (obj, term) in world.items():
        # when
        response = admin_client.get(_url(model, "changelist"), {"q": term})

        # then
        assert response.status_code == 200, model.__name__
        found = {o.pk for o in response.context["cl"].result_list}
        assert obj.pk in found, f"{model.__name__}: {term!r} did not find it"
        if model not in (LogisticsSetting, Membership):
            assert other[model][0].pk not in found, f"{model.__name__}: {term!r} found too much"


def test_order_search_by_buyer_email_and_order_pk(admin_client, order_a, order_b):
    # given: order_a and order_b share a buyer; order_b is in another shop
    url = _url(Order, "changelist")

    # when
    by_email = admin_client.get(url, {"q": "BUYER@example.com"})
    by_pk = admin_client.get(url, {"q": str(order_a.pk)})
    by_junk = admin_client.get(url, {"q": "no-such-order"})
    by_huge = admin_client.get(url, {"q": "9" * 30})

    # then
    assert {o.pk for o in by_email.context["cl"].result_list} == {order_a.pk, order_b.pk}
    assert [o.pk for o in by_pk.context["cl"].result_list] == [order_a.pk]
    assert list(by_junk.context["cl"].result_list) == []
    assert list(by_huge.context["cl"].result_list) == []


def test_shipment_and_tracking_search_by_tracking_number(admin_client, shop_a, buyer):
    # given
    shipped = make_order(shop_a, buyer, status="shipped")
    make_order(shop_a, buyer, status="shipped")
    tracking = shipped.tracking_number

    # when
    shipments = admin_client.get(_url(Shipment, "changelist"), {"q": tracking})
    by_order = admin_client.get(_url(Shipment, "changelist"), {"q": shipped.number})

    # then
    assert [s.order_id for s in shipments.context["cl"].result_list] == [shipped.pk]
    assert [s.order_id for s in by_order.context["cl"].result_list] == [shipped.pk]


def test_buyer_search_normalises_a_phone_number(admin_client, db):
    # given
    buyer = make_buyer(email=None, phone="+86 138 0013 8000")

    # when
    response = admin_client.get(_url(Buyer, "changelist"), {"q": "+8613800138000"})
    spaced = admin_client.get(_url(Buyer, "changelist"), {"q": "+86 138-0013-8000"})

    # then
    assert [b.pk for b in response.context["cl"].result_list] == [buyer.pk]
    assert [b.pk for b in spaced.context["cl"].result_list] == [buyer.pk]


def test_changelists_run_a_fixed_number_of_queries_whatever_the_rows(admin_client, shop_a, shop_b):
    # given: one world, measured; then a second world
    build_world(shop_a, tag="q1")
    before = {}
    for model in FOUNDATION_MODELS:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(_url(model, "changelist")).status_code == 200
        before[model] = len(ctx)
    build_world(shop_b, tag="q2")

    for model, n_before in before.items():
        # when
        with CaptureQueriesContext(connection) as ctx:
            admin_client.get(_url(model, "changelist"))

        # then: no query per row (list_select_related covers every FK column)
        assert len(ctx) == n_before, f"{model.__name__}: {n_before} -> {len(ctx)} queries"


def test_big_changelists_do_not_count_the_whole_table(admin_client, world):
    for model in (Order, OrderLine, Payment, Shipment, TrackingEvent, Refund, Review, Buyer):
        # when
        with CaptureQueriesContext(connection) as ctx:
            admin_client.get(
                _url(model, "changelist"), {"status__exact": "paid"} if model is Order else {}
            )

        # then: at most the one (filtered) count the paginator needs, and no table-wide
        # DISTINCT (list filter options, date hierarchy) or MIN/MAX (date hierarchy)
        sqls = [q["sql"].upper() for q in ctx.captured_queries]
        counts = [q for q in sqls if "COUNT(*)" in q]
        scans = [q for q in sqls if "DISTINCT" in q or "MIN(" in q]
        assert len(counts) <= 1, (model.__name__, counts)
        assert scans == [], (model.__name__, scans)
        assert admin.site.get_model_admin(model).show_full_result_count is False


@pytest.mark.parametrize("model", [Order, Review, Feedback, Cart, ShopDailyStats])
def test_date_hierarchy_appears_once_the_list_is_narrowed_to_a_shop(admin_client, world, model):
    # given
    shop = world[Shop][0]

    # when
    unfiltered = admin_client.get(_url(model, "changelist"))
    one_shop = admin_client.get(_url(model, "changelist"), {"shop__id__exact": shop.pk})

    # then
    assert unfiltered.context["cl"].date_hierarchy is None
    assert one_shop.context["cl"].date_hierarchy is not None
    assert 'id="date-hierarchy-label"' in one_shop.content.decode()
    assert 'id="date-hierarchy-label"' not in unfiltered.content.decode()


def test_order_money_is_shown_formatted(admin_client, order_a):
    # when
    changelist = admin_client.get(_url(Order, "changelist"))
    change = admin_client.get(_url(Order, "change", order_a.pk))

    # then: shop A settles in CNY; ¥100.00 paid
    assert "¥100.00" in changelist.content.decode()
    page = change.content.decode()
    assert "¥100.00" in page
    assert "¥100.00 / ¥100.00" in page  # SPEC C-9 GMV / invoice


def test_order_admin_is_view_only(admin_client, order_a):
    # given
    url = _url(Order, "change", order_a.pk)
    before = Order.objects.values().get(pk=order_a.pk)

    # when
    page = admin_client.get(url)
    post = admin_client.post(url, {"status": "completed", "amount_paid_minor": "1"})
    add = admin_client.get(_url(Order, "add"))
    delete = admin_client.get(_url(Order, "delete", order_a.pk))

    # then: the change page has no save button; writes are refused and change nothing
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert post.status_code == 403
    assert add.status_code == 403
    assert delete.status_code == 403
    assert Order.objects.values().get(pk=order_a.pk) == before


@pytest.mark.parametrize("model", [Payment, Refund, Shipment, Review, Sku, Product, Violation])
def test_other_marketplace_facts_are_view_only(admin_client, world, model):
    # given
    obj = world[model][0]

    # when
    post = admin_client.post(_url(model, "change", obj.pk), {})
    add = admin_client.get(_url(model, "add"))

    # then
    assert post.status_code == 403
    assert add.status_code == 403


def test_buyer_admin_edits_only_the_risk_decision(admin_client, buyer):
    # given
    url = _url(Buyer, "change", buyer.pk)

    # when: a post that also tries to change the e-mail
    response = admin_client.post(
        url,
        {
            "risk_status": "suspected_fraud",
            "risk_reason": "fraud ring",
            "low_activity": "on",
            "email": "x@evil.example",
        },
    )

    # then
    assert response.status_code == 302
    buyer.refresh_from_db()
    assert buyer.risk_status == "suspected_fraud"
    assert buyer.low_activity is True
    assert buyer.email == "buyer@example.com"


def test_shop_page_manages_memberships_inline(admin_client, shop_a, owner, db):
    # given
    newcomer = make_member(shop_a, Role.ANALYST, username="newcomer")
    Membership.objects.filter(user=newcomer).delete()
    owner_membership = Membership.objects.get(user=owner, shop=shop_a)
    data = {
        "memberships-TOTAL_FORMS": "2",
        "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": str(owner_membership.pk),
        "memberships-0-shop": str(shop_a.pk),
        "memberships-0-user": str(owner.pk),
        "memberships-0-role": "owner",
        "memberships-1-shop": str(shop_a.pk),
        "memberships-1-user": str(newcomer.pk),
        "memberships-1-role": "analyst",
        "logistics_settings-TOTAL_FORMS": "0",
        "logistics_settings-INITIAL_FORMS": "0",
        "logistics_settings-MIN_NUM_FORMS": "0",
        "logistics_settings-MAX_NUM_FORMS": "1000",
    }

    # when
    response = admin_client.post(_url(Shop, "change", shop_a.pk), data)

    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Membership.objects.get(user=newcomer, shop=shop_a).role == "analyst"
    shop_a.refresh_from_db()
    assert shop_a.name == "Shop A"


def test_daily_stats_rebuild_action_calls_the_service(admin_client, order_a):
    # given: the figures drifted
    stats = ShopDailyStats.objects.get(shop=order_a.shop)
    ShopDailyStats.objects.filter(pk=stats.pk).update(gmv_minor=1, orders_paid=99)

    # when
    response = admin_client.post(
        _url(ShopDailyStats, "changelist"),
        {"action": "rebuild_from_orders", "_selected_action": [stats.pk]},
        follow=True,
    )

    # then
    assert response.status_code == 200
    fixed = ShopDailyStats.objects.get(shop=order_a.shop)
    assert (fixed.gmv_minor, fixed.orders_paid) == (100_00, 1)


def test_estimated_count_paginator_uses_the_planner_estimate_only_unfiltered(
    order_a, order_b, monkeypatch
):
    # given: statistics gathered, and a threshold low enough for this small table
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Order._meta.db_table}")
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [Order._meta.db_table],
        )
        estimate = cursor.fetchone()[0]
    monkeypatch.setattr(EstimatedCountPaginator, "ESTIMATE_ABOVE", 0)

    # when
    unfiltered = EstimatedCountPaginator(Order.objects.order_by("-pk"), 50).count
    filtered = EstimatedCountPaginator(Order.objects.filter(shop=order_a.shop), 50).count

    # then
    assert unfiltered == estimate
    assert filtered == 1


def test_estimated_count_paginator_counts_small_tables_exactly(order_a, order_b):
    # when: below the threshold the exact count is used
    count = EstimatedCountPaginator(Order.objects.order_by("-pk"), 50).count

    # then
    assert count == 2


def test_date_hierarchy_drilldown_filters(admin_client, order_a, order_b):
    # given: a day of shop A's orders
    day = order_a.placed_at

    # when
    response = admin_client.get(
        _url(Order, "changelist"),
        {
            "shop__id__exact": order_a.shop_id,
            "placed_at__year": day.year,
            "placed_at__month": day.month,
            "placed_at__day": day.day,
        },
    )

    # then
    assert response.status_code == 200
    assert [o.pk for o in response.context["cl"].result_list] == [order_a.pk]


def test_shop_page_links_to_its_orders_only(admin_client, order_a, order_b):
    # given
    shop = order_a.shop
    page = admin_client.get(_url(Shop, "change", shop.pk)).content.decode()
    link = f"{_url(Order, 'changelist')}?shop__id__exact={shop.pk}"

    # when
    response = admin_client.get(link)

    # then
    assert link.replace("&", "&amp;") in page
    assert [o.pk for o in response.context["cl"].result_list] == [order_a.pk]


def _inline_data(prefix: str, rows: list[dict], initial: int) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


def test_shop_inlines_write_through_the_services(admin_client, shop_a, owner, marketer):
    # given
    owner_row = Membership.objects.get(user=owner, shop=shop_a)
    marketer_row = Membership.objects.get(user=marketer, shop=shop_a)
    yanwen = logistics_set(shop=shop_a, carrier="yanwen", enabled=True, certified=False)
    newcomer = make_member(shop_a, Role.ANALYST, username="newcomer2")
    Membership.objects.filter(user=newcomer).delete()
    shop = str(shop_a.pk)
    data = {
        # owner unchanged, marketer demoted to analyst, a new analyst
        **_inline_data(
            "memberships",
            [
                {"id": owner_row.pk, "shop": shop, "user": owner.pk, "role": "owner"},
                {"id": marketer_row.pk, "shop": shop, "user": marketer.pk, "role": "analyst"},
                {"shop": shop, "user": newcomer.pk, "role": "analyst"},
            ],
            initial=2,
        ),
        # yanwen deleted, the official line added and certified
        **_inline_data(
            "logistics_settings",
            [
                {
                    "id": yanwen.pk,
                    "shop": shop,
                    "carrier": "yanwen",
                    "enabled": "on",
                    "DELETE": "on",
                },
                {
                    "shop": shop,
                    "carrier": "aliexpress_standard",
                    "enabled": "on",
                    "certified": "on",
                },
            ],
            initial=1,
        ),
    }

    # when
    response = admin_client.post(_url(Shop, "change", shop_a.pk), data)

    # then
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    roles = dict(Membership.objects.filter(shop=shop_a).values_list("user__username", "role"))
    assert roles == {"owner": "owner", "marketer": "analyst", "newcomer2": "analyst"}
    carriers = list(
        LogisticsSetting.objects.filter(shop=shop_a).values_list("carrier", "certified")
    )
    assert carriers == [("aliexpress_standard", True)]


def test_membership_admin_moves_a_membership_to_another_user(admin_client, shop_a, owner):
    # given
    row = Membership.objects.get(user=owner, shop=shop_a)
    other = make_member(shop_a, Role.ANALYST, username="successor")
    Membership.objects.filter(user=other).delete()

    # when
    response = admin_client.post(
        _url(Membership, "change", row.pk),
        {"user": other.pk, "shop": shop_a.pk, "role": "owner"},
    )

    # then: one membership, the successor's; none left for the old user
    assert response.status_code == 302
    assert list(Membership.objects.filter(shop=shop_a).values_list("user__username", "role")) == [
        ("successor", "owner")
    ]
