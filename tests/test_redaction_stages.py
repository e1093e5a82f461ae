# ruff: noqa: RUF001  (Russian lines: Cyrillic letters that look Latin are meant)
"""The redacting stage's checkpoints: the clear transcript is handed over in memory, never
stored, so a crash before redaction transcribes again; re-analysis reads the redacted one."""

from __future__ import annotations

import json
import wave
from collections.abc import AsyncIterator

import numpy as np
import pytest

from aica.models import Analysis, Record, RedactionMode, Role, Stage, Transcript
from aica.runtime import Runtime
from aica.services import pipeline
from aica.services.access import Actor
from aica.services.pipeline import STAGES, RecordGone, Speech, StageRun, run_stages
from aica.services.redaction import REDACTED_TAG
from tests.audio import AudioFactory
from tests.conftest import Tenant, make_project, make_settings
from tests.http_fixtures import audio_host, serving
from tests.stage_runs import Crash, crashing_after, deleted_during, ingested

CALL = "Please call me back. My phone number is 4 1 5, 5 5 5, 2 6 7 1. Thank you."


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return Runtime.from_settings(make_settings())


@pytest.fixture(scope="module")
def speech(runtime: Runtime) -> Speech:
    return Speech.for_settings(runtime.settings)


@pytest.fixture
async def audio_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    audio = AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")
    async with serving(audio_host({"call.wav": audio.speech(CALL, wpm=130)})) as host:
        yield f"{host}/files/call.wav"


def test_redaction_runs_after_transcription_and_before_anything_reads_the_transcript() -> None:
    names = [stage.name for stage in STAGES]
    assert names.index(Stage.transcribing) + 1 == names.index(Stage.redacting)
    assert names.index(Stage.redacting) < names.index(Stage.analyzing)
    assert names.index(Stage.redacting) < names.index(Stage.indexing)


async def test_a_run_that_died_before_redacting_stored_no_transcript_and_transcribes_again(
    tenant: Tenant, runtime: Runtime, speech: Speech, audio_url: str
) -> None:
    names = [stage.name for stage in STAGES]
    record, project = await ingested(tenant, audio_url, redaction=RedactionMode.text_and_audio)

    with pytest.raises(Crash):
        await run_stages(
            StageRun(record, project, runtime, "general", speech=speech),
            stages=crashing_after(Stage.transcribing, times=None),
        )
    stored = await Record.get(pk=record.id)
    assert stored.stages_done == ["downloading"]  # transcribing waits for redacting
    assert not await Transcript.exists(record_id=record.id)

    await run_stages(StageRun(stored, project, runtime, "general", speech=speech))
    stored = await Record.get(pk=record.id)
    assert stored.stages_done == names
    transcript = await Transcript.get(record_id=record.id)
    assert "[PHONE]" in transcript.text and "2671" not in transcript.text
    assert [span["kind"] for span in stored.redactions] == ["PHONE"]
    assert stored.redacted_audio_key is not None
    assert runtime.storage.path(stored.redacted_audio_key).is_file()


async def test_a_finished_redacted_record_reanalyzes_on_its_redacted_transcript(
    tenant: Tenant, runtime: Runtime, speech: Speech, audio_url: str
) -> None:
    record, project = await ingested(tenant, audio_url, redaction=RedactionMode.text_and_audio)
    await run_stages(StageRun(record, project, runtime, "general", speech=speech))
    before = await Transcript.get(record_id=record.id)
    record = await Record.get(pk=record.id)

    owner = Actor(tenant.owner.user_id, tenant.org_id, Role.owner)
    analysis = await pipeline.reanalyze(owner, runtime, record.analysis_id or "", "sales")

    after = await Transcript.get(record_id=record.id)
    assert (after.text, after.created_at) == (before.text, before.created_at)
    assert analysis.profile_key == "sales"
    assert await Analysis.filter(record_id=record.id).count() == 2
    assert "2671" not in json.dumps(analysis.result) + analysis.summary


async def test_with_the_tone_setting_the_redacted_copy_beeps_where_the_number_was(
    tenant: Tenant, speech: Speech, audio_url: str
) -> None:
    runtime = Runtime.from_settings(make_settings(redaction_audio="tone"))
    record, project = await ingested(tenant, audio_url, redaction=RedactionMode.text_and_audio)
    await run_stages(StageRun(record, project, runtime, "general", speech=speech))
    record = await Record.get(pk=record.id)

    [span] = record.redactions
    with wave.open(str(runtime.storage.path(record.redacted_audio_key or ""))) as copy:
        rate = copy.getframerate()
        samples = np.frombuffer(copy.readframes(copy.getnframes()), "<i2") / 32768
    covered = samples[int(span["start"] * rate) : int(span["end"] * rate)]
    assert abs(float(np.sqrt(np.mean(covered**2))) - 0.1 / np.sqrt(2)) < 0.01
    spectrum = np.abs(np.fft.rfft(covered))
    assert abs(float(np.fft.rfftfreq(len(covered), 1 / rate)[spectrum.argmax()]) - 1000) < 5


async def test_a_russian_transcript_stored_before_redaction_was_turned_on_is_redacted_on_resume(
    tenant: Tenant, runtime: Runtime
) -> None:
    lines = [
        ("Здравствуйте, номер моей карты четыре пять три девять один четыре восемь восемь "
         "ноль три четыре три шесть четыре шесть семь."),
        "Мой телефон восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь.",
        "Почта иван собака яндекс точка ру, спасибо.",
    ]  # fmt: skip
    segments, at = [], 0.5
    for line in lines:
        words = [
            {"start": at + i * 0.4, "end": at + i * 0.4 + 0.3, "word": w, "probability": 0.9}
            for i, w in enumerate(line.split())
        ]
        segments.append(
            {"start": at, "end": words[-1]["end"], "speaker": "customer", "channel": 1,
             "text": line, "words": words}
        )  # fmt: skip
        at = words[-1]["end"] + 1.0
    project = await make_project(tenant.org_id, redaction=RedactionMode.text, language="ru")
    record = await Record.create(
        org_id=tenant.org_id, project=project, duration=at, channels=2, language="ru",
        stages_done=["downloading", "transcribing"],
    )  # fmt: skip
    await Transcript.create(record=record, language="ru", text=" ".join(lines), segments=segments)

    await run_stages(StageRun(record, project, runtime, "general"))  # no transcriber needed

    transcript = await Transcript.get(record_id=record.id)
    assert transcript.text == (
        "Здравствуйте, номер моей карты [CARD]. Мой телефон [PHONE]. Почта [EMAIL], спасибо."
    )
    record = await Record.get(pk=record.id)
    assert [s["kind"] for s in record.redactions] == ["CARD", "PHONE", "EMAIL"]
    assert record.redacted_audio_key is None  # text only
    analysis = await Analysis.get(pk=record.analysis_id)
    said = json.dumps(analysis.result, ensure_ascii=False) + analysis.summary
    assert not any(word in said for word in ("девять", "шестнадцать", "иван", "яндекс"))


async def test_a_record_deleted_while_its_silenced_copy_was_written_keeps_neither_copy_nor_text(
    tenant: Tenant, runtime: Runtime, speech: Speech, audio_url: str
) -> None:
    record, project = await ingested(tenant, audio_url, redaction=RedactionMode.text_and_audio)

    stages = deleted_during(Stage.redacting, runtime.settings, record.id)
    with pytest.raises(RecordGone):
        await run_stages(
            StageRun(record, project, runtime, "general", speech=speech), stages=stages
        )
    assert not await Transcript.exists(record_id=record.id)
    copy = runtime.storage.derived_key(record.audio_key or "", REDACTED_TAG)
    assert not runtime.storage.path(copy).exists()
    assert runtime.storage.path(record.audio_key or "").exists()  # the deletion's to remove
