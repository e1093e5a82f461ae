"""The record pipeline: an ordered list of named stages, the one place a stage is added.

The record job (``aica.jobs.record``) runs every stage; a re-analysis runs them from
``analyzing`` on, without transcribing again. A stage is a name (shown as the record's
``stage`` while it runs), a share of the record's ``progress``, and an async function of a
:class:`StageRun`. The rules a stage keeps:

- It is idempotent and checkpointed: it writes its result inside ``run.finishing()``, which
  records the checkpoint in the same transaction, so a job re-run after a crash skips every
  stage that finished and repeats only the one that did not (resumed by name, not position).
- A stage may hand its result to the next one in memory instead of storing it
  (``run.hand_over``): transcribing gives the clear transcript to redacting, which stores
  only the redacted one and checkpoints both stages at once.
- Anything that leaves the machine (webhooks, email) is not done in a stage: the stage writes
  an outbox row inside ``run.finishing()`` and a separate durable job delivers it with its own
  retries, so a slow receiver never holds a record back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from aica.config import Settings
from aica.errors import NotFound
from aica.models import (
    Analysis,
    Project,
    Record,
    RecordStatus,
    RedactionMode,
    Role,
    Stage,
    UsageKind,
)
from aica.queue import enqueue_indexing
from aica.runtime import Runtime
from aica.services import (
    alerts,
    analyses,
    billing,
    deletion,
    outbox,
    recordings,
    redaction,
    speakers,
    transcripts,
)
from aica.services.access import Actor
from aica.services.records import announce
from aica.services.timerange import utc_iso
from aica.transcript import Transcript as Spoken

if TYPE_CHECKING:
    from aica.speech.transcribe import Transcriber

PROGRESS_INTERVAL = 1.0
"""Seconds between progress writes (and events) however fast a stage reports."""


class RecordGone(NotFound):
    """The record was deleted (or marked for deletion) while a stage ran: drop its work."""


class Abandoned(Exception):
    """Raised in a stage's thread whose stage is no longer waiting for it."""


@dataclass
class Speech:
    """The process's transcription: its model and how many calls may use it at once."""

    transcriber: Transcriber
    slots: asyncio.Semaphore

    @classmethod
    def for_settings(cls, settings: Settings) -> Speech:
        from aica.speech.transcribe import Transcriber  # faster-whisper: workers only

        return cls(Transcriber(settings), asyncio.Semaphore(settings.worker_concurrency))


@dataclass
class StageRun:
    """One pass of the stages over a record, and what they may use."""

    record: Record
    project: Project
    runtime: Runtime
    profile_key: str
    speech: Speech | None = None
    """Only the record job transcribes."""
    job: bool = True
    """A record job keeps checkpoints and shows its stage and progress on the record; a
    re-analysis of a finished record does neither."""
    analysis: Analysis | None = None
    """Set by the analyze stage."""
    spoken: Spoken | None = None
    """A transcript handed over by the transcribe stage, not stored yet."""
    held: list[str] = field(default_factory=list)
    """Stages whose result was handed over: checkpointed with the next stage that finishes."""
    current: str | None = None
    """The stage running now; its progress goes from ``base`` to ``base + share`` percent."""
    base: int = 0
    share: int = 0
    _audio: Path | None = field(default=None, init=False, repr=False)
    _files: AsyncExitStack = field(default_factory=AsyncExitStack, init=False, repr=False)

    async def audio(self) -> Path:
        """The recording as a local file, fetched once however many stages read it (from
        object storage, one download per run); removed when the run ends."""
        if self._audio is None:
            copy = self.runtime.storage.local_copy(self.record.audio_key or "")
            self._audio = await self._files.enter_async_context(copy)
        return self._audio

    async def release(self) -> None:
        self._audio = None
        await self._files.aclose()

    async def save(self, **changes: Any) -> None:
        self.record.update_from_dict(changes)
        await self.record.save(update_fields=list(changes))

    async def update(self, **changes: Any) -> None:
        """Save fields of the record and tell its subscribers (not inside a transaction:
        they read the record when they hear of it)."""
        await self.save(**changes)
        await announce(self.runtime.events, self.record)

    @asynccontextmanager
    async def finishing(self, discard: str | None = None) -> AsyncIterator[None]:
        """The stage's final writes and its checkpoint, in one transaction.

        The record is locked first: a deletion marking it waits for the stage, or the stage
        finds the mark, writes nothing and deletes ``discard``, a file it stored for the
        record (the deletion cannot have seen it).
        """
        try:
            async with in_transaction():
                if not await deletion.hold_live(Record, self.record.id):
                    raise RecordGone("Record not found: it was deleted meanwhile")
                yield
                if self.job and self.current is not None and not self.finished(self.current):
                    done = [*self.record.stages_done, *self.held, str(self.current)]
                    await Record.filter(pk=self.record.id).update(stages_done=done)
                    self.record.stages_done = done
                self.held.clear()
        except RecordGone:
            await self.runtime.storage.delete(discard)
            raise

    def hand_over(self, spoken: Spoken) -> None:
        """Leave the current stage's result to the next one, unstored and unchecked: a crash
        before that one finishes runs this stage again."""
        self.spoken = spoken
        if self.current is not None:
            self.held.append(str(self.current))

    def finished(self, stage: str) -> bool:
        return self.job and str(stage) in self.record.stages_done

    @asynccontextmanager
    async def reporting(self) -> AsyncIterator[Callable[[float], None]]:
        """A thread-safe ``on_progress(fraction of this stage)`` for blocking work.

        Once the block is left (the stage cancelled: its worker is stopping), the next report
        raises :class:`Abandoned` in the thread, which ends work nobody waits for and lets
        the process exit.
        """
        loop = asyncio.get_running_loop()
        latest: asyncio.Queue[float] = asyncio.Queue()
        left = False

        def on_progress(fraction: float) -> None:
            if left:
                raise Abandoned
            loop.call_soon_threadsafe(latest.put_nowait, fraction)

        reporter = asyncio.create_task(self._report(latest))
        try:
            yield on_progress
        finally:
            left = True
            reporter.cancel()

    async def _report(self, latest: asyncio.Queue[float]) -> None:
        last_sent = 0.0
        while True:
            fraction = await latest.get()
            while not latest.empty():
                fraction = latest.get_nowait()
            percent = self.base + min(self.share, int(fraction * self.share))
            if percent > self.record.progress and time.monotonic() - last_sent >= PROGRESS_INTERVAL:
                last_sent = time.monotonic()
                await self.update(progress=percent)


StageFunction = Callable[[StageRun], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class StageSpec:
    name: str
    """A ``Stage`` value: shown as the record's ``stage`` while it runs."""
    share: int
    """Percent of the record's progress this stage covers (the shares add up to 100)."""
    run: StageFunction


async def download(run: StageRun) -> None:
    """Ingested records: fetch the audio (uploads arrive with it)."""
    if run.record.audio_key is None:
        fields = await recordings.fetch_audio(run.record, run.runtime.settings, run.runtime.storage)
        async with run.finishing(discard=fields["audio_key"]):
            await run.save(**fields)


async def transcribe(run: StageRun) -> None:
    if run.speech is None:
        raise RuntimeError("transcription needs the record job's Speech")
    speech, project = run.speech, run.project
    path = await run.audio()
    async with speech.slots, run.reporting() as on_progress:
        spoken = await asyncio.to_thread(
            speech.transcriber.transcribe,
            path,
            language=None if project.language == "auto" else project.language,
            languages=project.languages,
            agent_channel=project.agent_channel,
            on_progress=on_progress,
        )
    if project.redaction is RedactionMode.off:
        async with run.finishing():
            await transcripts.save_transcript(run.record, spoken)
    else:
        run.hand_over(spoken)  # the clear transcript is never stored


async def redact(run: StageRun) -> None:
    """Replace personal data in the transcript before anything reads it (analysis, search,
    webhooks); with ``text+audio`` also write the silenced copy of the audio."""
    mode = run.project.redaction
    if mode is RedactionMode.off:
        return
    spoken = run.spoken or await redaction.stored_transcript(run.record)
    tone = run.runtime.settings.redaction_audio == "tone"
    storage = run.runtime.storage
    prepared = await redaction.prepare(run.record, spoken, mode, storage, run.audio, tone=tone)
    async with run.finishing(discard=prepared.audio_key):
        stale = await redaction.store(run.record, prepared)
    run.spoken = None
    await run.runtime.storage.delete(stale)


async def separate(run: StageRun) -> None:
    """Mono calls: agent and customer told apart by voice (stereo: noted as by channel)."""
    settings = run.runtime.settings
    if run.speech is None:
        found = await speakers.separate(run.record, run.profile_key, settings, run.audio)
    else:
        async with run.speech.slots:
            found = await speakers.separate(run.record, run.profile_key, settings, run.audio)
    async with run.finishing():
        await speakers.save_separation(run.record, *found)


async def analyze(run: StageRun) -> None:
    profile, result = await analyses.score_record(run.record, run.profile_key)
    async with run.finishing():
        run.analysis = await analyses.save_analysis(run.record, profile, result)
        await outbox.queue_webhooks(
            run.record.org_id,
            run.record.project_id,
            outbox.ANALYSIS_COMPLETED,
            analyses.analysis_event(run.analysis),
        )


async def meter(run: StageRun) -> None:
    """The record's audio, once; a re-analysis is metered apart, at its own rate."""
    if run.job:
        kind, key = UsageKind.processing, f"{run.record.id}:processing"
    elif run.analysis is not None:
        kind, key = UsageKind.reanalysis, f"{run.analysis.id}:reanalysis"
    else:
        return
    async with run.finishing():
        await billing.meter(run.runtime.settings, run.record, kind, key)


async def alert(run: StageRun) -> None:
    """Judge the alert rules on the analysis just made (a resumed job: the record's current)."""
    analysis = run.analysis or await Analysis.get_or_none(pk=run.record.analysis_id or "")
    if analysis is None:
        return
    async with run.finishing():
        fired = await alerts.evaluate(run.runtime.settings, run.record, analysis)
    await alerts.publish(run.runtime.events, fired)


async def index(run: StageRun) -> None:
    """Queue the rebuild of the record's search documents: a job of its own, so a search
    backend that is down delays search, never the record."""
    async with run.finishing():
        await enqueue_indexing([run.record.id])


STAGES: tuple[StageSpec, ...] = (
    StageSpec(Stage.downloading, 0, download),
    StageSpec(Stage.transcribing, 85, transcribe),
    StageSpec(Stage.redacting, 0, redact),
    StageSpec(Stage.separating, 5, separate),
    StageSpec(Stage.analyzing, 10, analyze),
    StageSpec(Stage.indexing, 0, index),
    StageSpec(Stage.metering, 0, meter),
    StageSpec(Stage.alerting, 0, alert),
)
"""The record job's stages in order. Add a stage here (and its name to ``Stage``)."""


async def run_stages(
    run: StageRun, start: str | None = None, stages: Sequence[StageSpec] = STAGES
) -> None:
    """Run ``stages`` from ``start`` (default: the first), skipping checkpointed ones."""
    first = 0 if start is None else [s.name for s in stages].index(start)
    base = sum(s.share for s in stages[:first])
    try:
        for stage in stages[first:]:
            if not run.finished(stage.name):
                run.current, run.base, run.share = stage.name, base, stage.share
                if run.job:
                    await run.update(stage=stage.name, progress=max(run.record.progress, base))
                await stage.run(run)
                if run.job and not run.finished(stage.name) and stage.name not in run.held:
                    async with run.finishing():  # a stage with nothing to write checkpoints
                        pass
            base += stage.share
    finally:
        await run.release()


async def finish(runtime: Runtime, record: Record, status: RecordStatus, error: str | None) -> None:
    """End a record ``completed`` or ``failed``: webhooks (and, for a failure, the alert
    rules on it) and its re-indexing in the same transaction, then the announcement."""
    changes: dict[str, Any] = {"status": status, "stage": None, "completed_at": datetime.now(UTC)}
    changes.update({"progress": 100} if status is RecordStatus.completed else {"error": error})
    fired = []
    async with in_transaction():
        record.update_from_dict(changes)
        await record.save(update_fields=list(changes))
        event = (
            outbox.RECORD_COMPLETED if status is RecordStatus.completed else outbox.RECORD_FAILED
        )
        await outbox.queue_webhooks(record.org_id, record.project_id, event, record_event(record))
        if status is RecordStatus.failed:
            fired = await alerts.evaluate(runtime.settings, record, None)
        await enqueue_indexing([record.id])  # its status is a search filter
    await announce(runtime.events, record)
    await alerts.publish(runtime.events, fired)


def record_event(record: Record) -> dict[str, Any]:
    """What webhooks receive about a record."""
    return {
        "id": record.id,
        "projectId": record.project_id,
        "status": str(record.status),
        "error": record.error,
        "externalId": record.external_id,
        "agentName": record.agent_name,
        "duration": record.duration,
        "language": record.language,
        "qualityScore": record.quality_score,
        "analysisId": record.analysis_id,
        "completedAt": utc_iso(record.completed_at) if record.completed_at else None,
    }


async def reanalyze(actor: Actor, runtime: Runtime, analysis_id: str, profile_key: str) -> Analysis:
    """Score a finished record again with another profile, and run what follows analysis."""
    actor.require(Role.supervisor, "re-analyze calls")
    current = await analyses.get_analysis(actor, analysis_id)
    record = await Record.get(pk=current.record_id)
    project = await Project.get(pk=record.project_id)
    run = StageRun(record, project, runtime, profile_key, job=False)
    await run_stages(run, start=Stage.analyzing)
    assert run.analysis is not None  # the analyze stage sets it or raises
    return run.analysis


async def swap_speakers(actor: Actor, runtime: Runtime, record_id: str) -> Record:
    """A reviewer's swap of agent and customer, then the analysis again with the record's
    current profile, so agent-only criteria and talk ratio follow the corrected sides."""
    record = await speakers.swap(actor, record_id)
    current = await Analysis.get_or_none(pk=record.analysis_id or "")
    if current is not None:
        project = await Project.get(pk=record.project_id)
        run = StageRun(record, project, runtime, current.profile_key, job=False)
        await run_stages(run, start=Stage.analyzing)
    return record
