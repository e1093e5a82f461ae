"""Third-party GraphQL clients, unpatched: Python's ``gql`` and Node's ``graphql-ws`` follow a
project's records to their end, completed or failed, on ``recordFinished``."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from gql import Client, FileVar
from gql import gql as document
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.audio import AudioFactory
from tests.conftest import Tenant, make_project
from tests.http_fixtures import audio_host, serving

NODE_SCRIPT = Path(__file__).parent / "node" / "record_finished.mjs"
NODE_PACKAGES = ("graphql-ws@6", "ws@8", "graphql@16")
GREETING = "Hello, thank you for calling support. How can I help you today?"
RECORD_FINISHED = """
subscription Finished($projectId: ID!) {
  recordFinished(projectId: $projectId) { id status error completedAt }
}
"""
UPLOAD = """
mutation Upload($input: UploadRecordInput!) { uploadRecord(input: $input) { id status } }
"""
INGEST = """
mutation Ingest($input: IngestRecordInput!) { ingestRecord(input: $input) { id status } }
"""


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


@asynccontextmanager
async def missing_recording() -> AsyncIterator[str]:
    """A URL on a live host that answers 404: the download fails for good."""
    async with serving(audio_host({})) as host:
        yield f"{host}/files/missing.wav"


async def finished_records(
    base_url: str, tenant: Tenant, project_id: str, count: int, started: asyncio.Event
) -> list[dict[str, Any]]:
    """The first ``count`` recordFinished events, received with gql's WebSocket transport."""
    transport = WebsocketsTransport(
        url=base_url.replace("http://", "ws://", 1) + "/graphql",
        init_payload={"authorization": f"Bearer {tenant.owner.token}", "orgId": tenant.org_id},
    )
    request = document(RECORD_FINISHED)
    request.variable_values = {"projectId": project_id}
    events: list[dict[str, Any]] = []
    async with Client(transport=transport) as session:
        subscription = session.subscribe(request)
        started.set()
        async for result in subscription:
            events.append(result["recordFinished"])
            if len(events) == count:
                break
    return events


async def test_gql_hears_both_a_completed_upload_and_a_failed_ingest_on_record_finished(
    base_url: str, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    started = asyncio.Event()
    listening = asyncio.create_task(finished_records(base_url, tenant, project.id, 2, started))
    await started.wait()
    await asyncio.sleep(0.3)  # the subscribe message reaches the server first
    http = HTTPXAsyncTransport(url=f"{base_url}/graphql", headers=tenant.headers, timeout=60)
    recording: Path = audio.encoded(GREETING, "mp3")
    try:
        async with Client(transport=http) as session, missing_recording() as url:
            upload = document(UPLOAD)
            with recording.open("rb") as file:
                upload.variable_values = {"input": {"projectId": project.id, "file": FileVar(file)}}
                uploaded = (await session.execute(upload, upload_files=True))["uploadRecord"]
            ingest = document(INGEST)
            ingest.variable_values = {
                "input": {"projectId": project.id, "audioUrl": url, "externalId": "gql-1"}
            }
            ingested = (await session.execute(ingest))["ingestRecord"]
            async with asyncio.timeout(180):
                events = await listening
    finally:
        listening.cancel()

    by_id = {event["id"]: event for event in events}
    assert set(by_id) == {uploaded["id"], ingested["id"]}
    assert by_id[uploaded["id"]]["status"] == "completed"
    assert by_id[uploaded["id"]]["error"] is None
    assert by_id[ingested["id"]]["status"] == "failed"
    assert "404" in by_id[ingested["id"]]["error"]
    assert all(event["completedAt"] for event in events)


@pytest.fixture(scope="module")
def node_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Node client script beside its packages (ES modules resolve imports from there)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not on PATH")
    folder = tmp_path_factory.mktemp("node-client")
    try:
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(folder), *NODE_PACKAGES],
            check=True,
            capture_output=True,
            timeout=180,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"npm install {' '.join(NODE_PACKAGES)} failed (no registry?): {exc}")
    return Path(shutil.copy(NODE_SCRIPT, folder))


async def test_node_graphql_ws_hears_both_ends_and_a_refused_org_fails_without_retrying(
    base_url: str, tenant: Tenant, audio: AudioFactory, node_script: Path
) -> None:
    project = await make_project(tenant.org_id)
    async with missing_recording() as url:
        env = {
            **os.environ,
            "AICA_URL": base_url,
            "AICA_TOKEN": tenant.owner.token,
            "AICA_ORG_ID": tenant.org_id,
            "PROJECT_ID": project.id,
            "RECORDING": str(audio.encoded(GREETING, "mp3")),
            "MISSING_URL": url,
        }
        process = await asyncio.create_subprocess_exec(
            "node", str(node_script), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            async with asyncio.timeout(180):
                stdout, stderr = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, stderr.decode()

    result = json.loads(stdout)
    by_id = {event["id"]: event for event in result["finished"]}
    assert set(by_id) == {result["uploaded"], result["ingested"]}
    assert by_id[result["uploaded"]]["status"] == "completed"
    assert by_id[result["ingested"]]["status"] == "failed"
    assert "404" in by_id[result["ingested"]]["error"]
    # graphql-ws retries 4403 by default (for 40 s); the README's shouldRetry stops at once.
    assert result["refused"]["code"] == 4403
    assert result["refused"]["seconds"] < 5
