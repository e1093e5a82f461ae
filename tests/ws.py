"""A small graphql-transport-ws client for tests (the protocol dashboards speak)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

TIMEOUT = 10


class Subscriptions:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._next_id = 0

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, wait: float = TIMEOUT) -> dict[str, Any]:
        async with asyncio.timeout(wait):
            message: dict[str, Any] = json.loads(await self.ws.recv())
        return message

    async def subscribe(self, query: str, variables: dict[str, Any]) -> str:
        self._next_id += 1
        op_id = str(self._next_id)
        await self.send(
            {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
        return op_id

    async def until(self, predicate: Any, wait: float = 120) -> dict[str, Any]:
        """The first ``next`` payload for which ``predicate(payload)`` holds."""
        async with asyncio.timeout(wait):
            while True:
                message = await self.receive(wait)
                if message["type"] == "next" and predicate(message["payload"]):
                    return dict(message["payload"])
                if message["type"] == "error":
                    raise AssertionError(f"subscription error: {message}")


@asynccontextmanager
async def subscriptions(
    base_url: str, authorization: str, org_id: str
) -> AsyncIterator[Subscriptions]:
    url = base_url.replace("http://", "ws://", 1) + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        client = Subscriptions(ws)
        await client.send(
            {
                "type": "connection_init",
                "payload": {"authorization": authorization, "orgId": org_id},
            }
        )
        ack = await client.receive()
        assert ack["type"] == "connection_ack", ack
        yield client
