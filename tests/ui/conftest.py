"""Fixtures of the UI tests (see builders.py), built through the services (DESIGN §8)."""

import pytest

from shops.services import logistics_set, membership_grant

from .builders import login, make_buyer, make_order, make_product, make_shop, make_user


@pytest.fixture
def ui_shop(db):
    shop = make_shop(name="Lotus Home")
    logistics_set(shop=shop, carrier="aliexpress_standard", enabled=True, certified=True)
    return shop


@pytest.fixture
def ui_other_shop(db):
    return make_shop(name="Rival Goods")


@pytest.fixture
def ui_owner(ui_shop):
    user = make_user("ui-owner")
    membership_grant(user=user, shop=ui_shop, role="owner")
    return user


@pytest.fixture
def ui_analyst(ui_shop):
    user = make_user("ui-analyst")
    membership_grant(user=user, shop=ui_shop, role="analyst")
    return user


@pytest.fixture
def ui_client(ui_owner, ui_shop):
    return login(ui_owner, ui_shop)


@pytest.fixture
def ui_analyst_client(ui_analyst, ui_shop):
    return login(ui_analyst, ui_shop)


@pytest.fixture
def ui_order(ui_shop):
    """A delivered order with tracking, a partial refund and a closed dispute."""
    buyer = make_buyer(email="Jeanne.Martin@orange.fr", phone="+33612345678")
    return make_order(
        ui_shop, buyer=buyer, stage="delivered", refund=True, dispute=True, number="UI-DETAIL-1"
    )


@pytest.fixture
def ui_product(ui_shop):
    return make_product(ui_shop, title="Ceramic teapot", n_skus=3)


@pytest.fixture
def ui_foreign_order(ui_other_shop):
    return make_order(ui_other_shop, stage="paid", number="RIVAL-1")


@pytest.fixture
def ui_foreign_product(ui_other_shop):
    return make_product(ui_other_shop, title="Rival kettle")
