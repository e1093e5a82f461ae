"""Mono calls through the pipeline: voices separated, the greeter named agent, the record says
how, and a reviewer's swap re-scores the call with the sides exchanged."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aica.models import Project, Record, Role, Transcript
from aica.runtime import Runtime
from aica.services import speakers
from aica.services.pipeline import Speech, StageRun, run_stages
from aica.transcript import segment_from_json
from tests.audio import AudioFactory
from tests.conftest import Tenant, error_code, gql, make_project, make_record, make_settings
from tests.http_fixtures import audio_host, serving

AGENT, CUSTOMER = "en-us", "en+f3"
LINES = [  # the customer speaks first: the greeting, not the order, must name the agent
    (CUSTOMER, "I am calling about my order, it arrived broken."),
    (AGENT, "Thank you for calling Acme support, my name is Anna, how can I help you today?"),
    (CUSTOMER, "The glass jar of my blender is cracked all the way down."),
    (AGENT, "I am sorry to hear that. I will send a replacement today."),
    (CUSTOMER, "That would be great, thank you so much."),
    (AGENT, "You are welcome. Is there anything else I can help you with?"),
]

RECORD = """query ($id: ID!) { record(id: $id) {
  speakerSeparation { method confidence namedBy namingConfidence swapped detail }
  analysis { id metrics { talkRatio overtalk } criteria { key passed } } } }"""
SWAP = """mutation ($id: ID!) { swapSpeakers(recordId: $id) {
  id speakerSeparation { method swapped } } }"""


async def unheard() -> Path:
    """The recording, for a separation that must decide without listening to it."""
    raise AssertionError("the recording was fetched")


@pytest.fixture(scope="module")
def runtime(speakers_data_dir: Path) -> Runtime:
    return Runtime.from_settings(make_settings(data_dir=speakers_data_dir))


@pytest.fixture(scope="module")
def call(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[float, float, str]]]:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache").conversation(LINES)


@pytest.fixture
async def separated(
    tenant: Tenant, runtime: Runtime, call: tuple[Path, list[tuple[float, float, str]]]
) -> AsyncIterator[tuple[Record, list[tuple[float, float, str]]]]:
    """The mono call run through every stage with the speakers model installed."""
    path, truth = call
    project = await make_project(tenant.org_id)
    async with serving(audio_host({"call.wav": path})) as host:
        record = await Record.create(
            org_id=tenant.org_id,
            project=project,
            source="ingest",
            audio_url=f"{host}/files/call.wav",
            external_id=secrets.token_hex(4),
        )
        speech = Speech.for_settings(runtime.settings)
        await run_stages(StageRun(record, project, runtime, "general", speech=speech))
    yield await Record.get(pk=record.id), truth


def passed(record: dict[str, Any], key: str) -> bool | None:
    criteria = {c["key"]: c["passed"] for c in record["analysis"]["criteria"]}
    return criteria[key]


async def test_a_mono_call_is_separated_and_the_greeter_is_the_agent(
    separated: tuple[Record, list[tuple[float, float, str]]], runtime: Runtime
) -> None:
    record, truth = separated
    found = record.speaker_separation or {}
    assert found["method"] == "diarization"
    assert found["namedBy"] == "greeting"
    assert 0.5 <= found["confidence"] <= 1.0

    segments = [segment_from_json(s) for s in (await Transcript.get(record_id=record.id)).segments]
    right = total = 0.0
    for word in (w for s in segments for w in s.words):
        middle = (word.start + word.end) / 2
        line = next((t for t in truth if t[0] - 0.3 <= middle <= t[1] + 0.3), None)
        if line is not None:
            expected = "agent" if line[2] == AGENT else "customer"
            side = next(s.speaker for s in segments if word in s.words)
            total += word.end - word.start
            right += (word.end - word.start) * (side == expected)
    assert total > 10.0
    assert right / total >= 0.9

    # separating again (a re-run) keeps what was found rather than call it stereo
    again = await speakers.separate(record, "general", runtime.settings, unheard)
    assert again == (None, found)


async def test_the_swap_rescores_with_agent_and_customer_exchanged(
    client: httpx.AsyncClient,
    tenant: Tenant,
    separated: tuple[Record, list[tuple[float, float, str]]],
) -> None:
    record, _ = separated
    before = (await gql(client, RECORD, {"id": record.id}, tenant.headers))["data"]["record"]
    assert before["speakerSeparation"]["swapped"] is False
    assert passed(before, "greet") is True
    assert passed(before, "introduce") is True
    ratio = before["analysis"]["metrics"]["talkRatio"]
    assert 0.5 < ratio < 0.8  # the agent's lines are the longer ones
    assert before["analysis"]["metrics"]["overtalk"] is None  # one voice at a time on mono

    supervisor = await tenant.add(Role.supervisor)
    swapped = await gql(client, SWAP, {"id": record.id}, supervisor.headers)
    assert swapped["data"]["swapSpeakers"]["speakerSeparation"] == {
        "method": "diarization",
        "swapped": True,
    }
    after = (await gql(client, RECORD, {"id": record.id}, tenant.headers))["data"]["record"]
    assert after["analysis"]["id"] != before["analysis"]["id"]
    assert passed(after, "greet") is False  # the "agent" is now the caller, who never greets
    assert passed(after, "introduce") is False
    assert after["analysis"]["metrics"]["talkRatio"] == pytest.approx(1 - ratio, abs=0.01)


async def test_only_supervisors_of_the_org_may_swap(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    record = await make_record(
        project,
        speaker_separation={"method": "diarization", "confidence": 0.9, "swapped": False},
    )
    agent = await tenant.add(Role.agent, agent_name="John Smith")
    denied = await gql(client, SWAP, {"id": record.id}, agent.headers)
    assert error_code(denied) == "FORBIDDEN"
    hidden = await gql(client, SWAP, {"id": record.id}, other_tenant.headers)
    assert error_code(hidden) == "NOT_FOUND"
    seen = await gql(client, RECORD, {"id": record.id}, other_tenant.headers)
    assert error_code(seen) == "NOT_FOUND"
    assert (await Record.get(pk=record.id)).speaker_separation == {
        "method": "diarization",
        "confidence": 0.9,
        "swapped": False,
    }


async def test_a_call_whose_speakers_are_not_separated_cannot_be_swapped(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project: Project = await make_project(tenant.org_id)
    record = await make_record(
        project, speaker_separation={"method": "none", "confidence": None, "swapped": False}
    )
    body = await gql(client, SWAP, {"id": record.id}, tenant.headers)
    assert error_code(body) == "CONFLICT"
    assert "not separated" in body["errors"][0]["message"]


async def stored_call(tenant: Tenant, *speakers: str) -> Record:
    project = await make_project(tenant.org_id)
    record = await make_record(project, channels=1 if "unknown" in speakers else 2)
    segments = [
        {
            "start": i * 2.0,
            "end": i * 2.0 + 1.5,
            "speaker": s,
            "channel": 0,
            "text": "hello",
            "words": [],
        }
        for i, s in enumerate(speakers)
    ]
    await Transcript.create(record_id=record.id, language="en", text="hello", segments=segments)
    return record


async def test_a_stereo_call_is_separated_by_its_channels(tenant: Tenant, tmp_path: Path) -> None:
    record = await stored_call(tenant, "agent", "customer")
    segments, found = await speakers.separate(
        record, "general", make_settings(data_dir=tmp_path), unheard
    )
    assert segments is None
    assert (found["method"], found["namedBy"], found["confidence"]) == ("channels", "channel", 1.0)


async def test_without_the_speakers_model_a_mono_call_says_its_sides_are_unknown(
    tenant: Tenant, tmp_path: Path
) -> None:
    record = await stored_call(tenant, "unknown", "unknown")
    segments, found = await speakers.separate(
        record, "general", make_settings(data_dir=tmp_path), unheard
    )
    assert segments is None
    assert found["method"] == "none"
    assert "aica models install speakers" in found["detail"]
