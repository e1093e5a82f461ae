"""The record pipeline, one job per record: download -> transcribe -> (analyze, index) -> done.

At-least-once: a job may run again after a crash, so every stage replaces what an earlier
run left (one transcript per record) and the record's own ``attempts`` counter, bumped before
any work, turns a file that kills its worker every time into a ``failed`` record.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pgqueuer import RetryRequested
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from aica.config import Settings
from aica.errors import AicaError
from aica.events import Broadcaster, project_channel, publish_safely
from aica.models import Project, Record, RecordStatus, Stage, Transcript
from aica.services import recordings
from aica.services.analyses import analyze_record
from aica.services.downloads import AddressPolicy, DownloadUnavailable, download
from aica.services.recordings import RecordingNotReady
from aica.speech.audio import probe
from aica.storage import Storage

if TYPE_CHECKING:
    from aica.speech.transcribe import Transcriber

log = logging.getLogger("aica.jobs")

TRANSCRIBE_SHARE = 90
"""Progress percent reached when transcription ends; later stages fill the rest."""
_PROGRESS_INTERVAL = 1.0


@dataclass
class Pipeline:
    """What a job needs; one per worker process."""

    settings: Settings
    storage: Storage
    events: Broadcaster
    _transcriber: Transcriber | None = None
    _slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.settings.worker_concurrency)

    @property
    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            from aica.speech.transcribe import Transcriber

            self._transcriber = Transcriber(self.settings)
        return self._transcriber

    async def warm_up(self) -> None:
        """Load (and on first use verify) the model before the first job needs it."""
        try:
            await asyncio.to_thread(self.transcriber.load)
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
        try:
            await self._process(record)
        except RecordingNotReady as exc:
            await self._wait_for_recording(record, exc)
        except AicaError as exc:  # the recording itself is at fault: retrying won't help
            await self._fail(record, exc.message)
        except Exception as exc:
            log.exception("pipeline failed for %s (attempt %d)", record.id, record.attempts)
            if record.attempts >= self.settings.job_max_attempts:
                reason = str(exc) if isinstance(exc, DownloadUnavailable) else repr(exc)
                await self._fail(record, f"Processing failed: {reason}")
                return
            raise  # pgqueuer's retry executor re-queues it with backoff

    async def _wait_for_recording(self, record: Record, exc: RecordingNotReady) -> None:
        """Polls for a CRM's recording do not count as attempts, within their own budget."""
        waited = (datetime.now(UTC) - record.created_at).total_seconds()
        if waited >= self.settings.recording_wait_seconds:
            await self._fail(record, f"{exc} after {waited / 60:.0f} minutes; giving up")
            return
        await Record.filter(pk=record.id).update(attempts=F("attempts") - 1)
        raise RetryRequested(
            delay=timedelta(seconds=self.settings.recording_poll_seconds), reason=str(exc)
        )

    async def _claim(self, record_id: str) -> Record | None:
        """Count the attempt before any work, so a crash mid-way still counts."""
        updated = await Record.filter(
            pk=record_id, status__in=[RecordStatus.pending, RecordStatus.processing]
        ).update(attempts=F("attempts") + 1, status=RecordStatus.processing, error=None)
        if not updated:
            return None  # deleted, or finished by an earlier run
        return await Record.get(pk=record_id)

    async def _process(self, record: Record) -> None:
        if record.audio_key is None:
            await self._download(record)
        project = await Project.get(pk=record.project_id)
        async with self._slots:
            await self._update(record, stage=Stage.transcribing, progress=0)
            transcript = await self._transcribe(record, project)
        async with in_transaction():
            await Transcript.filter(record_id=record.id).delete()
            await Transcript.create(
                record_id=record.id,
                language=transcript.language,
                text=transcript.text,
                segments=transcript.to_json()["segments"],
            )
            record.duration = transcript.duration
            record.channels = transcript.channels
            record.language = transcript.language
            record.language_probability = transcript.language_probability
            record.warnings = transcript.to_json()["warnings"]
            await record.save(
                update_fields=[
                    "duration",
                    "channels",
                    "language",
                    "language_probability",
                    "warnings",
                ]
            )
        await self._update(record, stage=Stage.analyzing, progress=TRANSCRIBE_SHARE)
        await analyze_record(record, project.profile)
        # Search indexing and alert rules plug in here as stages of their own.
        await self._complete(record)

    async def _download(self, record: Record) -> None:
        await self._update(record, stage=Stage.downloading)
        settings = self.settings
        policy = AddressPolicy.from_settings(
            settings.allow_private_urls, settings.private_url_allowlist
        )
        time_limit = settings.download_timeout_seconds
        url = await recordings.audio_url(record, policy=policy, time_limit=time_limit)
        staged = await download(
            url, self.storage, limit=settings.max_upload_bytes, time_limit=time_limit, policy=policy
        )
        try:
            info = await asyncio.to_thread(probe, staged.path)
            key = await self.storage.commit(staged, record.org_id, record.id, info.format)
        finally:
            await self.storage.discard(staged.id)
        await self._update(
            record,
            source_auth=None,  # a CRM's token is not kept once the audio is ours
            audio_key=key,
            format=info.format,
            size=staged.size,
            sha256=staged.sha256,
            duration=info.duration,
            channels=info.channels,
        )

    async def _transcribe(self, record: Record, project: Project) -> Any:
        loop = asyncio.get_running_loop()
        latest: asyncio.Queue[float] = asyncio.Queue()

        def on_progress(fraction: float) -> None:  # called from the transcription thread
            loop.call_soon_threadsafe(latest.put_nowait, fraction)

        reporter = asyncio.create_task(self._report_progress(record, latest))
        try:
            return await asyncio.to_thread(
                self.transcriber.transcribe,
                self.storage.path(record.audio_key or ""),
                language=None if project.language == "auto" else project.language,
                languages=project.languages,
                agent_channel=project.agent_channel,
                on_progress=on_progress,
            )
        finally:
            reporter.cancel()

    async def _report_progress(self, record: Record, latest: asyncio.Queue[float]) -> None:
        """At most one database write and event a second, however fast segments arrive."""
        last_sent = 0.0
        while True:
            fraction = await latest.get()
            while not latest.empty():
                fraction = latest.get_nowait()
            percent = min(TRANSCRIBE_SHARE, int(fraction * TRANSCRIBE_SHARE))
            if percent > record.progress and time.monotonic() - last_sent >= _PROGRESS_INTERVAL:
                last_sent = time.monotonic()
                await self._update(record, progress=percent)

    async def _update(self, record: Record, **changes: Any) -> None:
        record.update_from_dict(changes)
        await record.save(update_fields=list(changes))
        await self._announce(record, "updated")

    async def _complete(self, record: Record) -> None:
        await self._update(
            record,
            status=RecordStatus.completed,
            progress=100,
            stage=None,
            completed_at=datetime.now(UTC),
        )
        await self._announce(record, "completed")

    async def _fail(self, record: Record, reason: str) -> None:
        log.warning("record %s failed: %s", record.id, reason)
        await self._update(
            record,
            status=RecordStatus.failed,
            error=reason,
            stage=None,
            completed_at=datetime.now(UTC),
        )

    async def _announce(self, record: Record, event: str) -> None:
        await publish_safely(
            self.events,
            project_channel(record.project_id),
            {
                "event": event,
                "recordId": record.id,
                "orgId": record.org_id,
                "status": str(record.status),
                "progress": record.progress,
            },
        )
