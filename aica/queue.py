"""The job queue (pgqueuer on our PostgreSQL): enqueue inside the caller's transaction.

Enqueueing on the ORM's transaction means a record and its job commit together: no record
without a job after a crash, no job for a record that was rolled back.
"""

from __future__ import annotations

from typing import Any, cast

from pgqueuer import Queries
from pgqueuer.ports.driver import Driver
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

PROCESS_RECORD = "process_record"
DELIVER = "deliver"
INDEX_RECORD = "index_record"


class OrmDriver:
    """Just enough of pgqueuer's driver to enqueue through a Tortoise connection."""

    def __init__(self, client: BaseDBAsyncClient) -> None:
        self._client = client

    async def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        rows: list[dict[str, Any]] = await self._client.execute_query_dict(query, list(args))
        return rows

    async def execute(self, query: str, *args: object) -> str:
        await self._client.execute_query(query, list(args))
        return ""


def _queries(client: BaseDBAsyncClient | None) -> Queries:
    """On ``client``, or the current connection (the open transaction, inside one)."""
    driver = OrmDriver(client or Tortoise.get_connection("default"))
    return Queries(cast(Driver, driver))  # enqueue only calls fetch/execute


async def enqueue_record(record_id: str, client: BaseDBAsyncClient | None = None) -> None:
    """Queue the pipeline for ``record_id``; a job already waiting for it is not duplicated."""
    await _queries(client).enqueue(
        PROCESS_RECORD, record_id.encode(), dedupe_key=record_id, on_conflict="skip"
    )


async def enqueue_delivery(delivery_id: str) -> None:
    """Queue the sending of an outbox row, in the transaction that wrote it."""
    await _queries(None).enqueue(
        DELIVER, delivery_id.encode(), dedupe_key=delivery_id, on_conflict="skip"
    )


async def enqueue_indexing(record_ids: list[str]) -> None:
    """Queue the rebuild of these records' search documents, in the caller's transaction.

    Keyed apart from the record job's own key (``index:<id>``): a record being processed
    must still get its indexing queued.
    """
    if not record_ids:
        return
    count = len(record_ids)
    await _queries(None).enqueue(
        [INDEX_RECORD] * count,
        [r.encode() for r in record_ids],
        [0] * count,
        dedupe_key=[f"index:{r}" for r in record_ids],
        on_conflict="skip",
    )
