"""The API's error shape (DESIGN §6): every error of ``/api/v1/`` is JSON
``{"code": "<stable, machine-readable>", "message": "<human>", ...}``, never a traceback.

* ``error_body`` builds it — the one place that shape is written;
* ``ErrorOut`` / ``ValidationErrorOut`` document it in the OpenAPI document;
* ``ApiError`` is raised by transport-level checks (size, length) with a status and a code;
* a ``core.errors.DomainError`` raised by a service answers 4xx with its ``code``
  (``domain_error_status``); ``sellercenter.api`` registers the handlers on the NinjaAPI.
"""

from typing import Any

from ninja.errors import HttpError
from pydantic import BaseModel, ConfigDict

from .errors import DomainError, InvalidTransition, NotFound


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The JSON body of every API error."""
    return {"code": code, "message": message, **extra}


class ErrorOut(BaseModel):
    model_config = ConfigDict(extra="allow")  # some errors add details (e.g. ``max_bytes``)

    code: str
    message: str


class ValidationErrorOut(ErrorOut):
    errors: list[dict[str, Any]]


class ApiError(HttpError):
    """An HTTP error with a stable ``code`` (and optional extra fields in its body)."""

    def __init__(self, status_code: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(status_code, message)
        self.code = code
        self.message = message
        self.extra = extra


def domain_error_status(exc: DomainError) -> int:
    """The 4xx status a refused operation answers: a subclass may set ``http_status``;
    otherwise 404 for ``NotFound``, 409 for ``InvalidTransition``, 400 for the rest.
    A refusal is the client's to fix or accept: never 5xx, whatever a subclass says."""
    status = getattr(exc, "http_status", None)
    if isinstance(status, int) and 400 <= status <= 499:
        return status
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, InvalidTransition):
        return 409
    return 400
