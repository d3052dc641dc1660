"""Activities and enrolment (SPEC E-1) with the per-SKU pre-check (E-2)."""

from datetime import timedelta

import pytest
from actkit import DAY1_10H, D, Seller, enrol, make_activity
from constance import config
from django.urls import reverse
from factories import make_product

from activities import selectors, services
from activities.models import CarrierIncident, Enrolment, EnrolmentStatus
from coins.selectors import account_active
from core.errors import DomainError
from orders.selectors import IncidentWindow
from shops.services import logistics_set


def _states(checks):
    return {c.code: c.passed for c in checks}


def _pre(seller, activity, *, price=45_00, stock=80, carriers_ok=True, coin=True):
    return services.precheck_sku(
        activity=activity,
        sku=seller.sku,
        price_minor=price,
        stock=stock,
        carriers_ok=carriers_ok,
        coin_account_active=coin,
    )


def test_e2_stock_must_cover_120_percent_of_the_activity_stock(seller, activity):
    seller.sku.stock = 120
    assert _states(_pre(seller, activity, stock=100))["e2_stock_cover"] is True  # 120 = 120%
    failed = next(c for c in _pre(seller, activity, stock=101) if c.code == "e2_stock_cover")
    assert failed.passed is False  # needs 122 (ceil 121.2)
    assert "122" in failed.required
    assert "100" in failed.fix  # commit at most 100 units
    assert failed.fix_url


def test_e2_activity_price_at_most_the_30_day_lowest_transacted_price(seller, activity):
    seller.sku.lowest_price_30d_minor = 40_00
    assert _states(_pre(seller, activity, price=40_00))["e2_lowest_price"] is True
    failed = next(c for c in _pre(seller, activity, price=40_01) if c.code == "e2_lowest_price")
    assert failed.passed is False
    assert "40.00" in failed.fix
    # without a transacted price the SKU's own price is the ceiling
    seller.sku.lowest_price_30d_minor = None
    assert _states(_pre(seller, activity, price=50_00))["e2_lowest_price"] is True
    assert _states(_pre(seller, activity, price=50_01))["e2_lowest_price"] is False


def test_e2_a_certified_carrier_is_needed(seller, activity):
    failed = next(
        c for c in _pre(seller, activity, carriers_ok=False) if c.code.endswith("carrier")
    )
    assert failed.passed is False
    assert failed.fix


def test_e1_activity_rules_discount_and_stock_cap(seller):
    activity = make_activity(min_discount_bp=2000, max_stock_per_sku=50)  # 20% off, ≤ 50 units
    states = _states(_pre(seller, activity, price=40_00, stock=50))
    assert states["e1_min_discount"] is True
    assert states["e1_stock_cap"] is True
    states = _states(_pre(seller, activity, price=40_01, stock=51))
    assert states["e1_min_discount"] is False
    assert states["e1_stock_cap"] is False


def test_c10_coin_event_needs_an_active_coin_account(seller):
    coin_event = make_activity(kind="coin_event", name="Coin carnival")
    assert _states(_pre(seller, coin_event, coin=False))["c10_coin_account"] is False
    assert _states(_pre(seller, coin_event, coin=True))["c10_coin_account"] is True
    assert "c10_coin_account" not in _states(_pre(seller, make_activity()))
    # and the service reads the coins selector: this shop has no coin account
    assert account_active(shop=seller.shop) is False
    with pytest.raises(DomainError) as exc:
        enrol(seller, coin_event)
    assert exc.value.code == "c10_coin_account"
    assert not Enrolment.objects.exists()


def test_e1_enrolment_records_price_and_stock(seller, activity):
    e = enrol(seller, activity, price=44_00, stock=30)
    assert (e.activity_price_minor, e.stock, e.status) == (44_00, 30, EnrolmentStatus.ENROLLED)
    assert e.currency == seller.sku.currency
    with pytest.raises(DomainError) as exc:
        enrol(seller, activity)
    assert exc.value.code == "already_enrolled"
    # withdrawn, it may enrol again
    services.enrolment_withdraw(shop=seller.shop, enrolment_id=e.pk, now=DAY1_10H - D)
    assert enrol(seller, activity).status == EnrolmentStatus.ENROLLED


def test_e2_a_failed_pre_check_writes_nothing_and_names_the_condition(db, activity):
    seller = Seller()
    logistics_set(shop=seller.shop, carrier="aliexpress_standard", enabled=False, certified=True)
    with pytest.raises(DomainError) as exc:
        enrol(seller, activity)
    assert exc.value.code == "e2_certified_carrier"
    with pytest.raises(DomainError) as exc:
        enrol(Seller(), activity, stock=900)  # 1000 on hand < 1080
    assert exc.value.code == "e2_stock_cover"
    assert not Enrolment.objects.exists()


def test_e1_enrolment_closes_and_skus_stay_in_their_shop(seller, activity, db):
    with pytest.raises(DomainError) as exc:
        enrol(seller, activity, at=activity.enrol_until)
    assert exc.value.code == "enrolment_closed"
    other = Seller()
    with pytest.raises(DomainError) as exc:
        services.enrolment_create(
            shop=seller.shop,
            activity=activity,
            sku=other.sku,
            activity_price_minor=10_00,
            stock=1,
            now=DAY1_10H - D,
        )
    assert exc.value.code == "foreign_sku"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"kind": "lottery"}, "invalid_kind"),
        ({"name": "  "}, "invalid_name"),
        ({"ends_at": DAY1_10H - 5 * D}, "invalid_window"),
        ({"enrol_until": DAY1_10H + 31 * D}, "invalid_window"),
        ({"min_discount_bp": 10001}, "invalid_discount"),
        ({"max_stock_per_sku": 0}, "invalid_stock"),
    ],
)
def test_e1_activity_create_refuses_bad_input(db, change, code):
    with pytest.raises(DomainError) as exc:
        make_activity(**change)
    assert exc.value.code == code


def test_e3a_incident_declare_refuses_bad_input(db):
    good = {
        "carrier": "yanwen",
        "region": "fr",
        "starts_at": DAY1_10H,
        "ends_at": DAY1_10H + timedelta(hours=1),
        "reason": "Strike",
    }
    assert services.incident_declare(**good).region == "FR"
    for change, code in [
        ({"carrier": "pigeon"}, "invalid_carrier"),
        ({"region": "FRA"}, "invalid_region"),
        ({"ends_at": DAY1_10H}, "invalid_window"),
        ({"reason": " "}, "invalid_reason"),
    ]:
        with pytest.raises(DomainError) as exc:
            services.incident_declare(**{**good, **change})
        assert exc.value.code == code


def test_e2_stock_cover_percentage_follows_the_registry(seller, activity):
    # given: the admin asks for 150% instead of 120%
    config.ACTIVITIES_STOCK_COVER_PERCENT = 150
    seller.sku.stock = 150
    # then: 100 units are covered by 150, 101 need 152
    assert _states(_pre(seller, activity, stock=100))["e2_stock_cover"] is True
    failed = next(c for c in _pre(seller, activity, stock=101) if c.code == "e2_stock_cover")
    assert failed.passed is False
    assert "150%" in failed.label
    assert "152" in failed.required
    assert "150% of 101" in failed.detail
    assert "at most 100 units" in failed.fix


def _sku(seller, code, stock):
    return make_product(
        seller.shop, skus=[{"code": code, "price_minor": 50_00, "stock": stock}]
    ).skus.get()


def _enrol_sku(seller, activity, sku, stock, *, at=DAY1_10H - 2 * D):
    return services.enrolment_create(
        shop=seller.shop,
        activity=activity,
        sku=sku,
        activity_price_minor=45_00,
        stock=stock,
        now=at,
    )


def test_e2_committed_stock_counts_the_overlapping_activities(seller, activity):
    # given: 120 on hand, 100 committed to a running activity
    sku = _sku(seller, "ACT-120", 120)
    first = _enrol_sku(seller, activity, sku, 100)
    overlapping = make_activity(name="Overlapping coupons", kind="coupon")
    later = make_activity(
        name="After it",
        starts_at=activity.ends_at,
        ends_at=activity.ends_at + 10 * D,
        enrol_until=activity.ends_at,
    )

    # when: another 100 in an activity running at the same time
    with pytest.raises(DomainError) as exc:
        _enrol_sku(seller, overlapping, sku, 100)

    # then: refused — 200 units committed at once need 240 on hand — and the reason says so
    assert exc.value.code == "e2_stock_cover"
    assert "200 units committed at once (100 here and 100 in overlapping activities)" in str(
        exc.value
    )
    [check] = [
        c
        for c in services.precheck_sku(
            activity=overlapping,
            sku=sku,
            price_minor=45_00,
            stock=1,
            carriers_ok=True,
            coin_account_active=True,
            committed_elsewhere=selectors.stock_committed_elsewhere(
                sku=sku, activity=overlapping, at=DAY1_10H - 2 * D
            ),
        )
        if c.code == "e2_stock_cover"
    ]
    assert (check.passed, check.required) == (False, "at least 122")
    assert "withdraw it from an overlapping activity" in check.fix
    # an activity after the first one ends does not overlap it
    assert _enrol_sku(seller, later, sku, 100).status == EnrolmentStatus.ENROLLED
    # withdrawn from the first, its stock is free again
    services.enrolment_withdraw(shop=seller.shop, enrolment_id=first.pk, now=DAY1_10H - D)
    assert _enrol_sku(seller, overlapping, sku, 100, at=DAY1_10H - D).stock == 100
    assert not Enrolment.objects.filter(activity=activity, status="enrolled").exists()


def test_e2_an_ended_activity_commits_nothing(seller):
    # given: 100 of 120 committed to an activity that ended yesterday (still "enrolled")
    sku = _sku(seller, "ACT-OLD", 120)
    ended = make_activity(
        name="Ended",
        starts_at=DAY1_10H - 10 * D,
        ends_at=DAY1_10H - D,
        enrol_until=DAY1_10H - 5 * D,
    )
    _enrol_sku(seller, ended, sku, 100, at=DAY1_10H - 6 * D)
    running = make_activity(name="Running since last week", starts_at=DAY1_10H - 7 * D)
    # then: enrolling now in one that started while the other ran is judged alone
    assert selectors.stock_committed_elsewhere(sku=sku, activity=running, at=DAY1_10H) == 0
    assert _enrol_sku(seller, running, sku, 100, at=DAY1_10H).status == EnrolmentStatus.ENROLLED


# --- SPEC E-3a carrier incidents in the admin ----------------------------------------------------


def _incident_post(**over):
    data = {
        "carrier": "yanwen",
        "region": "cn",
        "starts_at_0": "2025-06-01",
        "starts_at_1": "08:00:00",
        "ends_at_0": "2025-06-03",
        "ends_at_1": "08:00:00",
        "reason": "  Sorting centre closed by a typhoon  ",
    }
    data.update(over)
    return data


def test_e3a_admin_incident_is_saved_as_the_service_saves_it(admin_client):
    # when: an admin types the region in lower case
    r = admin_client.post(reverse("admin:activities_carrierincident_add"), _incident_post())

    # then: stored upper-case, as orders store the ship-to country, so it matches them
    assert r.status_code == 302
    incident = CarrierIncident.objects.get()
    assert (incident.region, incident.reason) == ("CN", "Sorting centre closed by a typhoon")
    window = IncidentWindow(
        carrier=incident.carrier,
        region=incident.region,
        starts_at=incident.starts_at,
        ends_at=incident.ends_at,
    )
    assert window.covers(
        carrier="yanwen", country="CN", placed_at=incident.starts_at + timedelta(hours=1)
    )
    # and editing it goes through the same checks
    url = reverse("admin:activities_carrierincident_change", args=[incident.pk])
    assert admin_client.post(url, _incident_post(region=" fr ")).status_code == 302
    incident.refresh_from_db()
    assert incident.region == "FR"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"region": "C1"}, "region", "two-letter country code"),
        ({"region": "中国"}, "region", "two-letter country code"),
        ({"ends_at_0": "2025-06-01"}, "ends_at", "must end after it starts"),
        ({"reason": "   "}, "reason", "This field is required."),
    ],
)
def test_e3a_admin_incident_bad_input_is_a_form_error(admin_client, change, field, message):
    r = admin_client.post(reverse("admin:activities_carrierincident_add"), _incident_post(**change))
    assert r.status_code == 200
    errors = r.context["adminform"].form.errors
    assert message in " ".join(errors.get(field, [])), errors
    assert not CarrierIncident.objects.exists()
