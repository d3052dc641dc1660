"""SPEC §0 / DESIGN §8: the public API fuzzed from its own OpenAPI document with schemathesis.

Every check runs (server errors, status codes and content types the document declares,
response schemas, positive data accepted, negative data rejected, auth enforced …), in two
ways:

* unsigned — nothing gets past the signature check, and every answer is a documented 401;
* signed — each request is signed over the exact bytes sent, so generated batches reach the
  pipeline. Valid (positive) batches have their marketplace ids pointed at a real shop, buyer,
  SKU and orders, so they also reach the services, not only ``unknown_shop``.

Kept under a minute: few examples per phase, no shrinking.
"""

import itertools
import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, settings
from schemathesis.transport.wsgi import WSGI_TRANSPORT

from integrations.services import integration_create

from .support import signed_headers

_app = get_wsgi_application()
# Signed: every phase, including coverage (each field's boundaries and each way to break it).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _app)
schema.config.generation.update(max_examples=40, deterministic=True)
# Unsigned: everything stops at the signature, so the coverage phase's ~2000 cases would only
# repeat the same 401; random fuzzing is enough to show that.
unsigned_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _app)
unsigned_schema.config.generation.update(max_examples=25, deterministic=True)
unsigned_schema.config.phases.coverage.enabled = False

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Like django.test.Client: the test's transaction must survive each in-process request
    (the WSGI handler would close "old" connections at request start and end)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def marketplace(db, shop_a, buyer, sku_a):
    """A signing integration, and real ids for valid batches to land on."""
    import factories

    integration, secret = integration_create(name="Fuzzer")
    numbers = [
        factories.make_order(shop_a, buyer, sku=sku_a, status=status, number=f"FZ-{status}").number
        for status in ("pending_payment", "paid", "shipped", "delivered", "completed", "cancelled")
    ]
    return {
        "key": integration.key_id,
        "secret": secret,
        "shop": shop_a.external_id,
        "buyer": buyer.external_id,
        "sku": sku_a.code,
        "orders": itertools.cycle(numbers),
    }


_EVENT_IDS = itertools.count(1)


_BUYER_SEQ = itertools.count(1)
_BUYER_FIELDS = {
    "contact": lambda: f"fz{next(_BUYER_SEQ)}@example.com",
    "client_ip": lambda: "203.0.113.9",
    "country": lambda: "CN",
    "ip_country": lambda: "CN",
    "password": lambda: "Fuzz-pass-123",
    "new_password": lambda: "Fuzz-pass-456",
}


def _point_at_real_ids(body, ids) -> None:
    """Replace generated marketplace ids with existing ones (still schema-valid strings)."""
    if isinstance(body, list):
        for item in body:
            _point_at_real_ids(item, ids)
    elif isinstance(body, dict):
        for key in list(body):
            if key == "event_id":  # a fresh id, or every case after the first is a duplicate
                body[key] = f"fz-{next(_EVENT_IDS)}"
            elif key == "shop_id":
                body[key] = ids["shop"]
            elif key == "buyer_id":
                body[key] = ids["buyer"]
            elif key == "sku":
                body[key] = ids["sku"]
            elif key == "order_number":
                body[key] = next(ids["orders"])
            elif key in _BUYER_FIELDS:  # buyer API: values its services accept
                body[key] = _BUYER_FIELDS[key]()
            else:
                _point_at_real_ids(body[key], ids)


@unsigned_schema.parametrize()
@FUZZ
def test_s0_api_fuzzed_unsigned(case, db):
    # given a generated request without credentials; when sent; then every check passes
    case.call_and_validate()


@schema.parametrize()
@FUZZ
def test_s0_api_fuzzed_signed(case, marketplace):
    # given a generated request, signed over the exact bytes that will be sent
    if case.meta is not None and case.meta.generation.mode.is_positive:
        _point_at_real_ids(case.body, marketplace)
    sent = WSGI_TRANSPORT.serialize_case(case)
    if "json" in sent:  # werkzeug's test client serializes it with json.dumps
        body = json.dumps(sent["json"]).encode()
    else:
        body = sent.get("data") or b""
        body = body.encode() if isinstance(body, str) else body
    headers = signed_headers(key_id=marketplace["key"], secret=marketplace["secret"], body=body)
    http_headers = {
        "X-SC-Key": headers["HTTP_X_SC_KEY"],
        "X-SC-Timestamp": headers["HTTP_X_SC_TIMESTAMP"],
        "X-SC-Signature": headers["HTTP_X_SC_SIGNATURE"],
    }
    # when it is sent; then every check passes (no 5xx, documented answers, conforming bodies)
    case.call_and_validate(headers=http_headers)
