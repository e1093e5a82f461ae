"""The Starlette application: /graphql (+ws), /api/v1, /healthz, /readyz, /metrics and the
dashboard at /."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise import Tortoise
from tortoise.contrib.starlette import RegisterTortoise

from aica.config import Settings
from aica.db import tortoise_config
from aica.errors import AicaError, StorageUnavailable
from aica.graphql.audio_link import AudioLinkContext
from aica.graphql.context import Context, bearer
from aica.graphql.schema import build_schema
from aica.graphql.types.uploads import CONTENT_TYPES as AUDIO_CONTENT_TYPES
from aica.graphql.view import GraphQLView, context_for
from aica.jobs.record import Pipeline
from aica.jobs.worker import consumers
from aica.observability import RequestContextMiddleware, metrics
from aica.ratelimit import MemoryCounter, RateLimiter, RateLimitMiddleware, RedisCounter
from aica.runtime import Runtime
from aica.services import auth
from aica.upload_gate import Refusal, UploadGate, UploadSlots
from rest_compat import create_rest_app
from rest_compat.errors import STATUS_BY_CODE, envelope, http_error_handler

DASHBOARD = Path(__file__).parent / "web"
"""The dashboard's static files (plain HTML, CSS and ES modules: nothing to build)."""
DASHBOARD_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


class Dashboard(StaticFiles):
    """The page may load and call nothing but this service, and no other site may frame it:
    an injected script could neither load code nor send a token elsewhere."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Content-Security-Policy"] = DASHBOARD_POLICY
        return response


def _too_large(limit: int) -> bytes:
    error = {
        "message": f"Request body is larger than {limit} bytes",
        "extensions": {"code": "PAYLOAD_TOO_LARGE"},
    }
    return json.dumps({"errors": [error]}).encode()


class BodyLimit:
    """JSON bodies get the small limit, multipart uploads the audio limit.

    Starlette refuses an oversized body in plain text; GraphQL clients get a GraphQL error.
    """

    def __init__(self, app: ASGIApp, json_limit: int, upload_limit: int) -> None:
        self.json = RequestBodyLimitMiddleware(app, json_limit)
        self.upload = RequestBodyLimitMiddleware(app, upload_limit)
        self.refusals = {self.json: _too_large(json_limit), self.upload: _too_large(upload_limit)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
        limited = self.upload if content_type.startswith(b"multipart/") else self.json
        body = self.refusals[limited]
        too_large = False

        async def send_as_graphql(event: Message) -> None:
            nonlocal too_large
            if event["type"] == "http.response.start" and event["status"] == 413:
                too_large = True
                headers = [(b"content-type", b"application/json")]
                event = {**event, "headers": [*headers, (b"content-length", b"%d" % len(body))]}
            elif event["type"] == "http.response.body" and too_large:
                event = {**event, "body": body}
            await send(event)

        await limited(scope, receive, send_as_graphql)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def graphql_refusal(exc: AicaError, _: Request) -> Response:
    body = {"data": None, "errors": [{"message": exc.message, "extensions": exc.extensions}]}
    return JSONResponse(body, status_code=STATUS_BY_CODE.get(exc.code, 400))


def rest_refusal(exc: AicaError, request: Request) -> Response:
    details = {k: v for k, v in exc.extensions.items() if k != "code"}
    return envelope(exc.code, exc.message, request, **details)


def _audio_link_context(context: Context, ticket: str, record_id: str) -> AudioLinkContext:
    return AudioLinkContext(
        runtime=context.runtime,
        request=context.request,
        response=None,
        authorization=ticket,
        selected_org_id=None,
        record_id=record_id,
    )


def _cors(origins: list[str]) -> list[Middleware]:
    """Browser front ends on other origins (the WebSocket's origin list); none by default.

    Outermost, so refusals (401, 413, 429) carry the headers too and the page can read them.
    """
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Selected-Org-ID", "Range"],
            expose_headers=["X-Request-Id", "Content-Range", "Accept-Ranges", "Retry-After"],
            max_age=600,
        )
    ]


def create_app(settings: Settings, database_url: str) -> Starlette:
    """``database_url`` is resolved by the caller (the CLI starts the embedded server)."""
    runtime = Runtime.from_settings(settings)
    runtime.storage.ensure_dirs()
    runtime.storage.sweep_staging()
    schema = build_schema(settings)
    graphql = GraphQLView(schema, runtime)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    counter = RedisCounter(redis) if redis else MemoryCounter()

    async def token_in_force(authorization: bytes) -> bool:
        raw = bearer(authorization.decode("latin-1"))
        return raw is not None and await auth.is_live(raw, runtime.grants)

    limiter = RateLimiter(counter, settings.rate_limit_per_minute, token_in_force)

    async def build_rest_context(request: Request) -> Any:
        context = context_for(runtime, request, None)
        ticket = request.query_params.get("ticket")
        record_id = request.path_params.get("id")
        audio_path = f"/records/{record_id}/audio"
        if ticket and context.authorization is None and request.url.path.endswith(audio_path):
            return _audio_link_context(context, ticket, str(record_id))
        return context

    slots = UploadSlots(settings.max_concurrent_uploads_per_org)

    def gated(app: ASGIApp, refuse: Refusal) -> UploadGate:
        return UploadGate(app, runtime, slots, refuse)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(
                RegisterTortoise(app, config=tortoise_config(database_url))
            )
            stack.push_async_callback(runtime.storage.close)  # after the consumers have stopped
            if settings.run_workers:
                pipeline = Pipeline(runtime)
                await stack.enter_async_context(consumers(database_url, pipeline))
            listener = asyncio.create_task(auth.forget_when_told(runtime.events, runtime.grants))
            stack.push_async_callback(_stop, listener)
            # What is alive after start-up (schema, models, caches) lives until exit: keep
            # the collector from scanning it again on every generation-2 pass.
            gc.freeze()
            yield
        await runtime.events.close()
        if redis is not None:
            await redis.aclose()

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            await Tortoise.get_connection("default").execute_query("SELECT 1")
            checks["database"] = "ok"
        except Exception as exc:  # any failure means not ready; say which
            checks["database"] = f"error: {type(exc).__name__}"
        if redis is not None:
            try:
                await redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = f"error: {type(exc).__name__}"
        if settings.storage_url:
            try:
                await runtime.storage.ping()
                checks["storage"] = "ok"
            except StorageUnavailable as exc:
                checks["storage"] = f"error: {exc.message}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route(
            "/graphql",
            gated(
                BodyLimit(graphql, settings.max_request_body_bytes, settings.max_upload_bytes),
                graphql_refusal,
            ),
            methods=["GET", "POST"],
        ),
        WebSocketRoute("/graphql", graphql),
        Mount(
            "/api/v1",
            app=gated(
                create_rest_app(
                    schema,
                    build_rest_context,
                    files=runtime.storage,
                    max_body_bytes=settings.max_request_body_bytes,
                    max_upload_bytes=settings.max_upload_bytes,
                    audio_types=sorted(set(AUDIO_CONTENT_TYPES.values())),
                ),
                rest_refusal,
            ),
        ),
        Mount("/", app=Dashboard(directory=DASHBOARD, html=True), name="dashboard"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error_handler},  # unknown paths: the envelope
        middleware=[
            *_cors(settings.allowed_origins),
            Middleware(RequestContextMiddleware),
            Middleware(RateLimitMiddleware, limiter=limiter),
        ],
    )
    app.state.runtime = runtime
    return app
