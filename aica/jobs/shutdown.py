"""Stopping consumers without losing jobs: what runs past the grace period goes back to the queue.

pgqueuer logs a job whose task is cancelled as ``canceled`` and deletes it, so cancelling the
consumers of a stopping process would drop its running jobs (a record left ``processing`` for
good). Instead the jobs themselves are interrupted, and each turns its interruption into a
retry due at once, which another worker picks up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from pgqueuer import RetryRequested

STOP_GRACE_SECONDS = 30.0
"""How long a stopping process lets its running jobs finish before handing them back."""

HANDED_BACK = "handed back to the queue: the worker stopped before the job finished"


class RunningJobs:
    """The jobs this process is running, so that a stop can hand them back."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()
        self._handing_back = False

    @asynccontextmanager
    async def job(self) -> AsyncIterator[None]:
        """Around one job: interrupted by :meth:`hand_back`, it is re-queued, due now."""
        task = asyncio.current_task()
        assert task is not None, "a job runs in a task"
        self._tasks.add(task)
        try:
            yield
        except asyncio.CancelledError:
            if not self._handing_back:
                raise
            raise RetryRequested(delay=timedelta(0), reason=HANDED_BACK) from None
        finally:
            self._tasks.discard(task)

    def hand_back(self) -> int:
        """Interrupt every running job (each re-queues itself); how many there were."""
        self._handing_back = True
        for task in self._tasks:
            task.cancel()
        return len(self._tasks)
