"""One error envelope for every REST failure, with GraphQL codes mapped to HTTP statuses."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

STATUS_BY_CODE = {
    "BAD_USER_INPUT": 400,
    "QUERY_TOO_COMPLEX": 400,
    "UNAUTHENTICATED": 401,
    "PAYMENT_REQUIRED": 402,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "RANGE_NOT_SATISFIABLE": 416,
    "RATE_LIMITED": 429,
    "INTERNAL_SERVER_ERROR": 500,
    "STORAGE_UNAVAILABLE": 503,
}
CODE_BY_STATUS = {
    status: code for code, status in STATUS_BY_CODE.items() if code != "QUERY_TOO_COMPLEX"
}


class RestError(Exception):
    """Raised by the shim itself (before GraphQL runs) for malformed requests."""

    def __init__(
        self, code: str, message: str, *, headers: dict[str, str] | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details


def envelope(
    code: str, message: str, request: Request | None = None, **details: Any
) -> JSONResponse:
    error: dict[str, Any] = {"message": message, "code": code, **details}
    request_id = getattr(request.state, "request_id", None) if request else None
    if code == "INTERNAL_SERVER_ERROR" and request_id:
        error["requestId"] = request_id
    return JSONResponse({"error": error}, status_code=STATUS_BY_CODE.get(code, 500))


def from_graphql_error(error: dict[str, Any], request: Request) -> JSONResponse:
    """GraphQL validation and coercion errors carry no code: they are the caller's input."""
    extensions = dict(error.get("extensions") or {})
    code = str(extensions.pop("code", "BAD_USER_INPUT"))
    return envelope(code, str(error.get("message", "Error")), request, **extensions)


async def rest_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RestError)
    response = envelope(exc.code, exc.message, request, **exc.details)
    response.headers.update(exc.headers)
    return response


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own 404/405 (unknown route, wrong verb) in our envelope."""
    assert isinstance(exc, HTTPException)
    code = CODE_BY_STATUS.get(exc.status_code, "BAD_USER_INPUT")
    message = "Route not found" if exc.status_code == 404 else str(exc.detail)
    response = envelope(code, message, request)
    response.headers.update(exc.headers or {})  # 405 carries Allow
    return response


def coded_error(exc: Exception, request: Request) -> JSONResponse | None:
    """An application error raised outside GraphQL (while staging an upload, say) that carries
    a code the way GraphQL errors do (``extensions["code"]``): answered with that code."""
    extensions = getattr(exc, "extensions", None)
    if not isinstance(extensions, dict) or extensions.get("code") not in STATUS_BY_CODE:
        return None
    details = {k: v for k, v in extensions.items() if k != "code"}
    return envelope(str(extensions["code"]), str(exc), request, **details)


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    return envelope("INTERNAL_SERVER_ERROR", "Internal server error", request)
