"""Fixed-window request limits per token (or per client address), in Redis when configured.

A token earns a budget of its own only once it is known to be in force: made-up tokens
spend the anonymous budget of their address.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WINDOW_SECONDS = 60
ADDRESS_FACTOR = 20
"""One address may spend this many tokens' budgets a minute, however many real tokens it
holds."""

TokenCheck = Callable[[bytes], Awaitable[bool]]
"""Whether an ``Authorization`` header carries a token in force."""


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    remaining: int
    retry_after: int


class Counter(Protocol):
    async def hit(self, key: str, window: int) -> int: ...


class MemoryCounter:
    """One process only; entries of past windows are dropped as new windows begin."""

    def __init__(self) -> None:
        self._window = -1
        self._counts: dict[str, int] = {}

    async def hit(self, key: str, window: int) -> int:
        if window != self._window:
            self._window, self._counts = window, {}
        self._counts[key] = self._counts.get(key, 0) + 1
        return self._counts[key]


class RedisCounter:
    """Shared by every API process, so the limit holds across a scaled-out deployment."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def hit(self, key: str, window: int) -> int:
        name = f"aica:rl:{window}:{key}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, WINDOW_SECONDS * 2)
            count, _ = await pipe.execute()
        return int(count)


class RateLimiter:
    def __init__(self, counter: Counter, per_minute: int, token_in_force: TokenCheck) -> None:
        self.counter = counter
        self.per_minute = per_minute
        self.token_in_force = token_in_force

    async def check(self, key: str, limit: int | None = None) -> Verdict:
        limit = self.per_minute if limit is None else limit
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        count = await self.counter.hit(key, window)
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
        return Verdict(count <= limit, max(0, limit - count), retry_after)

    async def check_request(self, scope: Scope) -> Verdict:
        """Per token in force (or per address otherwise), and a wider cap per address."""
        address = _address(scope)
        auth = dict(scope["headers"]).get(b"authorization", b"")
        if not auth or not await self.token_in_force(auth):
            return await self.check("a:" + address)
        verdict = await self.check("t:" + hashlib.sha256(auth).hexdigest()[:32])
        if verdict.allowed:
            wide = await self.check("ip:" + address, self.per_minute * ADDRESS_FACTOR)
            if not wide.allowed:
                return wide
        return verdict


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class RateLimitMiddleware:
    """Limits the API surfaces (``/graphql``, ``/api/``); health and metrics stay free."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        limited = scope["type"] == "http" and (
            path.startswith("/api/") or path.startswith("/graphql")
        )
        if not limited or self.limiter.per_minute == 0:
            await self.app(scope, receive, send)
            return
        verdict = await self.limiter.check_request(scope)
        headers = [
            (b"x-ratelimit-limit", str(self.limiter.per_minute).encode()),
            (b"x-ratelimit-remaining", str(verdict.remaining).encode()),
        ]
        if verdict.allowed:

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message.setdefault("headers", []).extend(headers)
                await send(message)

            await self.app(scope, receive, send_with_headers)
            return
        message = f"Rate limit of {self.limiter.per_minute} requests a minute exceeded"
        error = {"message": message, "code": "RATE_LIMITED"}
        body = (
            {"error": error}
            if path.startswith("/api/")
            else {"errors": [{"message": message, "extensions": {"code": "RATE_LIMITED"}}]}
        )
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"retry-after", str(verdict.retry_after).encode()),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})
