"""The event contract of ``POST /api/v1/events`` (SPEC §0), as pydantic models.

These models *are* the OpenAPI document: what they accept is exactly what the JSON schema says,
so a request that fails them answers 422 and one that passes them answers 200 (each event then
``applied``, ``duplicate`` or ``rejected`` by the business rules). Hence:

* strict types (``strict=True``): an amount is a JSON integer (``12``, or ``12.0`` which JSON
  Schema counts as the same integer), never ``"12"`` or ``12.5``; a flag
  is ``true``/``false``; unknown fields are refused (``extra="forbid"``: a typo in an optional
  field must not silently fall back to its default);
* amounts are integer minor units, ``0 ≤ amount ≤ MAX_ORDER_MINOR``;
* marketplace ids match ``ID_PATTERN``; free text refuses the NUL character (PostgreSQL cannot
  store it) — both are in the schema as ``pattern``;
* date-times are RFC 3339 strings *with* an offset (``2026-05-01T08:00:00+08:00`` or ``…Z``).
  Whether a date-time is plausible (years 2000-2199) is a business rule: ``invalid_time``.

Every fact happens at the envelope's ``occurred_at`` (an order is placed, paid, shipped … then);
only ``shop.upserted.opened_at`` and ``buyer.upserted.registered_at`` carry a second time.
"""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from buyers.models import Buyer, RiskStatus, Site
from core.errors import DomainError
from core.money import EXPONENTS
from shops.models import Carrier, Category, Region, ReviewStatus, Shop, Sku
from shops.services import DEFAULT_SHOP_CURRENCY, IMAGE_URL_MAX_LENGTH, IMAGE_URL_PATTERN

from ..inputs import LineInput, OrderInput
from ..models import DisputeOutcome, FeedbackKind, PaymentMethod, TrackingStatus
from ..services import MAX_ORDER_MINOR

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/#@+=-]*$"
_NO_NUL = r"^[^\x00]*$"

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN)]
EventId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=ID_PATTERN)]


def _text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str, StringConstraints(min_length=min_length, max_length=max_length, pattern=_NO_NUL)
    ]


_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def _parse_datetime(value: object) -> datetime:
    # Strict mode validates a Python dict (ninja parses the JSON first), where pydantic would
    # want a datetime object: parse the RFC 3339 string here, and nothing else (no unix
    # seconds, no naive times).
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError(
            "must be an RFC 3339 date-time string with an offset, e.g. 2026-05-01T08:00:00Z"
        )
    try:
        parsed = datetime.fromisoformat(value.upper().replace(" ", "T"))
    except ValueError:
        raise ValueError("is not a valid date-time") from None
    # In UTC from here on: RFC 3339 allows offsets up to ±23:59, PostgreSQL only ±15:59.
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 at the edge: refused later as invalid_time
        return parsed


def _integral(value: object) -> object:
    # JSON Schema's "integer" is a mathematical integer, so 12.0 is one (and schemathesis sends
    # it as such): accept an integral float as the int it denotes. 12.5, "12" and true stay
    # refused by the strict int check that follows.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_parse_datetime)]


def _int(ge: int, le: int) -> Any:
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_integral)]


Amount = _int(0, MAX_ORDER_MINOR)
PositiveAmount = _int(1, MAX_ORDER_MINOR)
Score = Annotated[float, Field(ge=0, le=5)]  # a published 0-5 rating, stored as Decimal(0.01)
Stars = _int(1, 5)
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]

CategoryName = Literal[tuple(Category.values)]  # type: ignore[valid-type]
RegionName = Literal[tuple(Region.values)]  # type: ignore[valid-type]
ReviewStatusName = Literal[tuple(ReviewStatus.values)]  # type: ignore[valid-type]
CurrencyCode = Literal[tuple(sorted(EXPONENTS))]  # type: ignore[valid-type]
SiteName = Literal[tuple(Site.values)]  # type: ignore[valid-type]
RiskStatusName = Literal[tuple(RiskStatus.values)]  # type: ignore[valid-type]
PaymentMethodName = Literal[tuple(PaymentMethod.values)]  # type: ignore[valid-type]
CarrierName = Literal[tuple(Carrier.values)]  # type: ignore[valid-type]
TrackingStatusName = Literal[tuple(TrackingStatus.values)]  # type: ignore[valid-type]
DisputeOutcomeName = Literal[tuple(DisputeOutcome.values)]  # type: ignore[valid-type]
FeedbackKindName = Literal[tuple(FeedbackKind.values)]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


# --- data of each event type ---------------------------------------------------------------


class LogisticsIn(Strict):
    carrier: CarrierName
    enabled: bool = True
    certified: bool = False


class ShopData(Strict):
    shop_id: Id
    name: _text(200, 1)
    opened_at: Timestamp
    main_category: CategoryName
    registration_region: RegionName = "CN"
    enterprise_certified: bool = False
    store_level: _int(1, 5) = 1
    store_rating: Score = 0
    dsr_item_as_described: Score = 0
    dsr_communication: Score = 0
    dsr_shipping: Score = 0
    currency: CurrencyCode | None = Field(
        None,
        description="The currency of the shop's prices, orders and balance. Omitted (or null): "
        f"a known shop keeps its currency, a new shop is created in {DEFAULT_SHOP_CURRENCY}. "
        "A shop that has orders or balance entries cannot change it: rejected "
        "`currency_change`.",
    )
    logistics: Annotated[list[LogisticsIn], Field(max_length=len(Carrier.values))] = []


class SkuIn(Strict):
    sku: Id
    name: _text(200) = ""
    price_minor: Amount
    stock: _int(0, 1_000_000_000) = 0
    lowest_price_30d_minor: Amount | None = None


ImageUrl = Annotated[
    str, StringConstraints(max_length=IMAGE_URL_MAX_LENGTH, pattern=IMAGE_URL_PATTERN)
]


class ProductData(Strict):
    shop_id: Id
    product_id: Id
    title: _text(300, 1)
    category: CategoryName
    review_status: ReviewStatusName = "approved"
    skus: Annotated[list[SkuIn], Field(min_length=1, max_length=100)]
    image_url: ImageUrl | Literal[""] | None = Field(
        None,
        description="The product's picture: an http(s) URL (shown when its host is in the "
        "console's SC_PRODUCT_IMAGE_HOSTS) or a /static/ path. Omitted: unchanged; empty: removed.",
    )


class BuyerData(Strict):
    buyer_id: Id
    email: _text(254) | None = None
    phone: _text(32) | None = None
    country: Country
    site: SiteName = "global"
    device_id: _text(128) = ""
    registered_at: Timestamp | None = Field(None, description="Defaults to occurred_at.")
    risk_status: RiskStatusName = Field(
        "ok",
        description="Initial risk status of a new buyer; a known buyer's status is decided in "
        "admin and never changed by this event.",
    )


class CartItemIn(Strict):
    sku: Id
    quantity: _int(0, 10_000) = Field(description="0 removes the SKU.")


class CartData(Strict):
    shop_id: Id
    buyer_id: Id
    items: Annotated[list[CartItemIn], Field(max_length=200)]


class OrderRef(Strict):
    """An order is named by its shop and its number in that shop."""

    shop_id: Id
    order_number: Id


class OrderLineIn(Strict):
    sku: Id
    quantity: _int(1, 10_000)
    unit_price_minor: Amount


class OrderCreatedData(OrderRef):
    buyer_id: Id
    currency: CurrencyCode | None = Field(
        None, description="If given, must be the shop's currency."
    )
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=100)]
    shipping_fee_minor: Amount = 0
    coupon_discount_minor: Amount = 0
    coin_deduction_coins: Amount = 0
    coin_deduction_minor: Amount = 0
    platform_subsidy_minor: Amount = 0
    cashback_red_packet_minor: Amount = 0
    payment_method: PaymentMethodName | Literal[""] = ""
    logistics_service: _text(64) = ""
    activity_id: _int(1, 2**63 - 1) | None = None
    affiliate_click_id: _text(64) = ""
    country: Country | Literal[""] = ""

    def check_currency(self, shop_currency: str) -> None:
        if self.currency and self.currency != shop_currency:
            raise DomainError(
                f"Order currency {self.currency} is not the shop's currency {shop_currency}.",
                code="currency_mismatch",
            )

    def order_input(
        self, *, shop: Shop, buyer: Buyer, sku: Callable[[str], Sku], placed_at: datetime
    ) -> OrderInput:
        """The ``OrderInput`` of this event; ``sku`` finds a SKU of ``shop`` by its code."""
        return OrderInput(
            shop=shop,
            buyer=buyer,
            number=self.order_number,
            lines=[
                LineInput(sku=sku(x.sku), quantity=x.quantity, unit_price_minor=x.unit_price_minor)
                for x in self.lines
            ],
            placed_at=placed_at,
            shipping_fee_minor=self.shipping_fee_minor,
            coupon_discount_minor=self.coupon_discount_minor,
            coin_deduction_coins=self.coin_deduction_coins,
            coin_deduction_minor=self.coin_deduction_minor,
            platform_subsidy_minor=self.platform_subsidy_minor,
            cashback_red_packet_minor=self.cashback_red_packet_minor,
            payment_method=self.payment_method,
            logistics_service=self.logistics_service,
            activity_id=self.activity_id,
            affiliate_click_id=self.affiliate_click_id,
            country=self.country.upper(),
        )


class OrderPaidData(OrderRef):
    payment_id: Id
    amount_minor: Amount
    method: PaymentMethodName


class OrderCancelledData(OrderRef):
    reason: _text(200) = ""


class OrderShippedData(OrderRef):
    carrier: _text(64, 1) = Field(
        description="aliexpress_standard / aliexpress_saver (official) or a third-party line."
    )
    tracking_number: _text(64, 1)


class TrackingData(OrderRef):
    status: TrackingStatusName
    location: _text(120) = ""
    description: _text(300) = ""


class OrderDeliveredData(OrderRef):
    pass


class OrderCompletedData(OrderRef):
    pass


class OrderRefundedData(OrderRef):
    refund_id: Id
    amount_minor: PositiveAmount
    reason: _text(200) = ""


class DisputeOpenedData(OrderRef):
    dispute_id: Id
    reason: _text(200) = ""


class DisputeClosedData(OrderRef):
    dispute_id: Id
    outcome: DisputeOutcomeName


class ReviewData(OrderRef):
    sku: Id
    rating: Stars
    dsr_item_as_described: Stars
    dsr_communication: Stars
    dsr_shipping: Stars
    text: _text(2000) = ""
    language: _text(8) = ""


class FeedbackData(OrderRef):
    kind: FeedbackKindName


class ViolationData(Strict):
    shop_id: Id
    violation_id: Id
    kind: _text(64, 1)
    serious: bool = False
    description: _text(1000) = ""


class BalanceCreditData(Strict):
    shop_id: Id
    credit_id: Id = Field(description="The marketplace's id of this credit: credited once.")
    amount_minor: PositiveAmount
    currency: CurrencyCode = Field(description="Must be the shop's currency.")
    reason: _text(200) = ""


# --- the envelope ------------------------------------------------------------------------------


class _Event(Strict):
    event_id: EventId = Field(
        description="Unique per integration: a replay is answered `duplicate`."
    )
    occurred_at: Timestamp = Field(description="When the fact happened in the marketplace.")


class ShopUpserted(_Event):
    type: Literal["shop.upserted"]
    data: ShopData


class ProductUpserted(_Event):
    type: Literal["product.upserted"]
    data: ProductData


class BuyerUpserted(_Event):
    type: Literal["buyer.upserted"]
    data: BuyerData


class CartUpdated(_Event):
    type: Literal["cart.updated"]
    data: CartData


class OrderCreated(_Event):
    type: Literal["order.created"]
    data: OrderCreatedData


class OrderPaid(_Event):
    type: Literal["order.paid"]
    data: OrderPaidData


class OrderCancelled(_Event):
    type: Literal["order.cancelled"]
    data: OrderCancelledData


class OrderShipped(_Event):
    type: Literal["order.shipped"]
    data: OrderShippedData


class TrackingUpdated(_Event):
    type: Literal["tracking.updated"]
    data: TrackingData


class OrderDelivered(_Event):
    type: Literal["order.delivered"]
    data: OrderDeliveredData


class OrderCompleted(_Event):
    type: Literal["order.completed"]
    data: OrderCompletedData


class OrderRefunded(_Event):
    type: Literal["order.refunded"]
    data: OrderRefundedData


class DisputeOpened(_Event):
    type: Literal["dispute.opened"]
    data: DisputeOpenedData


class DisputeClosed(_Event):
    type: Literal["dispute.closed"]
    data: DisputeClosedData


class ReviewPosted(_Event):
    type: Literal["review.posted"]
    data: ReviewData


class FeedbackPosted(_Event):
    type: Literal["feedback.posted"]
    data: FeedbackData


class ViolationRecorded(_Event):
    type: Literal["violation.recorded"]
    data: ViolationData


class ShopBalanceCredited(_Event):
    type: Literal["shop.balance_credited"]
    data: BalanceCreditData


EVENT_MODELS = (
    ShopUpserted,
    ProductUpserted,
    BuyerUpserted,
    CartUpdated,
    OrderCreated,
    OrderPaid,
    OrderCancelled,
    OrderShipped,
    TrackingUpdated,
    OrderDelivered,
    OrderCompleted,
    OrderRefunded,
    DisputeOpened,
    DisputeClosed,
    ReviewPosted,
    FeedbackPosted,
    ViolationRecorded,
    ShopBalanceCredited,
)
EVENT_TYPES = tuple(m.model_fields["type"].annotation.__args__[0] for m in EVENT_MODELS)

Event = Annotated[
    ShopUpserted
    | ProductUpserted
    | BuyerUpserted
    | CartUpdated
    | OrderCreated
    | OrderPaid
    | OrderCancelled
    | OrderShipped
    | TrackingUpdated
    | OrderDelivered
    | OrderCompleted
    | OrderRefunded
    | DisputeOpened
    | DisputeClosed
    | ReviewPosted
    | FeedbackPosted
    | ViolationRecorded
    | ShopBalanceCredited,
    Field(discriminator="type"),
]


class EventBatch(Strict):
    events: Annotated[list[Event], Field(min_length=1, max_length=settings.SC_EVENTS_MAX_BATCH)]


# --- answers ---------------------------------------------------------------------------------


class EventResult(BaseModel):
    event_id: str
    status: Literal["applied", "duplicate", "rejected"]
    code: str | None = Field(None, description="Why it was rejected (stable, machine-readable).")
    message: str | None = None
    retryable: bool | None = Field(
        None,
        description="On a rejection: true when sending the same event again later may apply it "
        "(it referred to something not received yet, e.g. order.paid before order.created). "
        "Retryable rejections are not recorded, so the retry is not a duplicate.",
    )
    original_status: Literal["applied", "rejected"] | None = Field(
        None, description="On a duplicate: the status of the first delivery."
    )
    result: dict[str, Any] | None = Field(
        None, description="On applied (or its duplicate): ids of what was written."
    )


class BatchResult(BaseModel):
    results: list[EventResult]
