"""``POST /api/v1/affiliate/postback``: the signed, idempotent S2S conversion (SPEC A-5).

Checks, in order, each answering before the next runs (nothing changes on a refusal): the body
and the signature (``integrations.auth.SignedRequest``, SPEC §0) → 401 ``stale_timestamp`` /
``bad_signature`` …; the schema → 422; an order not received yet → 409 ``unknown_order`` with
``"retryable": true`` (send it again later). Amounts are never read from a postback: a
commission is computed from our order only.
"""

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from core.api import ApiError, ErrorOut, ValidationErrorOut
from integrations.auth import SignedRequest

from .services import commissions

router = Router(tags=["affiliate"])


class PostbackIn(Schema):
    postback_id: str = Field(min_length=1, max_length=64)
    shop_id: str = Field(min_length=1, max_length=64, description="The shop's marketplace id.")
    order_number: str = Field(min_length=1, max_length=64)
    click_id: str = Field(min_length=1, max_length=32, pattern=r"^[0-9a-f]{1,32}$")
    # Accepted for the partner's convenience and ignored: amounts come from our order.
    amount_minor: int | None = Field(default=None, description="Ignored.")


class PostbackOut(Schema):
    status: str  # applied | duplicate
    attributed: bool
    commission_status: str | None = None


@router.post(
    "/postback",
    auth=SignedRequest(),
    response={
        200: PostbackOut,
        400: ErrorOut,
        401: ErrorOut,
        409: ErrorOut,
        411: ErrorOut,
        413: ErrorOut,
        422: ValidationErrorOut,
    },
    operation_id="post_affiliate_postback",
    summary="Report an affiliate conversion (server to server)",
)
def post_postback(request: HttpRequest, body: PostbackIn):
    try:
        duplicate, commission = commissions.postback_receive(
            integration=request.auth,
            postback_id=body.postback_id,
            shop_external_id=body.shop_id,
            order_number=body.order_number,
            click_id=body.click_id,
        )
    except commissions.UnknownOrder as exc:
        raise ApiError(409, exc.code, exc.message, retryable=True) from None
    return {
        "status": "duplicate" if duplicate else "applied",
        "attributed": commission is not None,
        "commission_status": commission.status if commission else None,
    }
