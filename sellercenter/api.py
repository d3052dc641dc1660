"""The public API, ``/api/v1/`` (DESIGN §6): one NinjaAPI instance, one router per app.

OpenAPI at ``/api/v1/openapi.json``, Swagger UI at ``/api/v1/docs`` (served from ninja's own
static files: ``ninja`` is in INSTALLED_APPS, no CDN).

Every error is JSON ``{"code": "<stable>", "message": "<human>"}`` (``core.api.error_body``) —
422s add ``errors`` — and never a traceback, whatever DEBUG says. A router needs no handler of its
own: a service refusing an operation raises ``core.errors.DomainError`` (answered 4xx with its
``code``, ``core.api.domain_error_status``); transport checks raise ``core.api.ApiError``;
``core.signing.SignatureError`` answers 401; ninja's validation answers 422.
"""

import logging
from functools import partial

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError, ValidationError

from core.api import ApiError, domain_error_status, error_body
from core.errors import DomainError
from core.signing import SignatureError

log = logging.getLogger(__name__)


class SellerCenterAPI(NinjaAPI):
    """NinjaAPI whose document can say "these headers are required together".

    ninja lists an operation's auth callbacks as alternatives. An auth class may declare
    ``security_companions`` (security schemes by name): they are added to the components, and to
    every security requirement that names the class, so the document says *all* of them are
    needed (``integrations.auth.SignedRequest``: key, timestamp and signature).
    """

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        companions: dict[str, dict] = {}
        for router in self._get_bound_routers():
            for view in router.path_operations.values():
                for operation in view.operations:
                    for auth in operation.auth_callbacks:
                        extra = getattr(auth, "security_companions", None)
                        if extra:
                            companions[type(auth).__name__] = extra
        if not companions:
            return schema
        schemes = schema["components"].setdefault("securitySchemes", {})
        for extra in companions.values():
            schemes.update(extra)
        for methods in schema["paths"].values():
            for details in methods.values():
                for requirement in details.get("security", []):
                    for name in list(requirement):
                        for companion in companions.get(name, {}):
                            requirement[companion] = []
        return schema


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    411: "length_required",
    413: "payload_too_large",
    429: "too_many_requests",
}


def _error(
    api: NinjaAPI, request: HttpRequest, status: int, code: str, message: str, **extra
) -> HttpResponse:
    return api.create_response(request, error_body(code, message, **extra), status=status)


def _validation_error(api: NinjaAPI, request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            # ninja prefixes the location with the parameter kind and name: keep the JSON path.
            "loc": [p for p in err.get("loc", ()) if p not in ("body", "batch")],
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors
    ]
    first = errors[0] if errors else None
    message = "The request does not match the schema"
    if first:
        message += f": {'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return _error(api, request, 422, "invalid_request", message, errors=errors[:100])


def _domain_error(api: NinjaAPI, request: HttpRequest, exc: DomainError) -> HttpResponse:
    # A refused operation (nothing changed): the client's to fix or accept, never a 500.
    return _error(api, request, domain_error_status(exc), exc.code, exc.message)


def _api_error(api: NinjaAPI, request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _error(api, request, exc.status_code, exc.code, exc.message, **exc.extra)


def _http_error(api: NinjaAPI, request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc)
    if code is None and exc.status_code == 400 and "parse" in message.lower():
        code, message = "malformed_json", "The body is not valid JSON."
    status = exc.status_code
    return _error(api, request, status, code or _STATUS_CODES.get(status, "error"), message)


def _signature_error(api: NinjaAPI, request: HttpRequest, exc: SignatureError) -> HttpResponse:
    return _error(api, request, 401, exc.code, exc.message)


def _unauthenticated(api: NinjaAPI, request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        api, request, 401, "unauthorized", "This request is not signed by an active integration."
    )


def _too_big(api: NinjaAPI, request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # Django's DATA_UPLOAD_MAX_MEMORY_SIZE, for an endpoint that reads ``request.body`` itself;
    # signed endpoints check their own limit first (``payload_too_large``, integrations.auth).
    return _error(api, request, 413, "request_too_large", "The body is too large.")


def _not_found(api: NinjaAPI, request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(api, request, 404, "not_found", "Not found.")


def _server_error(api: NinjaAPI, request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return _error(
        api, request, 500, "server_error", "Internal error; it has been logged. Retry later."
    )


# The most specific class of an exception's MRO wins (ninja), so the order here does not matter.
_ERROR_HANDLERS = [
    (ValidationError, _validation_error),
    (DomainError, _domain_error),
    (ApiError, _api_error),
    (HttpError, _http_error),
    (SignatureError, _signature_error),
    (AuthenticationError, _unauthenticated),
    (RequestDataTooBig, _too_big),
    (Http404, _not_found),
    (Exception, _server_error),
]


def make_api(
    *, routers: list[tuple[str, Router | str]], urls_namespace: str = "api-v1"
) -> SellerCenterAPI:
    """The API with its error handlers and ``routers`` mounted (tests build throwaway ones)."""
    new_api = SellerCenterAPI(
        title="Seller Center API",
        version="1",
        description="Signed endpoints for the marketplace and partners (SPEC §0).",
        urls_namespace=urls_namespace,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    for exc_class, handler in _ERROR_HANDLERS:
        new_api.add_exception_handler(exc_class, partial(handler, new_api))
    for prefix, router in routers:
        new_api.add_router(prefix, router)
    return new_api


api = make_api(
    routers=[
        ("/", "orders.api.router"),
        ("/coins", "coins.api.router"),
        ("/", "buyers.api.router"),
        ("/affiliate", "affiliate.api.router"),
    ]
)
