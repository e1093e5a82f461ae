"""A real HTTP server on 127.0.0.1 that serves recordings the way remote hosts do (or fail to)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.conftest import free_port


def audio_host(files: dict[str, Path], hits: Counter[str] | None = None) -> Starlette:
    """Serves ``files`` by name; ``hits`` counts the requests for each name."""

    async def serve_file(request: Request) -> Response:
        name = request.path_params["name"]
        if hits is not None:
            hits[name] += 1
        path = files.get(name)
        return FileResponse(path) if path else Response("missing", status_code=404)

    async def slow(request: Request) -> Response:
        await asyncio.sleep(float(request.query_params.get("seconds", "10")))
        return Response(b"late")

    async def endless(_: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10_000):
                yield b"\0" * 65536

        return StreamingResponse(chunks(), media_type="audio/wav")

    async def redirect(request: Request) -> Response:
        return RedirectResponse(request.query_params["to"], status_code=302)

    async def flaky(_: Request) -> Response:
        return Response("try later", status_code=503)

    return Starlette(
        routes=[
            Route("/files/{name}", serve_file),
            Route("/slow", slow),
            Route("/endless", endless),
            Route("/redirect", redirect),
            Route("/flaky", flaky),
        ]
    )


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True
        await task
