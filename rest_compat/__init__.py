"""The REST compatibility layer: ``/api/v1`` routes served by stored GraphQL operations.

It receives the schema and a context factory as arguments and never imports ``aica``.
"""

from __future__ import annotations

from collections.abc import Iterable

from graphql import build_schema
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from rest_compat.endpoint import ContextGetter, ExecutableSchema, Limits, RestEndpoint
from rest_compat.errors import (
    RestError,
    http_error_handler,
    rest_error_handler,
    unexpected_error_handler,
)
from rest_compat.multipart import FileStore
from rest_compat.openapi import build_openapi
from rest_compat.routes import ROUTES

__all__ = ["create_rest_app"]


def create_rest_app(
    schema: ExecutableSchema,
    context_getter: ContextGetter,
    *,
    files: FileStore,
    max_body_bytes: int,
    max_upload_bytes: int,
    audio_types: Iterable[str],
) -> Starlette:
    """``files`` stages uploads and resolves stored files' keys to paths; ``audio_types`` are
    the content types recordings are served as (the document declares them)."""
    types = build_schema(schema.as_str())
    spec = build_openapi(types, ROUTES, audio_types)
    limits = Limits(max_body_bytes, max_upload_bytes)

    async def openapi(_: Request) -> JSONResponse:
        return JSONResponse(spec)

    routes = [Route("/openapi.json", openapi)]
    routes += [
        Route(
            r.path,
            RestEndpoint(r, schema, types, context_getter, files, limits).handle,
            methods=[r.method],
            name=r.operation,
        )
        for r in ROUTES
    ]
    return Starlette(
        routes=routes,
        exception_handlers={
            RestError: rest_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
    )
