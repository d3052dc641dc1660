"""Activities and enrolment (SPEC E-1) with the per-SKU pre-check (E-2)."""

from datetime import timedelta

import pytest
from actkit import DAY1_10H, D, Seller, enrol, make_activity

from activities import services
from activities.models import Enrolment, EnrolmentStatus
from coins.selectors import account_active
from core.errors import DomainError
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
