"""Helpers for the event API tests (``from api.support import ...``): signed requests, events.

``send(events)`` posts a signed batch and returns the response; ``results(events)`` returns the
per-event results of a 200. Events are built with ``ev(type, data)`` and the ``*_data`` helpers.
"""

import itertools
import json
import time
from datetime import datetime

from django.test import Client

from core import clock
from core.signing import sign

_seq = itertools.count(1)
URL = "/api/v1/events"


def next_event_id() -> str:
    return f"evt-{next(_seq)}"


def ev(type_: str, data: dict, *, event_id: str | None = None, at: datetime | None = None) -> dict:
    return {
        "event_id": event_id or next_event_id(),
        "type": type_,
        "occurred_at": (at or clock.now()).isoformat(),
        "data": data,
    }


def signed_headers(*, key_id: str, secret: str, body: bytes, timestamp: int | None = None) -> dict:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "HTTP_X_SC_KEY": key_id,
        "HTTP_X_SC_TIMESTAMP": str(ts),
        "HTTP_X_SC_SIGNATURE": sign(secret=secret, timestamp=ts, body=body),
    }


class Sender:
    """Posts signed batches as one integration."""

    def __init__(self, integration, secret: str) -> None:
        self.integration = integration
        self.key_id = integration.key_id
        self.secret = secret
        self.client = Client()

    def post_raw(self, body: bytes, **headers):
        return self.client.post(URL, data=body, content_type="application/json", **headers)

    def send(self, events: list[dict] | dict, *, timestamp: int | None = None):
        payload = events if isinstance(events, dict) else {"events": events}
        body = json.dumps(payload).encode()
        headers = signed_headers(
            key_id=self.key_id, secret=self.secret, body=body, timestamp=timestamp
        )
        return self.post_raw(body, **headers)

    def results(self, events: list[dict]) -> list[dict]:
        response = self.send(events)
        assert response.status_code == 200, response.content
        return response.json()["results"]

    def one(self, event: dict) -> dict:
        return self.results([event])[0]


# --- event data builders -------------------------------------------------------------------------


def order_created_data(
    shop, buyer, sku, *, number: str, quantity: int = 1, price: int | None = None, **extra
) -> dict:
    return {
        "shop_id": shop.external_id,
        "order_number": number,
        "buyer_id": buyer.external_id,
        "lines": [
            {
                "sku": sku.code,
                "quantity": quantity,
                "unit_price_minor": sku.price_minor if price is None else price,
            }
        ],
        **extra,
    }


def order_paid_data(
    shop, *, number: str, amount: int, payment_id: str | None = None, method: str = "card"
) -> dict:
    return {
        "shop_id": shop.external_id,
        "order_number": number,
        "payment_id": payment_id or f"pay-{number}",
        "amount_minor": amount,
        "method": method,
    }


def ref(shop, number: str, **extra) -> dict:
    return {"shop_id": shop.external_id, "order_number": number, **extra}
