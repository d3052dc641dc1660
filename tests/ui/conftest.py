"""Fixtures of the UI tests, built through the services by ``tests/factories.py`` (DESIGN §8).

``ui_shop`` ("Lotus Home", USD, eligible for every module, one certified carrier) has an owner
and a read-only analyst; ``ui_other_shop`` belongs to someone else.
"""

from datetime import timedelta

import pytest
from factories import login_client, make_buyer, make_member, make_order, make_product, make_shop

from core import clock
from shops.models import Role
from shops.services import logistics_set


@pytest.fixture
def ui_shop(db):
    shop = make_shop(name="Lotus Home", currency="USD")
    logistics_set(shop=shop, carrier="aliexpress_standard", enabled=True, certified=True)
    return shop


@pytest.fixture
def ui_other_shop(db):
    return make_shop(name="Rival Goods", currency="USD")


@pytest.fixture
def ui_owner(ui_shop):
    return make_member(ui_shop, Role.OWNER, username="ui-owner")


@pytest.fixture
def ui_analyst(ui_shop):
    return make_member(ui_shop, Role.ANALYST, username="ui-analyst")


@pytest.fixture
def ui_client(ui_owner, ui_shop):
    return login_client(ui_owner, ui_shop)


@pytest.fixture
def ui_analyst_client(ui_analyst, ui_shop):
    return login_client(ui_analyst, ui_shop)


@pytest.fixture
def ui_order(ui_shop):
    """A delivered order with two tracking scans, a closed dispute and a partial refund."""
    buyer = make_buyer(email="Jeanne.Martin@orange.fr", phone="+33612345678", country="FR")
    return make_order(
        ui_shop,
        buyer,
        status="delivered",
        number="UI-DETAIL-1",
        placed_at=clock.now() - timedelta(days=3),
        step=timedelta(hours=6),
        shipping_fee_minor=3_00,
        coupon_discount_minor=1_00,
        tracking_events=2,
        closed_dispute=True,
        partial_refund=True,
    )


@pytest.fixture
def ui_product(ui_shop):
    return make_product(ui_shop, title="Ceramic teapot", n_skus=3)


@pytest.fixture
def ui_foreign_order(ui_other_shop):
    return make_order(ui_other_shop, status="paid", number="RIVAL-1")


@pytest.fixture
def ui_foreign_product(ui_other_shop):
    return make_product(ui_other_shop, title="Rival kettle")
