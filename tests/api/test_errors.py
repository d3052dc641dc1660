"""DESIGN §2/§6: one error shape for every router, a refused operation never answers 500, and
the signed-request auth any router can reuse.

A throwaway router is mounted on an API built by ``sellercenter.api.make_api`` — the very
function that builds ``/api/v1/`` — so a module's endpoint gets these answers without a handler
of its own.
"""

import pytest
from ninja import Router
from ninja.testing import TestClient

from core.api import ApiError, error_body
from core.errors import DomainError, InvalidTransition, NotFound
from integrations.auth import SignedRequest
from integrations.services import integration_create
from sellercenter.api import make_api

from .support import signed_headers


class _CoinsShort(DomainError):
    code = "coins_short"
    http_status = 409


class _Misdeclared(DomainError):
    code = "misdeclared"
    http_status = 500  # a refusal is never a server error, whatever a subclass says


_REFUSALS = {
    "plain": DomainError("Refused.", code="refused_here"),
    "default-code": DomainError("Refused."),
    "not-found": NotFound("No such campaign."),
    "transition": InvalidTransition("A shipped order cannot be cancelled."),
    "subclass": _CoinsShort("The coin fund is short by 50."),
    "misdeclared": _Misdeclared("Refused."),
}

router = Router()


@router.post("/refuse/{kind}")
def refuse(request, kind: str):
    raise _REFUSALS[kind]


@router.get("/too-big")
def too_big(request):
    raise ApiError(413, "payload_too_large", "The body is over 10 bytes.", max_bytes=10)


@router.get("/crash")
def crash(request):
    raise RuntimeError("secret internals")


@pytest.fixture(scope="module")
def client():
    return TestClient(make_api(routers=[("/", router)], urls_namespace="api-errors-test"))


@pytest.mark.parametrize(
    ("kind", "status", "code", "message"),
    [
        ("plain", 400, "refused_here", "Refused."),
        ("default-code", 400, "domain_error", "Refused."),
        ("not-found", 404, "not_found", "No such campaign."),
        ("transition", 409, "invalid_transition", "A shipped order cannot be cancelled."),
        ("subclass", 409, "coins_short", "The coin fund is short by 50."),
        ("misdeclared", 400, "misdeclared", "Refused."),
    ],
)
def test_domain_error_in_any_router_answers_4xx_json_with_its_code(
    client, kind, status, code, message
):
    # when a module's endpoint refuses an operation
    response = client.post(f"/refuse/{kind}")
    # then the answer is the 4xx JSON error shape with the refusal's code and message
    assert response.status_code == status
    assert response.json() == {"code": code, "message": message}


def test_api_error_keeps_its_extra_fields(client):
    response = client.get("/too-big")
    assert response.status_code == 413
    assert response.json() == error_body(
        "payload_too_large", "The body is over 10 bytes.", max_bytes=10
    )


def test_unexpected_error_is_a_logged_500_without_internals(client, caplog):
    response = client.get("/crash")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "secret internals" not in response.content.decode()
    assert "secret internals" in caplog.text  # logged for the operator


def test_error_body_is_code_and_message_then_details():
    assert error_body("c", "m") == {"code": "c", "message": "m"}
    assert error_body("c", "m", errors=[1]) == {"code": "c", "message": "m", "errors": [1]}


def test_signed_request_auth_is_reusable_with_its_own_body_limit(db, rf, settings):
    # given another router's signed endpoint (say a postback) with its own, smaller limit
    integration, secret = integration_create(name="Affiliate network")
    settings.SC_TEST_POSTBACK_MAX_BODY_BYTES = 20
    auth = SignedRequest(max_body_setting="SC_TEST_POSTBACK_MAX_BODY_BYTES")

    def request(body: bytes):
        headers = signed_headers(key_id=integration.key_id, secret=secret, body=body)
        return rf.post("/api/v1/postback", data=body, content_type="text/plain", **headers)

    # when a signed body within that limit arrives, then the integration is the request's auth
    assert auth(request(b'{"click": "c-1"}')) == integration
    # when one over it arrives, then its own limit refuses it before the signature is checked
    with pytest.raises(ApiError) as refused:
        auth(request(b'{"click": "c-1", "x": 1}'))
    assert (refused.value.status_code, refused.value.code) == (413, "payload_too_large")
    assert refused.value.extra == {"max_bytes": 20}
