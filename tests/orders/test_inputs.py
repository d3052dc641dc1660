"""orders/inputs.py: the order_create arguments as one frozen value (DESIGN §2), and no import
circle between the guards and the services (issue 6 §2)."""

import ast
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

import orders
from buyers.models import Buyer
from orders import services
from orders.inputs import LineInput, OrderInput
from shops.models import Shop

T0 = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


def _imports(module: str) -> set[str]:
    """Every module ``orders/<module>.py`` imports, at any level (TYPE_CHECKING blocks too)."""
    tree = ast.parse((Path(orders.__file__).parent / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ("orders." if node.level else "") + (node.module or "")
            found.add(base.rstrip("."))
            found |= {f"{base.rstrip('.')}.{alias.name}".lstrip(".") for alias in node.names}
    return found


def test_guards_never_import_the_services():
    # when
    imported = _imports("guards")

    # then: not even for type hints (the services import the guards)
    assert not {name for name in imported if name.startswith("orders.services")}
    assert "orders.inputs" in imported


def test_inputs_import_neither_guards_nor_services():
    # when
    imported = _imports("inputs")

    # then
    assert not {n for n in imported if n.startswith(("orders.guards", "orders.services"))}


def test_order_input_is_frozen_and_defaults_the_optional_amounts():
    # given
    data = OrderInput(
        shop=Shop(pk=1),
        buyer=Buyer(pk=2, country="FR"),
        number="N-1",
        lines=[LineInput(sku=None, quantity=2, unit_price_minor=3_00)],
        placed_at=T0,
    )

    # then
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.number = "N-2"
    assert (data.shipping_fee_minor, data.coin_deduction_coins, data.activity_id) == (0, 0, None)
    assert data.subtotal_minor == 6_00
    # the order's country: the buyer's unless given
    assert data.order_country == "FR"
    assert dataclasses.replace(data, country="DE").order_country == "DE"


def test_services_still_export_the_inputs():
    # then: callers that import them from the services keep working
    assert services.LineInput is LineInput
    assert services.OrderInput is OrderInput
