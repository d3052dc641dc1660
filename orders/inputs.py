"""What it takes to create an order, as one value (DESIGN §2: many arguments travel as one
frozen dataclass, not as 16 keywords repeated).

``OrderInput`` is built once by each write path — the ingestion handlers and fast path
(``OrderCreatedData.order_input``), the demo's bulk plans (``demo.bulk``), the tests' factories —
and handed to ``services.order_build`` / ``services.order_create`` and ``guards.check_order``.

Plain data, no query, no import of ``services`` or ``guards``: both import it (this module is
what keeps them from importing each other).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from buyers.models import Buyer
    from shops.models import Shop, Sku


@dataclass(frozen=True, slots=True)
class LineInput:
    sku: Sku
    quantity: int
    unit_price_minor: int


@dataclass(frozen=True, slots=True)
class OrderInput:
    """The ``order.created`` fact: who ordered what, where, when, and what the amounts are.

    ``buyer`` may be an unsaved stub (``Buyer(pk=…, country=…)``): the writers read only its
    ``pk`` and ``country`` (the bulk planner streams a million plans without loading buyers).
    ``country`` empty means the buyer's country.
    """

    shop: Shop
    buyer: Buyer
    number: str
    lines: Sequence[LineInput]
    placed_at: datetime
    shipping_fee_minor: int = 0
    coupon_discount_minor: int = 0
    coin_deduction_coins: int = 0
    coin_deduction_minor: int = 0
    platform_subsidy_minor: int = 0
    cashback_red_packet_minor: int = 0
    payment_method: str = ""
    logistics_service: str = ""
    activity_id: int | None = None
    affiliate_click_id: str = ""
    country: str = ""

    @property
    def subtotal_minor(self) -> int:
        """Items only (quantity x unit price); ``guards.check_order`` refuses bad lines first."""
        return sum(line.quantity * line.unit_price_minor for line in self.lines)

    @property
    def order_country(self) -> str:
        """The country the order row records: the given one, else the buyer's."""
        return self.country or self.buyer.country
