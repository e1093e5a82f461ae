"""A real HTTP server on 127.0.0.1 that serves recordings the way remote hosts do (or fail to)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from standardwebhooks import Webhook
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


@dataclass
class Receiver:
    """A webhook receiver: answers with ``answers`` in turn (then 200), after waiting
    ``hangs`` seconds in turn (then ``hang``); keeps what it received and what it answered."""

    answers: list[int] = field(default_factory=list)
    hangs: list[float] = field(default_factory=list)
    hang: float = 0
    secret: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    """The webhook-id of each request answered."""
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def until(self, predicate: Callable[[], bool], seconds: float = 60) -> None:
        """Wait until ``predicate()`` holds (checked as requests arrive and are answered)."""
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(predicate)

    async def _note(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            self.received.append(
                {
                    "headers": dict(request.headers),
                    "body": body,
                    "valid": self.verify(request, body),
                }
            )
            await self._note()
            await asyncio.sleep(self.hangs.pop(0) if self.hangs else self.hang)
            self.answered.append(request.headers.get("webhook-id", ""))
            await self._note()
            return Response(status_code=self.answers.pop(0) if self.answers else 200)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    def verify(self, request: Request, body: bytes) -> bool:
        """The README's recipe, by hand: HMAC-SHA256 of id.timestamp.body with the secret's
        base64 part as the key, compared with each v1 signature; and the reference library."""
        if not self.secret:
            return False
        msg_id = request.headers["webhook-id"]
        stamp = request.headers["webhook-timestamp"]
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        expected = base64.b64encode(digest).decode()
        signatures = [s.split(",", 1)[1] for s in request.headers["webhook-signature"].split()]
        fresh = abs(time.time() - int(stamp)) < 300
        Webhook(self.secret).verify(body, dict(request.headers))  # raises when it does not hold
        return fresh and any(hmac.compare_digest(expected, s) for s in signatures)


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
