"""Reads every module shares (DESIGN §2): serious violations in a window (SPEC C-1(c), M-1) and
the carriers a shop may use (SPEC E-2), defined once in ``shops.selectors``."""

from datetime import timedelta

from factories import make_shop

from core import clock
from shops.selectors import carriers_for_shop, serious_violations, usable_carriers
from shops.services import logistics_set, violation_record


def _violation(shop, days_ago, *, serious=True, key):
    violation_record(
        shop=shop,
        external_id=key,
        kind="late",
        serious=serious,
        occurred_at=clock.now() - timedelta(days=days_ago),
    )


def test_serious_violations_counts_only_serious_ones_inside_the_window(db):
    # given
    shop, other = make_shop(), make_shop()
    _violation(shop, 1, key="in")
    _violation(shop, 29, key="edge-in")
    _violation(shop, 31, key="out")
    _violation(shop, 2, serious=False, key="minor")
    _violation(other, 1, key="other-shop")
    # when / then
    assert serious_violations(shop=shop, days=30) == 2
    assert serious_violations(shop=shop, days=32) == 3
    assert serious_violations(shop=shop, days=1, at=clock.now() - timedelta(hours=1)) == 1


def test_serious_violations_ignores_those_after_the_moment_asked(db):
    # given
    shop = make_shop()
    _violation(shop, 1, key="recent")
    # when / then: as of 5 days ago, the recent one had not happened yet
    assert serious_violations(shop=shop, days=30, at=clock.now() - timedelta(days=5)) == 0


def test_usable_carriers_are_certified_and_enabled(db):
    # given
    shop = make_shop()
    logistics_set(shop=shop, carrier="yanwen", enabled=True, certified=False)
    logistics_set(shop=shop, carrier="dhl", enabled=False, certified=True)
    logistics_set(shop=shop, carrier="4px", enabled=True, certified=True)
    logistics_set(shop=make_shop(), carrier="aliexpress_standard", enabled=True, certified=True)
    # when
    rows = carriers_for_shop(shop=shop)
    # then
    assert [c.carrier for c in rows] == ["4px", "dhl", "yanwen"]
    assert [c.carrier for c in usable_carriers(shop=shop)] == ["4px"]
    assert [c.carrier for c in usable_carriers(shop=shop, carriers=rows)] == ["4px"]
