"""Pipeline consumers: pgqueuer's QueueManager on a dedicated connection (it LISTENs), and its
SchedulerManager on another for the periodic retention job."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial

import asyncpg
from pgqueuer import (
    DatabaseRetryEntrypointExecutor,
    Job,
    Queries,
    QueueManager,
    RetryRequested,
    SchedulerManager,
)
from pgqueuer.models import Schedule
from tortoise import Tortoise

from aica.config import Settings
from aica.db import asyncpg_dsn, tortoise_config
from aica.jobs.record import Pipeline
from aica.jobs.shutdown import STOP_GRACE_SECONDS, RunningJobs
from aica.queue import DELIVER, INDEX_RECORD, PROCESS_RECORD
from aica.runtime import Runtime
from aica.services import deletion, deliveries, retention, search

log = logging.getLogger("aica.worker")

HAND_BACK_SECONDS = 10.0
"""After handing jobs back: how long re-queueing them may take before the consumers are
cancelled outright."""


def build_queue_manager(
    connection: asyncpg.Connection, pipeline: Pipeline, running: RunningJobs
) -> QueueManager:
    manager = QueueManager(Queries.from_asyncpg_connection(connection))
    executor = partial(
        DatabaseRetryEntrypointExecutor,
        # The record's own counter decides when to give up (crashes included) and polls for a
        # CRM's recording must not count at all; pgqueuer's count (every retry, polls too)
        # would drop the job with the record still "processing". This only spaces retries.
        max_attempts=1_000_000,
        initial_delay=timedelta(seconds=2),
        max_delay=timedelta(minutes=2),
    )

    @manager.entrypoint(PROCESS_RECORD, executor_factory=executor)
    async def process_record(job: Job) -> None:
        async with running.job():
            await pipeline.run((job.payload or b"").decode())

    @manager.entrypoint(DELIVER, executor_factory=executor)
    async def deliver(job: Job) -> None:
        """One attempt at an outbox row; the next, if any, after the delivery's own backoff."""
        async with running.job():
            wait = await deliveries.deliver((job.payload or b"").decode(), pipeline.settings)
        if wait is not None:
            raise RetryRequested(delay=timedelta(seconds=wait), reason="delivery attempt failed")

    @manager.entrypoint(INDEX_RECORD, executor_factory=executor)
    async def index_record(job: Job) -> None:
        """Rebuild a record's search documents; a failure is retried with the executor's
        backoff and never touches the record."""
        async with running.job():
            await search.index_record(pipeline.settings, (job.payload or b"").decode())

    return manager


RETENTION = "retention"


def build_scheduler(connection: asyncpg.Connection, runtime: Runtime) -> SchedulerManager:
    """The retention job on ``AICA_RETENTION_SCHEDULE``: pgqueuer runs each due schedule in
    one process of all that share the database."""
    scheduler = SchedulerManager(Queries.from_asyncpg_connection(connection))

    @scheduler.schedule(RETENTION, runtime.settings.retention_schedule, clean_old=True)
    async def purge_expired(schedule: Schedule) -> None:
        purged = await retention.purge(runtime.settings, runtime.storage)
        log.info(
            "retention run",
            extra={
                "expired": len(purged.expired_ids),
                "finished": len(purged.finished),
                "pending": len(purged.pending),
                "auditRows": purged.audit_rows,
            },
        )

    return scheduler


async def _sweep(runtime: Runtime) -> None:
    """Finish deletions a crash or a storage failure interrupted (as the retention job does)."""
    try:
        finished = await deletion.sweep(runtime.storage)
    except Exception:
        log.exception("could not finish interrupted deletions; the retention job will retry")
        return
    if finished:
        log.info("finished interrupted deletions", extra={"records": len(finished)})


async def run_worker(
    settings: Settings, database_url: str, grace_seconds: float = STOP_GRACE_SECONDS
) -> None:
    """``aica worker``: consumers only, no HTTP, until SIGTERM or SIGINT."""
    runtime = Runtime.from_settings(settings)
    runtime.storage.ensure_dirs()
    runtime.storage.sweep_staging()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        pipeline = Pipeline(runtime)
        async with consumers(database_url, pipeline, grace_seconds):
            log.info("worker started", extra={"pid": os.getpid()})
            await stop.wait()
    finally:
        await runtime.events.close()
        await runtime.storage.close()
        await Tortoise.close_connections()


def _report_stop(task: asyncio.Task[None]) -> None:
    """Consumers that die say so loudly; jobs wait in the queue for another worker."""
    if not task.cancelled() and task.exception() is not None:
        log.error("pipeline consumers stopped", exc_info=task.exception())


@contextlib.asynccontextmanager
async def consumers(
    database_url: str, pipeline: Pipeline, grace_seconds: float = STOP_GRACE_SECONDS
) -> AsyncIterator[QueueManager]:
    """Run consumers in the background for the duration of the block.

    On exit no job is taken any more; running ones get ``grace_seconds`` to finish, then go
    back to the queue, due at once (see ``aica.jobs.shutdown``).
    """
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    schedules = await asyncpg.connect(asyncpg_dsn(database_url))
    running = RunningJobs()
    manager = build_queue_manager(connection, pipeline, running)
    scheduler = build_scheduler(schedules, pipeline.runtime)
    warm_up = asyncio.create_task(pipeline.warm_up())
    sweep = asyncio.create_task(_sweep(pipeline.runtime))
    heartbeat = timedelta(seconds=pipeline.settings.job_heartbeat_seconds)
    task = asyncio.create_task(
        manager.run(
            dequeue_timeout=timedelta(seconds=5),
            batch_size=1,
            heartbeat_timeout=heartbeat,
        )
    )
    task.add_done_callback(_report_stop)
    scheduling = asyncio.create_task(scheduler.run())
    scheduling.add_done_callback(_report_stop)
    try:
        yield manager
    finally:
        warm_up.cancel()
        sweep.cancel()
        manager.shutdown.set()
        scheduler.shutdown.set()
        try:
            await _stop_consumers(task, running, grace_seconds)
        finally:
            scheduling.cancel()  # a purge cut short is finished by the next: deletions resume
            await asyncio.wait({scheduling})
            await connection.close()
            await schedules.close()


async def _stop_consumers(
    task: asyncio.Task[None], running: RunningJobs, grace_seconds: float
) -> None:
    """Wait for running jobs (``asyncio.wait``: ``wait_for`` would cancel the consumers, and
    pgqueuer drops a cancelled job), then hand back what is still running."""
    if task in (await asyncio.wait({task}, timeout=grace_seconds))[0]:
        return
    handed = running.hand_back()
    log.warning(
        "stopping: handed %d running job(s) back to the queue after %g s", handed, grace_seconds
    )
    if task in (await asyncio.wait({task}, timeout=HAND_BACK_SECONDS))[0]:
        return
    log.warning("pipeline consumers did not stop in %g s; cancelling", HAND_BACK_SECONDS)
    task.cancel()
    await asyncio.wait({task})
