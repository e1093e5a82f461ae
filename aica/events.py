"""Pub/sub for live updates: in-process by default, Redis when processes must share events.

Messages are small JSON objects naming a change (a record's status, progress and stage);
subscribers reload the rest of what they show from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

from redis.asyncio import Redis

log = logging.getLogger("aica.events")

Message = dict[str, Any]
_QUEUE_SIZE = 256


class Broadcaster(Protocol):
    async def publish(self, channel: str, message: Message) -> None: ...

    def subscribe(self, *channels: str) -> AsyncIterator[Message]: ...

    async def close(self) -> None: ...


class LocalBroadcaster:
    """One process: API and in-process workers share it."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Message]]] = defaultdict(set)

    async def publish(self, channel: str, message: Message) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            if queue.full():  # a stalled subscriber loses its oldest update, not ours
                queue.get_nowait()
            queue.put_nowait(message)

    async def subscribe(self, *channels: str) -> AsyncIterator[Message]:
        queue: asyncio.Queue[Message] = asyncio.Queue(_QUEUE_SIZE)
        for channel in channels:
            self._subscribers[channel].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            for channel in channels:
                self._subscribers[channel].discard(queue)
                if not self._subscribers[channel]:
                    del self._subscribers[channel]

    async def close(self) -> None:
        self._subscribers.clear()


class RedisBroadcaster:
    """Every API process hears every worker process."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def publish(self, channel: str, message: Message) -> None:
        await self._redis.publish(f"aica:{channel}", json.dumps(message))

    async def subscribe(self, *channels: str) -> AsyncIterator[Message]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(*(f"aica:{channel}" for channel in channels))
        try:
            async for raw in pubsub.listen():
                if raw.get("type") == "message":
                    yield json.loads(raw["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        await self._redis.aclose()


def create_broadcaster(redis_url: str | None) -> Broadcaster:
    if redis_url:
        return RedisBroadcaster(Redis.from_url(redis_url))
    return LocalBroadcaster()


def project_channel(project_id: str) -> str:
    return f"records:{project_id}"


def alert_channel(project_id: str) -> str:
    return f"alerts:{project_id}"


def access_channel(user_id: str) -> str:
    """Told when a user's access may have shrunk (token revoked, removed, role changed)."""
    return f"access:{user_id}"


ACCESS_CHANGED: Message = {"event": "access"}
ACCESS_ANY = "access"
"""Told ``{"userId": ...}`` along with each user's access channel: every API process listens,
to forget the grants it remembers of that user."""


async def publish_safely(broadcaster: Broadcaster, channel: str, message: Message) -> None:
    """Live updates are best effort: a Redis hiccup must not fail the pipeline job."""
    try:
        await broadcaster.publish(channel, message)
    except Exception:
        log.warning("could not publish to %s", channel, exc_info=True)
