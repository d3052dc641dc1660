"""The public API, ``/api/v1/`` (DESIGN §6): one NinjaAPI instance, one router per app.

OpenAPI at ``/api/v1/openapi.json``, Swagger UI at ``/api/v1/docs`` (served from ninja's own
static files: ``ninja`` is in INSTALLED_APPS, no CDN).

Every error is JSON ``{"code": "<stable>", "message": "<human>"}`` — 422s add ``errors`` — and
never a traceback, whatever DEBUG says. Apps raise ``ninja.errors.HttpError`` subclasses with a
``code`` attribute (e.g. ``orders.api.ApiError``), ``core.signing.SignatureError`` (401) or let
ninja's validation speak (422).
"""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from core.signing import SignatureError

log = logging.getLogger(__name__)


class SellerCenterAPI(NinjaAPI):
    """NinjaAPI whose document can say "these headers are required together".

    ninja lists an operation's auth callbacks as alternatives. An auth class may declare
    ``security_companions`` (security schemes by name): they are added to the components, and to
    every security requirement that names the class, so the document says *all* of them are
    needed (``orders.api.SignedRequest``: key, timestamp and signature).
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


api = SellerCenterAPI(
    title="Seller Center API",
    version="1",
    description="Signed endpoints for the marketplace and partners (SPEC §0).",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "too_many_requests",
}


def _error(request: HttpRequest, status: int, code: str, message: str, **extra) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
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
    return _error(request, 422, "invalid_request", message, errors=errors[:100])


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc)
    if code is None and exc.status_code == 400 and "parse" in message.lower():
        code, message = "malformed_json", "The body is not valid JSON."
    return _error(
        request, exc.status_code, code or _STATUS_CODES.get(exc.status_code, "error"), message
    )


@api.exception_handler(SignatureError)
def _signature_error(request: HttpRequest, exc: SignatureError) -> HttpResponse:
    return _error(request, 401, exc.code, exc.message)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request, 401, "unauthorized", "This request is not signed by an active integration."
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, "payload_too_large", "The body is too large.")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return _error(request, 500, "server_error", "Internal error; it has been logged. Retry later.")


api.add_router("/", "orders.api.router")
