"""Domain errors with stable codes.

Services raise these; the GraphQL layer passes them through with ``extensions.code`` (graphql-core
copies an original error's ``extensions``), and the REST shim maps the code to an HTTP status.
Any other exception is masked as INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AicaError(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **details}


class Unauthenticated(AicaError):
    code = "UNAUTHENTICATED"


class Forbidden(AicaError):
    code = "FORBIDDEN"


class NotFound(AicaError):
    code = "NOT_FOUND"

    @classmethod
    def of(cls, kind: str) -> NotFound:
        return cls(f"{kind} not found")


class BadInput(AicaError):
    code = "BAD_USER_INPUT"


class Conflict(AicaError):
    code = "CONFLICT"


class TooComplex(AicaError):
    """A GraphQL document over the work one request may cost."""

    code = "QUERY_TOO_COMPLEX"


class PayloadTooLarge(AicaError):
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(AicaError):
    code = "UNSUPPORTED_MEDIA_TYPE"


class PaymentRequired(AicaError):
    code = "PAYMENT_REQUIRED"


class RateLimited(AicaError):
    code = "RATE_LIMITED"


class StorageUnavailable(AicaError):
    """The object store cannot be reached or refused the request: try again later (503)."""

    code = "STORAGE_UNAVAILABLE"
