"""``aica worker`` processes beside an API process: crashes, poison files, events across processes.

Everything runs as real processes on a database of its own (the suite's in-process consumers
must not pick these jobs up): one ``aica serve`` without consumers, with Redis for events,
and ``aica worker`` processes started and killed by the tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from aica.services.pipeline import STAGES
from tests.audio import AudioFactory
from tests.conftest import ADMIN_DSN, REDIS_URL, free_port
from tests.http_fixtures import Receiver, audio_host, serving
from tests.ws import subscriptions

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
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


@dataclass
class Stack:
    """A database, an API process and the environment workers need to join them."""

    env: dict[str, str]
    base_url: str
    headers: dict[str, str]
    token: str
    org_id: str
    dsn: str


def run_aica(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aica.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=True,
    )


def start_aica(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "aica.cli", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    name = f"aica_workers_{secrets.token_hex(4)}"
    admin = ADMIN_DSN.rsplit("/", 1)[0]
    subprocess.run(["psql", ADMIN_DSN, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    root = tmp_path_factory.mktemp("workers")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICA_")}
    env.update(
        AICA_DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}",
        AICA_DATA_DIR=str(root / "data"),
        AICA_REDIS_URL=REDIS_URL,
        AICA_RUN_WORKERS="0",
        AICA_RATE_LIMIT_PER_MINUTE="0",
        AICA_JOB_HEARTBEAT_SECONDS="2",
        AICA_JOB_MAX_ATTEMPTS="2",
        AICA_LOG_LEVEL="INFO",
        AICA_ALLOW_PRIVATE_URLS="1",  # ingest and webhooks reach servers on 127.0.0.1
        AICA_WEBHOOK_TIMEOUT_SECONDS="60",
        AICA_DELIVERY_RETRY_SECONDS="[0.5]",
        PYTHONPATH=str(ROOT),
    )
    created = json.loads(
        run_aica(env, "bootstrap", "--org-name", "Workers", "--email", "w@example.com", "--json")
        .stdout.strip()
        .splitlines()[-1]
    )
    port = free_port()
    server = start_aica(env, root / "serve.log", "serve", "--port", str(port))
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None:
                raise AssertionError((root / "serve.log").read_text()[-3000:])
            time.sleep(0.1)
        headers = {
            "Authorization": f"Bearer {created['token']}",
            "X-Selected-Org-ID": created["orgId"],
        }
        yield Stack(env, base_url, headers, created["token"], created["orgId"], f"{admin}/{name}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        subprocess.run(
            ["psql", ADMIN_DSN, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
            check=False,
        )


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache").speech(SCRIPT)


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.base_url, headers=stack.headers, timeout=30) as c:
        yield c


async def new_upload(api: httpx.AsyncClient, speech: Path) -> tuple[str, str]:
    project = await api.post("/api/v1/projects", json={"name": f"p-{secrets.token_hex(3)}"})
    project_id = project.json()["data"]["id"]
    content = await asyncio.to_thread(speech.read_bytes)
    response = await api.post(
        "/api/v1/records/upload",
        files={"file": ("call.wav", content, "audio/wav")},
        data={"projectId": project_id},
    )
    assert response.status_code == 201, response.text
    return project_id, response.json()["data"]["id"]


async def record_row(stack: Stack, record_id: str) -> dict[str, Any]:
    connection = await asyncpg.connect(stack.dsn)
    try:
        row = await connection.fetchrow(
            "SELECT r.status, r.attempts, r.error, r.progress, r.stage, r.stages_done, "
            "(SELECT count(*) FROM transcripts t WHERE t.record_id = r.id) AS transcripts "
            "FROM records r WHERE r.id = $1",
            record_id,
        )
    finally:
        await connection.close()
    assert row is not None
    return {**row, "stages_done": json.loads(row["stages_done"])}


async def wait_for(stack: Stack, record_id: str, predicate: Any, seconds: float = 120) -> dict:
    async with asyncio.timeout(seconds):
        while True:
            row = await record_row(stack, record_id)
            if predicate(row):
                return row
            await asyncio.sleep(0.05)


def kill(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)


def stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)


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
        project = await api.post("/api/v1/projects", json={"name": "ingest"})
        created = await api.post(
            "/api/v1/records/ingest",
            json={
                "projectId": project.json()["data"]["id"],
                "audioUrl": f"{host}/files/call.wav",
                "externalId": secrets.token_hex(4),
            },
        )
        record_id = created.json()["data"]["id"]
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

    connection = await asyncpg.connect(stack.dsn)
    try:
        row = await connection.fetchrow(
            "SELECT status, attempts FROM deliveries WHERE id = $1", delivery_id
        )
    finally:
        await connection.close()
    assert row is not None and dict(row) == {"status": "succeeded", "attempts": 2}
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
