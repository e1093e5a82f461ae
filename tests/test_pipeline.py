"""Upload and ingest through the running service to a transcript, live over the WebSocket."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aica.models import Record, RecordStatus, Role, Transcript
from tests.audio import AudioFactory, Turn
from tests.conftest import (
    DATA_DIR,
    Tenant,
    assert_rest_error,
    finished,
    make_project,
    make_settings,
    running_server,
    upload,
)
from tests.http_fixtures import audio_host, serving
from tests.ws import subscriptions

GREETING = "Hello, thank you for calling support. How can I help you today?"
RECORD_UPDATED = """
subscription Updated($projectId: ID!) {
  recordUpdated(projectId: $projectId) { id status progress stage }
}
"""
RECORD_COMPLETED = """
subscription Completed($projectId: ID!) {
  recordCompleted(projectId: $projectId) { id status progress completedAt language }
}
"""


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


def stored_files() -> list[Path]:
    return [p for p in DATA_DIR.rglob("*") if p.is_file()]


async def test_uploaded_call_is_transcribed_and_its_progress_is_pushed_live(
    client: httpx.AsyncClient, base_url: str, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    async with subscriptions(base_url, f"Bearer {tenant.owner.token}", tenant.org_id) as live:
        await live.subscribe(RECORD_UPDATED, {"projectId": project.id})
        await live.subscribe(RECORD_COMPLETED, {"projectId": project.id})
        await asyncio.sleep(0.2)  # let the server start both subscriptions

        response = await upload(client, tenant, project.id, audio.encoded(GREETING, "mp3"))
        assert response.status_code == 201, response.text
        created = response.json()["data"]
        assert set(created) == {"id", "status", "projectId", "createdAt"}
        assert created["status"] == "pending"

        completed = await live.until(lambda p: "recordCompleted" in p["data"])

    record = completed["data"]["recordCompleted"]
    assert record["id"] == created["id"]
    assert (record["status"], record["progress"], record["language"]) == ("completed", 100, "en")
    assert record["completedAt"].endswith("Z")

    transcript = await client.get(
        f"/api/v1/records/{created['id']}/transcript", headers=tenant.headers
    )
    body = transcript.json()["data"]
    assert body["language"] == "en"
    assert {"thank", "calling", "support", "help"} <= set(words(body["text"]))
    segment = body["segments"][0]
    assert segment["speaker"] == "unknown" and segment["channel"] == 0
    assert segment["words"] and all(w["start"] <= w["end"] for w in segment["words"])

    analyses = await client.get(
        "/api/v1/analyses", params={"recordId": created["id"]}, headers=tenant.headers
    )
    [analysis] = analyses.json()["data"]
    assert set(analysis["categories"]) == {
        "greeting",
        "problemResolution",
        "professionalism",
        "closing",
    }
    stored = (await client.get(f"/api/v1/records/{created['id']}", headers=tenant.headers)).json()
    assert stored["data"]["qualityScore"] == analysis["qualityScore"]


async def test_record_updated_tells_each_change_once_from_pending_to_completed(
    client: httpx.AsyncClient, base_url: str, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    async with subscriptions(base_url, f"Bearer {tenant.owner.token}", tenant.org_id) as live:
        await live.subscribe(RECORD_UPDATED, {"projectId": project.id})
        await asyncio.sleep(0.2)
        response = await upload(client, tenant, project.id, audio.encoded(GREETING, "mp3"))
        assert response.status_code == 201, response.text
        seen = []
        while not seen or seen[-1]["status"] != "completed":
            payload = await live.until(lambda p: "recordUpdated" in p["data"])
            seen.append(payload["data"]["recordUpdated"])
        with pytest.raises(TimeoutError):  # nothing after completion, no second "completed"
            await live.receive(wait=1.0)

    assert {event["id"] for event in seen} == {response.json()["data"]["id"]}
    order = ["pending", "processing", "completed"]
    statuses = [event["status"] for event in seen]
    assert statuses[0] == "pending"
    assert statuses == sorted(statuses, key=order.index)
    changes = [(e["status"], e["progress"], e["stage"]) for e in seen]
    assert len(changes) == len(set(changes)), changes
    assert [e["progress"] for e in seen] == sorted(e["progress"] for e in seen)


async def test_transcript_of_another_org_is_not_found(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    created = (await upload(client, tenant, project.id, audio.speech(GREETING))).json()["data"]
    await finished(client, tenant, created["id"])
    for path in ("transcript", "audio"):
        response = await client.get(
            f"/api/v1/records/{created['id']}/{path}", headers=other_tenant.headers
        )
        assert_rest_error(response, 404, "NOT_FOUND")


async def test_subscription_to_another_orgs_project_is_refused(
    base_url: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    async with subscriptions(
        base_url, f"Bearer {other_tenant.owner.token}", other_tenant.org_id
    ) as live:
        await live.subscribe(RECORD_UPDATED, {"projectId": project.id})
        message = await live.receive()
    assert message["type"] in ("error", "next"), message
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("fmt", ["wav", "ogg", "flac", "m4a"])
async def test_every_accepted_format_is_stored_with_its_sniffed_format(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory, fmt: str
) -> None:
    project = await make_project(tenant.org_id)
    path = audio.encoded("Please hold the line.", fmt)
    renamed = path.with_name(f"misleading-{fmt}.bin")
    renamed.write_bytes(path.read_bytes())
    created = (await upload(client, tenant, project.id, renamed)).json()["data"]
    record = await Record.get(pk=created["id"])
    assert record.format == fmt
    assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record.size == path.stat().st_size


# --- bad uploads: a clear 4xx, and nothing kept ------------------------------------------


def text_as_wav(tmp_path: Path) -> Path:
    path = tmp_path / "notes.wav"
    path.write_text("These are meeting notes, not audio.\n" * 20)
    return path


def empty_file(tmp_path: Path) -> Path:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        (text_as_wav, 415, "UNSUPPORTED_MEDIA_TYPE"),
        (empty_file, 400, "BAD_USER_INPUT"),
    ],
)
async def test_bad_files_are_rejected_and_leave_no_file_and_no_row(
    client: httpx.AsyncClient,
    tenant: Tenant,
    tmp_path: Path,
    make: Any,
    status: int,
    code: str,
) -> None:
    project = await make_project(tenant.org_id)
    before = stored_files()
    response = await upload(client, tenant, project.id, make(tmp_path))
    assert_rest_error(response, status, code)
    assert stored_files() == before
    assert not await Record.filter(project_id=project.id).exists()


async def test_truncated_mp3_is_rejected(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory, tmp_path: Path
) -> None:
    project = await make_project(tenant.org_id)
    whole = audio.encoded(GREETING, "mp3").read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole[: len(whole) // 3])
    error = assert_rest_error(await upload(client, tenant, project.id, cut), 400, "BAD_USER_INPUT")
    assert error.get("reason") in ("truncated", "undecodable")
    assert not await Record.filter(project_id=project.id).exists()


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"projectId": "proj_doesnotexist"}, 404, "NOT_FOUND"),
        ({"metadata": "{not json"}, 400, "BAD_USER_INPUT"),
        ({"metadata": '["a list"]'}, 400, "BAD_USER_INPUT"),
        ({"projectId": None}, 400, "BAD_USER_INPUT"),
    ],
)
async def test_bad_upload_fields_are_rejected_and_leave_nothing(
    client: httpx.AsyncClient,
    tenant: Tenant,
    audio: AudioFactory,
    fields: dict[str, str | None],
    status: int,
    code: str,
) -> None:
    project = await make_project(tenant.org_id)
    data = {"projectId": project.id, "metadata": "{}", **fields}
    before = stored_files()
    response = await client.post(
        "/api/v1/records/upload",
        headers=tenant.headers,
        files={"file": ("call.wav", audio.speech(GREETING).read_bytes(), "audio/wav")},
        data={k: v for k, v in data.items() if v is not None},
    )
    assert_rest_error(response, status, code)
    assert stored_files() == before
    assert not await Record.filter(org_id=tenant.org_id).exists()


async def test_upload_into_another_orgs_project_is_not_found(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, audio: AudioFactory
) -> None:
    theirs = await make_project(other_tenant.org_id)
    response = await upload(client, tenant, theirs.id, audio.speech(GREETING))
    assert_rest_error(response, 404, "NOT_FOUND")
    assert not await Record.filter(project_id=theirs.id).exists()


async def test_upload_without_a_file_part_is_bad_input(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    response = await client.post(
        "/api/v1/records/upload",
        headers=tenant.headers,
        files={"other": ("x.txt", b"x", "text/plain")},
        data={"projectId": project.id},
    )
    assert_rest_error(response, 400, "BAD_USER_INPUT")


async def test_upload_that_is_not_multipart_is_415(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.post(
        "/api/v1/records/upload", headers=tenant.headers, json={"file": "x"}
    )
    assert_rest_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


# --- audio streaming ----------------------------------------------------------------------


@pytest.fixture
async def stored(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> tuple[str, bytes]:
    project = await make_project(tenant.org_id)
    path = audio.speech(GREETING)
    created = (await upload(client, tenant, project.id, path)).json()["data"]
    return created["id"], path.read_bytes()


async def test_audio_streams_whole_with_type_and_etag(
    client: httpx.AsyncClient, tenant: Tenant, stored: tuple[str, bytes]
) -> None:
    record_id, data = stored
    response = await client.get(f"/api/v1/records/{record_id}/audio", headers=tenant.headers)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert response.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", slice(0, 10)),
        ("bytes=100-", slice(100, None)),
        ("bytes=-10", slice(-10, None)),
    ],
)
async def test_audio_byte_ranges_return_206_with_exactly_those_bytes(
    client: httpx.AsyncClient,
    tenant: Tenant,
    stored: tuple[str, bytes],
    header: str,
    expected: slice,
) -> None:
    record_id, data = stored
    response = await client.get(
        f"/api/v1/records/{record_id}/audio", headers={**tenant.headers, "Range": header}
    )
    assert response.status_code == 206
    assert response.content == data[expected]
    assert response.headers["content-range"].endswith(f"/{len(data)}")


async def test_audio_range_beyond_the_end_is_416(
    client: httpx.AsyncClient, tenant: Tenant, stored: tuple[str, bytes]
) -> None:
    record_id, data = stored
    response = await client.get(
        f"/api/v1/records/{record_id}/audio",
        headers={**tenant.headers, "Range": f"bytes={len(data) + 10}-"},
    )
    assert_rest_error(response, 416, "RANGE_NOT_SATISFIABLE")
    assert response.headers["content-range"] == f"bytes */{len(data)}"


@pytest.mark.parametrize("header", ["bytes=5-2", "items=0-10", "bytes"])
async def test_a_malformed_audio_range_is_bad_input_naming_the_header(
    client: httpx.AsyncClient, tenant: Tenant, stored: tuple[str, bytes], header: str
) -> None:
    record_id, _ = stored
    response = await client.get(
        f"/api/v1/records/{record_id}/audio", headers={**tenant.headers, "Range": header}
    )
    assert assert_rest_error(response, 400, "BAD_USER_INPUT")["field"] == "Range"


async def test_deleting_a_record_removes_its_audio_file(
    client: httpx.AsyncClient, tenant: Tenant, stored: tuple[str, bytes]
) -> None:
    record_id, _ = stored
    record = await Record.get(pk=record_id)
    path = DATA_DIR / "audio" / (record.audio_key or "")
    assert path.is_file()
    response = await client.delete(f"/api/v1/records/{record_id}", headers=tenant.headers)
    assert response.status_code == 204
    assert not path.exists()
    assert not await Transcript.filter(record_id=record_id).exists()


# --- ingest: the pipeline downloads -------------------------------------------------------


@pytest.fixture
async def host(audio: AudioFactory) -> AsyncIterator[str]:
    async with serving(audio_host({"call.flac": audio.encoded(GREETING, "flac")})) as url:
        yield url


async def test_ingested_url_is_downloaded_and_transcribed(
    client: httpx.AsyncClient, tenant: Tenant, host: str
) -> None:
    project = await make_project(tenant.org_id)
    body = {"projectId": project.id, "audioUrl": f"{host}/files/call.flac", "externalId": "c-1"}
    created = await client.post("/api/v1/records/ingest", json=body, headers=tenant.headers)
    record = await finished(client, tenant, created.json()["data"]["id"])
    assert record["status"] == "completed", record
    assert record["format"] == "flac"
    transcript = await Transcript.get(record_id=record["id"])
    assert {"thank", "calling"} <= set(words(transcript.text))


async def test_ingested_url_that_404s_fails_the_record_with_the_reason(
    client: httpx.AsyncClient, tenant: Tenant, host: str
) -> None:
    project = await make_project(tenant.org_id)
    body = {"projectId": project.id, "audioUrl": f"{host}/files/gone.mp3", "externalId": "c-2"}
    created = await client.post("/api/v1/records/ingest", json=body, headers=tenant.headers)
    record = await finished(client, tenant, created.json()["data"]["id"])
    assert record["status"] == "failed"
    assert "HTTP 404" in record["error"]
    assert (await Record.get(pk=record["id"])).status == RecordStatus.failed


# --- size limits, GraphQL multipart, stereo calls ---------------------------------------------


@pytest.fixture
async def small_limit(base_url: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A second API process allowing uploads of at most LIMIT bytes."""
    settings = make_settings(max_upload_bytes=LIMIT)
    async with (
        running_server(settings, database_url, lifespan="off") as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield client


LIMIT = 50_000


async def test_a_file_one_byte_over_the_limit_is_413_and_leaves_nothing(
    small_limit: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    speech = audio.speech(GREETING).read_bytes()
    assert len(speech) > LIMIT + 1
    before = stored_files()
    response = await small_limit.post(
        "/api/v1/records/upload",
        headers=tenant.headers,
        files={"file": ("call.wav", speech[: LIMIT + 1], "audio/wav")},
        data={"projectId": project.id},
    )
    assert_rest_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert stored_files() == before
    assert not await Record.filter(project_id=project.id).exists()


async def test_the_limit_holds_whatever_content_length_says(
    small_limit: httpx.AsyncClient, tenant: Tenant
) -> None:
    """A chunked body (no Content-Length) is cut off while streaming."""
    project = await make_project(tenant.org_id)
    boundary = "aicaboundary"

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="projectId"\r\n\r\n'
            f'{project.id}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n'
        ).encode()
        for _ in range(20):
            yield b"\0" * 10_000
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await small_limit.post(
        "/api/v1/records/upload",
        headers={**tenant.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body(),
    )
    assert_rest_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert not await Record.filter(project_id=project.id).exists()


UPLOAD_MUTATION = """
mutation Upload($input: UploadRecordInput!) {
  uploadRecord(input: $input) { id status format agentName }
}
"""


async def test_graphql_multipart_upload_creates_a_record(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    """The GraphQL multipart request spec: operations + map + the file part."""
    project = await make_project(tenant.org_id)
    operations = {
        "query": UPLOAD_MUTATION,
        "variables": {
            "input": {"projectId": project.id, "file": None, "metadata": {"agentName": "Ann"}}
        },
    }
    response = await client.post(
        "/graphql",
        headers=tenant.headers,
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("call.ogg", audio.encoded(GREETING, "ogg").read_bytes(), "audio/ogg")},
    )
    assert response.status_code == 200, response.text
    created = response.json()["data"]["uploadRecord"]
    assert (created["status"], created["format"], created["agentName"]) == ("pending", "ogg", "Ann")


async def test_graphql_upload_of_a_text_file_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, tmp_path: Path
) -> None:
    project = await make_project(tenant.org_id)
    operations = {
        "query": UPLOAD_MUTATION,
        "variables": {"input": {"projectId": project.id, "file": None}},
    }
    response = await client.post(
        "/graphql",
        headers=tenant.headers,
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("notes.wav", text_as_wav(tmp_path).read_bytes(), "audio/wav")},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert not await Record.filter(project_id=project.id).exists()


STEREO = [
    Turn(0, 0.3, "Good morning, thank you for calling Acme support."),
    Turn(1, 4.5, "Hi, my internet connection keeps dropping every evening."),
    Turn(0, 9.5, "I am sorry to hear that, let me check your line right now."),
]


@pytest.mark.parametrize("agent_channel", [0, 1])
async def test_stereo_call_is_split_into_agent_and_customer_by_the_projects_channel(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory, agent_channel: int
) -> None:
    project = await make_project(tenant.org_id, agent_channel=agent_channel)
    created = (await upload(client, tenant, project.id, audio.call(STEREO))).json()["data"]
    record = await finished(client, tenant, created["id"])
    assert record["status"] == "completed" and record["channels"] == 2
    transcript = (
        await client.get(f"/api/v1/records/{created['id']}/transcript", headers=tenant.headers)
    ).json()["data"]
    by_speaker: dict[str, set[str]] = {}
    for segment in transcript["segments"]:
        by_speaker.setdefault(segment["speaker"], set()).update(words(segment["text"]))
    left, right = ("agent", "customer") if agent_channel == 0 else ("customer", "agent")
    assert {"morning", "support"} <= by_speaker[left]
    assert {"internet", "evening"} <= by_speaker[right]
    starts = [s["start"] for s in transcript["segments"]]
    assert starts == sorted(starts)


# --- review fixes: nothing streamed before auth, the phone not in metadata, files go ---------


async def test_upload_is_refused_before_its_body_is_stored_without_rights(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    agent = await tenant.add(Role.agent, agent_name="Ann")
    before = stored_files()
    for headers, status, code in (
        ({}, 401, "UNAUTHENTICATED"),
        (
            {"Authorization": "Bearer nope", "X-Selected-Org-ID": tenant.org_id},
            401,
            "UNAUTHENTICATED",
        ),
        (agent.headers, 403, "FORBIDDEN"),
    ):
        response = await client.post(
            "/api/v1/records/upload",
            headers=headers,
            files={"file": ("call.wav", audio.speech(GREETING).read_bytes(), "audio/wav")},
            data={"projectId": project.id},
        )
        assert_rest_error(response, status, code)
    assert stored_files() == before
    assert not await Record.filter(project_id=project.id).exists()


async def test_the_customers_phone_is_kept_in_its_column_not_in_metadata(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    metadata = '{"customerPhone": "+15551234567", "queue": "billing"}'
    created = (await upload(client, tenant, project.id, audio.speech(GREETING), metadata)).json()
    record = await Record.get(pk=created["data"]["id"])
    assert record.customer_phone == "+15551234567"
    assert record.metadata == {"queue": "billing"}


async def test_deleting_a_project_removes_its_records_audio(
    client: httpx.AsyncClient, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    created = (await upload(client, tenant, project.id, audio.speech(GREETING))).json()["data"]
    record = await Record.get(pk=created["id"])
    path = DATA_DIR / "audio" / (record.audio_key or "")
    assert path.is_file()
    response = await client.delete(f"/api/v1/projects/{project.id}", headers=tenant.headers)
    assert response.status_code == 204
    assert not path.exists()


async def test_a_record_whose_audio_file_is_gone_answers_404(
    client: httpx.AsyncClient, tenant: Tenant, stored: tuple[str, bytes]
) -> None:
    record_id, _ = stored
    record = await Record.get(pk=record_id)
    (DATA_DIR / "audio" / (record.audio_key or "")).unlink()
    response = await client.get(f"/api/v1/records/{record_id}/audio", headers=tenant.headers)
    assert_rest_error(response, 404, "NOT_FOUND")
