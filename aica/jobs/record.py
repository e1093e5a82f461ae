"""The record job: one pgqueuer job per record runs the pipeline's stages, then completes it.

At-least-once: a job may run again after a crash; the stages checkpoint what finished
(``aica.services.pipeline``), and the record's own ``attempts`` counter, bumped before any
work, turns a file that kills its worker every time into a ``failed`` record.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from pgqueuer import RetryRequested
from tortoise.expressions import F

from aica.config import Settings
from aica.errors import AicaError, StorageUnavailable
from aica.models import Project, Record, RecordStatus
from aica.runtime import Runtime
from aica.services.downloads import DownloadUnavailable
from aica.services.pipeline import RecordGone, Speech, StageRun, finish, run_stages
from aica.services.recordings import RecordingNotReady

log = logging.getLogger("aica.jobs")


@dataclass
class Pipeline:
    """What a job needs; one per worker process."""

    runtime: Runtime
    _speech: Speech | None = None

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def speech(self) -> Speech:
        if self._speech is None:
            self._speech = Speech.for_settings(self.settings)
        return self._speech

    async def warm_up(self) -> None:
        """Load (and on first use verify) the model before the first job needs it."""
        try:
            await asyncio.to_thread(self.speech.transcriber.load)
        except Exception:  # the first job reports it on its record; keep consuming
            log.exception("could not load the transcription model")

    async def run(self, record_id: str) -> None:
        record = await self._claim(record_id)
        if record is None:
            return
        if record.attempts > self.settings.job_max_attempts:
            await self._fail(
                record,
                f"Gave up after {self.settings.job_max_attempts} attempts: processing "
                "stopped each time (the worker crashed or timed out on this recording)",
            )
            return
        project = await Project.get(pk=record.project_id)
        run = StageRun(record, project, self.runtime, project.profile, speech=self.speech)
        try:
            await run_stages(run)
        except asyncio.CancelledError:  # the process is stopping: not the recording's fault
            await self._uncount(record)
            raise
        except RecordGone:
            log.info("record %s was deleted while it was processed", record.id)
            return
        except RecordingNotReady as exc:
            await self._wait_for_recording(record, exc)
            return
        except StorageUnavailable as exc:  # the store's outage, not the recording's fault
            await self._retry_uncounted(record, exc, self.settings.storage_retry_seconds)
        except AicaError as exc:  # the recording itself is at fault: retrying won't help
            await self._fail(record, exc.message)
            return
        except Exception as exc:
            log.exception("pipeline failed for %s (attempt %d)", record.id, record.attempts)
            if record.attempts >= self.settings.job_max_attempts:
                reason = str(exc) if isinstance(exc, DownloadUnavailable) else repr(exc)
                await self._fail(record, f"Processing failed: {reason}")
                return
            raise  # pgqueuer's retry executor re-queues it with backoff
        await finish(self.runtime, record, RecordStatus.completed, None)

    async def _wait_for_recording(self, record: Record, exc: RecordingNotReady) -> None:
        """Polls for a CRM's recording do not count as attempts, within their own budget."""
        waited = (datetime.now(UTC) - record.created_at).total_seconds()
        if waited >= self.settings.recording_wait_seconds:
            await self._fail(record, f"{exc} after {waited / 60:.0f} minutes; giving up")
            return
        await self._retry_uncounted(record, exc, self.settings.recording_poll_seconds)

    async def _retry_uncounted(self, record: Record, exc: Exception, seconds: float) -> NoReturn:
        """Run the job again later without spending one of the record's attempts."""
        log.warning("record %s waits %.0f s: %s", record.id, seconds, exc)
        await self._uncount(record)
        raise RetryRequested(delay=timedelta(seconds=seconds), reason=str(exc))

    async def _uncount(self, record: Record) -> None:
        """Take back the attempt ``_claim`` counted, for a run that did not really try."""
        await Record.filter(pk=record.id, status=RecordStatus.processing).update(
            attempts=F("attempts") - 1
        )

    async def _claim(self, record_id: str) -> Record | None:
        """Count the attempt before any work, so a crash mid-way still counts."""
        updated = await Record.filter(
            pk=record_id,
            status__in=[RecordStatus.pending, RecordStatus.processing],
            deleting_at__isnull=True,
        ).update(attempts=F("attempts") + 1, status=RecordStatus.processing, error=None)
        if not updated:
            return None  # deleted (or being deleted), or finished by an earlier run
        return await Record.get(pk=record_id)

    async def _fail(self, record: Record, reason: str) -> None:
        log.warning("record %s failed: %s", record.id, reason)
        await finish(self.runtime, record, RecordStatus.failed, reason)
