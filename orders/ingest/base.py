"""What the ingestion pipeline shares: outcomes, the retryable rejection, and the batch context
(marketplace ids resolved once per batch)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection

from buyers.models import Buyer
from core.errors import DomainError
from core.sqlreads import in_list, models_from_rows, run_many, select_sql
from integrations.models import Integration
from shops.models import Shop, Sku

from ..models import IngestedEvent, IngestedEventStatus, Order, OrderStatus

# SPEC §0 Decision: a fact dated outside these years is refused as ``invalid_time``
# (a sender's clock or parser bug, not a marketplace fact).
MIN_YEAR, MAX_YEAR = 2000, 2199


class Retryable(DomainError):
    """A rejection that may succeed later: the event refers to something not received yet
    (``order.paid`` before ``order.created``, a review before ``order.delivered`` …).

    It is answered ``rejected`` with ``"retryable": true`` and is *not* recorded, so the sender's
    retry of the same ``event_id`` is applied then, not answered ``duplicate``.
    """

    code = "retry_later"


def fingerprint(event) -> str:
    """What the sender said in an event, apart from its id: type, time and data, canonical
    (key order and whitespace do not matter). SPEC §0: an id sent again with another payload
    is refused, never answered ``duplicate``."""
    body = event.model_dump(mode="json", exclude={"event_id"})
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(slots=True)
class Outcome:
    status: str  # applied | rejected | duplicate
    code: str = ""
    message: str = ""
    retryable: bool = False
    result: dict[str, Any] | None = None
    original_status: str = ""
    store: bool = True  # False: a final answer that must not take the event id's record

    @classmethod
    def applied(cls, result: dict[str, Any]) -> Outcome:
        return cls(IngestedEventStatus.APPLIED, result=result)

    @classmethod
    def rejected(cls, exc: DomainError) -> Outcome:
        return cls(
            IngestedEventStatus.REJECTED,
            code=exc.code,
            message=exc.message,
            retryable=isinstance(exc, Retryable),
        )

    @classmethod
    def duplicate(cls, record: IngestedEvent) -> Outcome:
        return cls(
            "duplicate",
            code=record.code,
            message=record.message,
            result=record.result,
            original_status=record.status,
        )

    @classmethod
    def replay(cls, record: IngestedEvent, event) -> Outcome:
        """The answer to an event whose id is recorded: ``duplicate`` with the first result when
        the payload is the same; a final rejection when the id is reused for another payload."""
        if record.payload_hash and record.payload_hash != fingerprint(event):
            return cls(
                IngestedEventStatus.REJECTED,
                code="event_id_reused",
                message=(
                    f"Event id {event.event_id!r} was already used for a different event "
                    f"({record.type}, received {record.received_at:%Y-%m-%d %H:%M:%S} UTC); "
                    "send each event under its own id. Nothing was applied."
                ),
                store=False,
            )
        return cls.duplicate(record)

    @property
    def recorded(self) -> bool:
        """Applied events and final rejections are stored; retryable ones are not."""
        return (
            self.store
            and self.status in (IngestedEventStatus.APPLIED, IngestedEventStatus.REJECTED)
            and not self.retryable
        )

    def record(self, *, integration: Integration, event, received_at: datetime) -> IngestedEvent:
        return IngestedEvent(
            **self.record_row(integration_id=integration.pk, event=event, received_at=received_at)
        )

    def record_row(self, *, integration_id: int, event, received_at: datetime) -> dict[str, Any]:
        """``record``'s fields (for an insert that builds no model)."""
        return {
            "integration_id": integration_id,
            "event_id": event.event_id,
            "type": event.type,
            "status": self.status,
            "code": self.code,
            "message": self.message[:2000],
            "result": self.result,
            # A refused invalid_time may be out of any storable range: then it is not stored.
            "occurred_at": event.occurred_at if _in_range(event.occurred_at) else None,
            "received_at": received_at,
            "payload_hash": fingerprint(event),
        }

    def as_dict(self, event_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {"event_id": event_id, "status": self.status}
        if self.code:
            out["code"] = self.code
            out["message"] = self.message
        if self.status == IngestedEventStatus.REJECTED:
            out["retryable"] = self.retryable
        if self.original_status:
            out["original_status"] = self.original_status
        if self.result is not None:
            out["result"] = self.result
        return out


def _in_range(value: datetime) -> bool:
    return MIN_YEAR <= value.year <= MAX_YEAR


def check_time(value: datetime | None, name: str = "occurred_at") -> None:
    if value is not None and not _in_range(value):
        raise DomainError(
            f"{name} {value.isoformat()} is outside the years {MIN_YEAR}-{MAX_YEAR}.",
            code="invalid_time",
        )


# Order statuses along the forward path; an event that needs a later status than the order has
# is out of order (retryable). Cancelled and refunded orders never move on: rejections are final.
FORWARD_RANK = {
    OrderStatus.PENDING_PAYMENT: 0,
    OrderStatus.PAID: 1,
    OrderStatus.SHIPPED: 2,
    OrderStatus.DELIVERED: 3,
    OrderStatus.COMPLETED: 4,
}


@dataclass
class BatchContext:
    """Marketplace ids of one batch resolved to rows, a few queries per batch.

    ``None`` caches "not found". Slow-path handlers ``forget`` what they write, so a later
    event of the same batch reads it afresh.
    """

    integration: Integration
    received_at: datetime
    shops: dict[str, Shop | None] = field(default_factory=dict)
    buyers: dict[str, Buyer | None] = field(default_factory=dict)
    skus: dict[tuple[int, str], Sku | None] = field(default_factory=dict)
    # (shop external id, order number) -> (pk, status) of orders that existed before the batch
    orders: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    # orders written by the fast path in this batch (with their pk), by the same key
    fast_orders: dict[tuple[str, str], Order] = field(default_factory=dict)

    # --- lookups (query on a miss) -----------------------------------------------------------

    def shop(self, external_id: str) -> Shop:
        if external_id not in self.shops:
            self.shops[external_id] = Shop.objects.filter(external_id=external_id).first()
        shop = self.shops[external_id]
        if shop is None:
            raise Retryable(
                f"No shop {external_id!r} (yet): send shop.upserted first.", code="unknown_shop"
            )
        return shop

    def buyer(self, external_id: str) -> Buyer:
        if external_id not in self.buyers:
            self.buyers[external_id] = Buyer.objects.filter(external_id=external_id).first()
        buyer = self.buyers[external_id]
        if buyer is None:
            raise Retryable(
                f"No buyer {external_id!r} (yet): send buyer.upserted first.", code="unknown_buyer"
            )
        return buyer

    def sku(self, shop: Shop, code: str) -> Sku:
        key = (shop.pk, code)
        if key not in self.skus:
            self.skus[key] = Sku.objects.filter(shop=shop, code=code).first()
        sku = self.skus[key]
        if sku is None:
            raise Retryable(
                f"No SKU {code!r} in shop {shop.external_id!r} (yet): send product.upserted first.",
                code="unknown_sku",
            )
        return sku

    def order(self, shop_external_id: str, number: str) -> Order:
        """The order, read afresh (the services lock it again before writing)."""
        shop = self.shop(shop_external_id)
        order = Order.objects.filter(shop=shop, number=number).first()
        if order is None:
            raise Retryable(
                f"No order {number!r} in shop {shop_external_id!r} (yet): its order.created "
                "has not been received; retry later.",
                code="unknown_order",
            )
        return order

    def forget_shop(self, external_id: str) -> None:
        self.shops.pop(external_id, None)

    def forget_buyer(self, external_id: str) -> None:
        self.buyers.pop(external_id, None)

    def forget_skus(self, shop_external_id: str, codes: list[str]) -> None:
        shop = self.shops.get(shop_external_id)
        if shop is None:
            self.skus.clear()
            return
        for code in codes:
            self.skus.pop((shop.pk, code), None)

    # --- prefetch ------------------------------------------------------------------------------

    def prefetch(self, events: list) -> dict[str, IngestedEvent]:
        """Resolve every id the batch names and read the records of its event ids that were
        already received (returned, by event id): one statement per kind, all of them in one
        round trip on PostgreSQL (``rows.run_many``), no per-event queries; hand-written
        SELECTs of the models' own columns, so no ORM compilation per batch."""
        shop_ids: set[str] = set()
        buyer_ids: set[str] = set()
        sku_codes: set[str] = set()
        order_numbers: set[str] = set()
        for ev in events:
            d = ev.data
            shop_id = getattr(d, "shop_id", None)
            if shop_id:
                shop_ids.add(shop_id)
            if ev.type in ("order.created", "cart.updated"):
                buyer_ids.add(d.buyer_id)
                sku_codes.update(
                    x.sku for x in (d.lines if ev.type == "order.created" else d.items)
                )
            elif ev.type == "review.posted":
                sku_codes.add(d.sku)
            number = getattr(d, "order_number", None)
            if number:
                order_numbers.add(number)
        event_ids = sorted({ev.event_id for ev in events})
        shop_list, buyer_list = sorted(shop_ids), sorted(buyer_ids)
        codes, numbers = sorted(sku_codes), sorted(order_numbers)
        # SKUs and orders are read by their shops' external ids (joined), in the same round trip.
        qn = connection.ops.quote_name
        shop_table, shop_ext = qn(Shop._meta.db_table), qn("external_id")
        by_shop = f"{qn('shop_id')} IN (SELECT {qn('id')} FROM {shop_table} WHERE {shop_ext} IN "  # noqa: S608
        reads: list[tuple[str, str, list]] = []
        if event_ids:
            where = f"{qn('integration_id')} = %s AND {qn('event_id')} IN {in_list(event_ids)}"
            reads.append(
                ("recorded", select_sql(IngestedEvent, where), [self.integration.pk, *event_ids])
            )
        if shop_list:
            where = f"{shop_ext} IN {in_list(shop_list)}"
            reads.append(("shops", select_sql(Shop, where), shop_list))
            if codes:
                where = f"{by_shop}{in_list(shop_list)}) AND {qn('code')} IN {in_list(codes)}"
                reads.append(("skus", select_sql(Sku, where), [*shop_list, *codes]))
            if numbers:
                sql = (
                    f"SELECT {qn('id')}, {qn('shop_id')}, {qn('number')}, {qn('status')} "  # noqa: S608
                    f"FROM {qn(Order._meta.db_table)} WHERE {by_shop}{in_list(shop_list)}) "
                    f"AND {qn('number')} IN {in_list(numbers)}"
                )
                reads.append(("orders", sql, [*shop_list, *numbers]))
        if buyer_list:
            where = f"{qn('external_id')} IN {in_list(buyer_list)}"
            reads.append(("buyers", select_sql(Buyer, where), buyer_list))
        results = dict(
            zip(
                (name for name, _, _ in reads),
                run_many([(sql, p) for _, sql, p in reads]),
                strict=True,
            )
        )
        recorded = {
            r.event_id: r for r in models_from_rows(IngestedEvent, results.get("recorded", []))
        }
        found = {s.external_id: s for s in models_from_rows(Shop, results.get("shops", []))}
        for ext in shop_ids:
            self.shops[ext] = found.get(ext)
        found_b = {b.external_id: b for b in models_from_rows(Buyer, results.get("buyers", []))}
        for ext in buyer_ids:
            self.buyers[ext] = found_b.get(ext)
        shop_pks = {s.pk: s for s in found.values()}
        for sku in models_from_rows(Sku, results.get("skus", [])):
            sku.shop = shop_pks[sku.shop_id]  # no lazy load of the shop per line
            self.skus[(sku.shop_id, sku.code)] = sku
        for pk, shop_pk, number, status in results.get("orders", []):
            self.orders[(shop_pks[shop_pk].external_id, number)] = (pk, status)
        return recorded

    def sku_known(self, shop: Shop, code: str) -> Sku | None:
        """A SKU from the prefetch only (the fast path never queries per line)."""
        return self.skus.get((shop.pk, code))
