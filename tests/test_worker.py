"""``aica worker`` processes beside an API process: crashes, poison files, events across processes.

Everything runs as real processes on a database of its own (``tests.processes``).
"""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aica.services.pipeline import STAGES
from tests.audio import AudioFactory
from tests.http_fixtures import Receiver, audio_host, serving
from tests.processes import (
    Stack,
    fetch,
    kill,
    new_ingest,
    new_upload,
    process_stack,
    record_row,
    run_aica,
    start_aica,
    stop,
    wait_for,
)
from tests.ws import subscriptions

pytestmark = pytest.mark.slow

SCRIPT = " ".join(
    f"Sentence {n}: the {item} was delivered to {place} on {day}."
    for n, (item, place, day) in enumerate(
        [
            ("router", "the main office", "Monday"),
            ("invoice", "accounting", "Tuesday"),
            ("replacement modem", "the customer", "Wednesday"),
            ("signed contract", "the legal team", "Thursday"),
            ("new handset", "the warehouse", "Friday"),
            ("refund cheque", "the billing address", "Saturday"),
        ],
        start=1,
    )
)
COMPLETED = """
subscription Completed($projectId: ID!) {
  recordCompleted(projectId: $projectId) { id status }
}
"""
ALERTED = """
subscription Alerted($projectId: ID!) {
  alertTriggered(projectId: $projectId) { ruleId recordId }
}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with process_stack(tmp_path_factory.mktemp("workers")) as created:
        yield created


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache").speech(SCRIPT)


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.base_url, headers=stack.headers, timeout=30) as c:
        yield c


async def test_a_worker_killed_mid_transcription_is_replaced_and_the_record_completes_once(
    stack: Stack, api: httpx.AsyncClient, speech: Path, tmp_path: Path
) -> None:
    _, record_id = await new_upload(api, speech)
    first = start_aica(stack.env, tmp_path / "w1.log", "worker")
    try:
        await wait_for(
            stack, record_id, lambda r: r["status"] == "processing" and r["stage"] == "transcribing"
        )
    finally:
        kill(first)
    assert (await record_row(stack, record_id))["status"] == "processing"

    second = start_aica(stack.env, tmp_path / "w2.log", "worker")
    try:
        row = await wait_for(stack, record_id, lambda r: r["status"] in ("completed", "failed"))
    finally:
        stop(second)
    assert row["status"] == "completed", (tmp_path / "w2.log").read_text()[-3000:]
    assert row["transcripts"] == 1
    assert row["attempts"] == 2


async def test_a_worker_killed_after_the_download_resumes_without_downloading_again(
    stack: Stack, api: httpx.AsyncClient, speech: Path, tmp_path: Path
) -> None:
    hits: Counter[str] = Counter()
    async with serving(audio_host({"call.wav": speech}, hits)) as host:
        record_id = await new_ingest(api, f"{host}/files/call.wav")
        first = start_aica(stack.env, tmp_path / "w1.log", "worker")
        try:
            row = await wait_for(stack, record_id, lambda r: r["stage"] == "transcribing")
        finally:
            kill(first)
        assert row["stages_done"] == ["downloading"]

        second = start_aica(stack.env, tmp_path / "w2.log", "worker")
        try:
            row = await wait_for(stack, record_id, lambda r: r["status"] in ("completed", "failed"))
        finally:
            stop(second)
    assert row["status"] == "completed", (tmp_path / "w2.log").read_text()[-3000:]
    assert row["stages_done"] == [stage.name for stage in STAGES]
    assert row["attempts"] == 2
    assert hits["call.wav"] == 1


async def test_a_delivery_whose_worker_died_mid_send_is_delivered_once_by_the_next(
    stack: Stack, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    hook = Receiver(hangs=[300])  # the first attempt hangs until its worker is killed
    async with serving(hook.app()) as url:
        created = await api.post("/api/v1/webhooks", json={"url": f"{url}/hook"})
        endpoint = created.json()["data"]
        hook.secret = endpoint["secret"]
        sent = await api.post(f"/api/v1/webhooks/{endpoint['id']}/test")
        delivery_id = sent.json()["data"]["id"]

        first = start_aica(stack.env, tmp_path / "w1.log", "worker")
        try:
            await hook.until(lambda: bool(hook.received))
        finally:
            kill(first)
        second = start_aica(stack.env, tmp_path / "w2.log", "worker")
        try:
            await hook.until(lambda: delivery_id in hook.answered)
            await asyncio.sleep(1.0)  # time for a duplicate to show, if there were one
        finally:
            stop(second)

    [row] = await fetch(stack, "SELECT status, attempts FROM deliveries WHERE id = $1", delivery_id)
    assert row == {"status": "succeeded", "attempts": 2}
    assert hook.answered == [delivery_id]
    assert [r["headers"]["webhook-id"] for r in hook.received] == [delivery_id] * 2
    assert all(r["valid"] for r in hook.received)


async def test_a_recording_that_kills_its_worker_every_time_ends_failed(
    stack: Stack, api: httpx.AsyncClient, speech: Path, tmp_path: Path
) -> None:
    """Two crashes with AICA_JOB_MAX_ATTEMPTS=2: the third pick gives up instead of looping."""
    _, record_id = await new_upload(api, speech)
    for attempt in (1, 2):
        worker = start_aica(stack.env, tmp_path / f"w{attempt}.log", "worker")
        try:
            await wait_for(
                stack,
                record_id,
                lambda r, a=attempt: r["attempts"] == a and r["stage"] == "transcribing",
            )
        finally:
            kill(worker)
    last = start_aica(stack.env, tmp_path / "w3.log", "worker")
    try:
        row = await wait_for(stack, record_id, lambda r: r["status"] in ("completed", "failed"))
    finally:
        stop(last)
    assert row["status"] == "failed"
    assert "Gave up after 2 attempts" in row["error"]
    assert row["transcripts"] == 0


async def test_completion_and_alerts_by_a_worker_process_reach_subscribers_on_the_api_process(
    stack: Stack, api: httpx.AsyncClient, speech: Path, tmp_path: Path
) -> None:
    project = await api.post("/api/v1/projects", json={"name": "live"})
    project_id = project.json()["data"]["id"]
    every_call = {"field": "qualityScore", "operator": "lte", "value": 100}
    rule = await api.post(
        "/api/v1/alerts",
        json={
            "name": "all",
            "projectId": project_id,
            "condition": every_call,
            "actions": ["webhook"],
        },
    )
    worker = start_aica(stack.env, tmp_path / "w.log", "worker")
    try:
        async with subscriptions(stack.base_url, f"Bearer {stack.token}", stack.org_id) as live:
            await live.subscribe(COMPLETED, {"projectId": project_id})
            await live.subscribe(ALERTED, {"projectId": project_id})
            await asyncio.sleep(0.3)
            content = await asyncio.to_thread(speech.read_bytes)
            response = await api.post(
                "/api/v1/records/upload",
                files={"file": ("call.wav", content, "audio/wav")},
                data={"projectId": project_id},
            )
            record_id = response.json()["data"]["id"]
            seen: dict[str, Any] = {}
            while len(seen) < 2:  # the two arrive on separate Redis subscriptions
                seen.update((await live.until(lambda p: bool(p["data"])))["data"])
    finally:
        stop(worker)
    assert seen["recordCompleted"] == {"id": record_id, "status": "completed"}
    assert seen["alertTriggered"] == {
        "ruleId": rule.json()["data"]["id"],
        "recordId": record_id,
    }


async def test_aica_upload_waits_for_transcripts_and_prints_only_ids_on_stdout(
    stack: Stack, api: httpx.AsyncClient, speech: Path, tmp_path: Path
) -> None:
    project = await api.post("/api/v1/projects", json={"name": "cli"})
    project_id = project.json()["data"]["id"]
    env = {
        **stack.env,
        "AICA_URL": stack.base_url,
        "AICA_TOKEN": stack.token,
        "AICA_ORG_ID": stack.org_id,
    }
    worker = start_aica(stack.env, tmp_path / "w.log", "worker")
    try:
        done = await asyncio.to_thread(
            run_aica, env, "upload", str(speech), "--project", project_id, "--wait"
        )
    finally:
        stop(worker)
    record_id = done.stdout.split()[0]
    assert record_id.startswith("rec_")
    assert done.stdout == f"{record_id}\t{speech}\n"  # progress goes to stderr
    assert (await record_row(stack, record_id))["status"] == "completed"


async def test_aica_upload_reports_a_refused_file_and_exits_non_zero(
    stack: Stack, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    project = await api.post("/api/v1/projects", json={"name": "cli-bad"})
    notes = tmp_path / "notes.wav"
    notes.write_text("not audio at all\n" * 50)
    env = {
        **stack.env,
        "AICA_URL": stack.base_url,
        "AICA_TOKEN": stack.token,
        "AICA_ORG_ID": stack.org_id,
    }
    with pytest.raises(subprocess.CalledProcessError) as failed:
        await asyncio.to_thread(
            run_aica, env, "upload", str(notes), "--project", project.json()["data"]["id"]
        )
    assert failed.value.returncode == 1
    assert "UNSUPPORTED_MEDIA_TYPE" in failed.value.stderr
    assert stack.base_url in failed.value.stderr
