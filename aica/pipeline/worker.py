"""Pipeline consumers: pgqueuer's QueueManager on a dedicated connection (it LISTENs)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
from pgqueuer import DatabaseRetryEntrypointExecutor, Job, Queries, QueueManager

from aica.pipeline.jobs import Pipeline
from aica.pipeline.queue import PROCESS_RECORD

log = logging.getLogger("aica.worker")

_POOL_OPTIONS = {"maxsize", "minsize"}


def asyncpg_dsn(url: str) -> str:
    """Tortoise's URL without its pool options, which asyncpg.connect does not take."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in _POOL_OPTIONS]
    scheme = "postgresql" if parts.scheme == "postgres" else parts.scheme
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def build_queue_manager(connection: asyncpg.Connection, pipeline: Pipeline) -> QueueManager:
    manager = QueueManager(Queries.from_asyncpg_connection(connection))
    executor = partial(
        DatabaseRetryEntrypointExecutor,
        # Our own per-record counter decides when to give up; this only spaces retries.
        max_attempts=pipeline.settings.job_max_attempts + 2,
        initial_delay=timedelta(seconds=2),
    )

    @manager.entrypoint(PROCESS_RECORD, executor_factory=executor)
    async def process_record(job: Job) -> None:
        await pipeline.run((job.payload or b"").decode())

    return manager


@contextlib.asynccontextmanager
async def consumers(database_url: str, pipeline: Pipeline) -> AsyncIterator[QueueManager]:
    """Run consumers in the background for the duration of the block."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    manager = build_queue_manager(connection, pipeline)
    heartbeat = timedelta(seconds=pipeline.settings.job_heartbeat_seconds)
    task = asyncio.create_task(
        manager.run(
            dequeue_timeout=timedelta(seconds=5),
            batch_size=1,
            heartbeat_timeout=heartbeat,
        )
    )
    try:
        yield manager
    finally:
        manager.shutdown.set()
        try:
            await asyncio.wait_for(task, timeout=30)
        except TimeoutError:
            log.warning("pipeline consumers did not stop in 30 s; cancelling")
            task.cancel()
        finally:
            await connection.close()
