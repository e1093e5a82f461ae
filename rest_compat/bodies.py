"""Request bodies: JSON, or form-encoded with PHP-style nested keys (as Bitrix24 posts)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from aica.errors import AicaError
from aica.nesting import MAX_JSON_DEPTH, loads
from rest_compat.errors import RestError

FORM = "application/x-www-form-urlencoded"


async def read_limited(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RestError("PAYLOAD_TOO_LARGE", f"Request body is larger than {limit} bytes")
    return bytes(body)


def nested_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``data[CALL_ID]=1&auth[domain]=x`` -> ``{"data": {"CALL_ID": "1"}, "auth": {...}}``."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        path = [head] + [part.rstrip("]") for part in rest.split("[")] if rest else [head]
        if len(path) > MAX_JSON_DEPTH:
            message = f"Form field {head!r} is nested deeper than {MAX_JSON_DEPTH} levels"
            raise RestError("BAD_USER_INPUT", message, field=head)
        node = result
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise RestError("BAD_USER_INPUT", f"Form field {key!r} conflicts with another")
            node = child
        node[path[-1]] = value
    return result


async def read_body(request: Request, limit: int, *, allow_form: bool) -> dict[str, Any]:
    """A JSON object (or a form, where allowed); anything else is a 4xx naming the problem."""
    raw = await read_limited(request, limit)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == FORM and allow_form:
        try:
            return nested_form(parse_qsl(raw.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise RestError("BAD_USER_INPUT", "Form body is not UTF-8") from None
    if content_type and "json" not in content_type:
        raise RestError(
            "UNSUPPORTED_MEDIA_TYPE", "Send a JSON body (Content-Type: application/json)"
        )
    if not raw.strip():
        raise RestError("BAD_USER_INPUT", "Request body must be a JSON object")
    try:
        body = loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise RestError("BAD_USER_INPUT", "Request body is not valid JSON") from None
    except AicaError as exc:
        named = {"field": exc.extensions["field"]} if "field" in exc.extensions else {}
        raise RestError("BAD_USER_INPUT", exc.message, **named) from None
    if not isinstance(body, dict):
        raise RestError("BAD_USER_INPUT", "Request body must be a JSON object")
    return body
