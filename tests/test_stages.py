"""The record pipeline's stage list: checkpoints, resuming after a crash, re-analysis.

The stages run in this process on records made through the ORM (no job is queued, so the
suite's own consumers never touch them); the audio comes from a real HTTP server.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import pytest

from aica.models import Analysis, Project, Record, Role, Stage, Transcript
from aica.runtime import Runtime
from aica.services import pipeline
from aica.services.access import Actor
from aica.services.pipeline import STAGES, RecordGone, Speech, StageRun, run_stages
from tests.audio import AudioFactory
from tests.conftest import Tenant, make_settings
from tests.http_fixtures import audio_host, serving
from tests.stage_runs import Crash, crashing_after, deleted_during, ingested

GREETING = "Hello, thank you for calling support. My name is Anna. How can I help you today?"


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return Runtime.from_settings(make_settings())


@pytest.fixture(scope="module")
def speech(runtime: Runtime) -> Speech:
    return Speech.for_settings(runtime.settings)


@pytest.fixture
async def audio_url(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[str, Counter[str]]]:
    audio = AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")
    hits: Counter[str] = Counter()
    async with serving(audio_host({"call.wav": audio.speech(GREETING)}, hits)) as host:
        yield f"{host}/files/call.wav", hits


async def processed(
    tenant: Tenant, url: str, runtime: Runtime, speech: Speech
) -> tuple[Record, Project]:
    """A record that went through every stage, as stored afterwards."""
    record, project = await ingested(tenant, url)
    await run_stages(StageRun(record, project, runtime, "general", speech=speech))
    return await Record.get(pk=record.id), project


def test_the_stages_are_named_once_and_share_all_of_the_progress() -> None:
    names = [stage.name for stage in STAGES]
    assert len(set(names)) == len(names)
    assert sum(stage.share for stage in STAGES) == 100
    assert names.index(Stage.transcribing) < names.index(Stage.analyzing)


async def test_a_run_that_died_after_transcribing_resumes_without_transcribing_again(
    tenant: Tenant,
    runtime: Runtime,
    speech: Speech,
    audio_url: tuple[str, Counter[str]],
) -> None:
    url, hits = audio_url
    stages = crashing_after(Stage.transcribing)
    record, project = await ingested(tenant, url)

    with pytest.raises(Crash):
        await run_stages(
            StageRun(record, project, runtime, "general", speech=speech), stages=stages
        )
    stored = await Record.get(pk=record.id)
    assert stored.stages_done == ["downloading", "transcribing"]
    transcribed_at = (await Transcript.get(record_id=record.id)).created_at
    assert await Analysis.filter(record_id=record.id).count() == 0

    # The re-run has no transcriber at all: reaching the transcribe stage would raise.
    await run_stages(StageRun(stored, project, runtime, "general"), stages=stages)
    stored = await Record.get(pk=record.id)
    assert stored.stages_done == [stage.name for stage in stages]
    assert (await Transcript.get(record_id=record.id)).created_at == transcribed_at
    assert await Analysis.filter(record_id=record.id).count() == 1
    assert stored.analysis_id is not None
    assert hits["call.wav"] == 1


async def test_running_the_stages_of_a_finished_record_again_changes_nothing(
    tenant: Tenant,
    runtime: Runtime,
    speech: Speech,
    audio_url: tuple[str, Counter[str]],
) -> None:
    url, hits = audio_url
    before, project = await processed(tenant, url, runtime, speech)

    await run_stages(StageRun(before, project, runtime, "general"))
    after = await Record.get(pk=before.id)
    assert after.stages_done == before.stages_done == [stage.name for stage in STAGES]
    assert after.analysis_id == before.analysis_id
    assert await Analysis.filter(record_id=before.id).count() == 1
    assert hits["call.wav"] == 1


async def test_a_reanalysis_runs_the_stages_from_analysis_on_without_transcribing(
    tenant: Tenant,
    runtime: Runtime,
    speech: Speech,
    audio_url: tuple[str, Counter[str]],
) -> None:
    url, _ = audio_url
    first, _ = await processed(tenant, url, runtime, speech)
    transcribed_at = (await Transcript.get(record_id=first.id)).created_at
    supervisor = Actor(tenant.owner.user_id, tenant.org_id, Role.owner)

    analysis = await pipeline.reanalyze(supervisor, runtime, first.analysis_id or "", "sales")

    after = await Record.get(pk=first.id)
    assert analysis.profile_key == "sales"
    assert after.analysis_id == analysis.id != first.analysis_id
    assert (await Transcript.get(record_id=first.id)).created_at == transcribed_at
    assert (after.stage, after.progress, after.stages_done) == (
        first.stage,
        first.progress,
        first.stages_done,
    )


async def test_a_recording_downloaded_for_a_record_deleted_meanwhile_is_not_kept(
    tenant: Tenant, runtime: Runtime, speech: Speech, audio_url: tuple[str, Counter[str]]
) -> None:
    url, hits = audio_url
    record, project = await ingested(tenant, url)
    stages = deleted_during(Stage.downloading, runtime.settings, record.id)

    with pytest.raises(RecordGone):
        await run_stages(
            StageRun(record, project, runtime, "general", speech=speech), stages=stages
        )
    assert hits["call.wav"] == 1
    assert (await Record.get(pk=record.id)).audio_key is None
    assert not runtime.storage.path(f"{tenant.org_id}/{record.id}.wav").exists()
