"""The door of both upload routes: the caller is checked before a byte of the body is read,
and each org streams at most ``max_concurrent_uploads_per_org`` uploads at once.

Without it a stranger could make the server write a 200 MB ``.part`` (REST) or spool 100 MB to
``/tmp`` (GraphQL multipart) before answering 401. The authenticated context is left on the
request for the route to reuse (one authentication per request). The slots are per process.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from aica.errors import AicaError, RateLimited
from aica.graphql.view import context_for
from aica.runtime import Runtime
from aica.services.uploads import require_uploader

Refusal = Callable[[AicaError, Request], Response]


class UploadSlots:
    """Uploads streaming now, per org."""

    def __init__(self, per_org: int) -> None:
        self.per_org = per_org
        self.active: Counter[str] = Counter()

    def acquire(self, org_id: str) -> None:
        if self.active[org_id] >= self.per_org:
            raise RateLimited(
                f"Your organization is already uploading {self.per_org} files; retry when one "
                "finishes",
                limit=self.per_org,
            )
        self.active[org_id] += 1

    def release(self, org_id: str) -> None:
        self.active[org_id] -= 1
        if not self.active[org_id]:
            del self.active[org_id]


class UploadGate:
    """Wraps an app; acts on multipart POSTs only (the only requests that carry files)."""

    def __init__(self, app: ASGIApp, runtime: Runtime, slots: UploadSlots, refuse: Refusal):
        self.app = app
        self.runtime = runtime
        self.slots = slots
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if not request.headers.get("content-type", "").startswith("multipart/"):
            await self.app(scope, receive, send)
            return
        context = context_for(self.runtime, request, None)
        try:
            actor = await context.actor()
            require_uploader(actor)
            self.slots.acquire(actor.org_id)
        except AicaError as exc:
            await self.refuse(exc, request)(scope, receive, send)
            return
        try:
            request.state.graphql_context = context
            await self.app(scope, receive, send)
        finally:
            self.slots.release(actor.org_id)
