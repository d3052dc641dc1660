class DomainError(Exception):
    """A refused business operation: a stable ``code`` and a human message. Nothing changed."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidTransition(DomainError):
    code = "invalid_transition"


class NotFound(DomainError):
    code = "not_found"
