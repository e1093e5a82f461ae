"""Real ``aica`` processes on a database of their own: an ``aica serve`` without consumers,
with Redis for events, and the ``aica worker`` processes tests start and kill.

The suite's in-process consumers must not pick these jobs up, hence the separate database.
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.conftest import ADMIN_DSN, REDIS_URL, free_port

ROOT = Path(__file__).resolve().parent.parent


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


@contextmanager
def serving_api(env: dict[str, str], log: Path) -> Iterator[str]:
    """``aica serve`` on a free port until the block ends; yields its base URL once ready."""
    port = free_port()
    server = start_aica(env, log, "serve", "--port", str(port))
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_answering(f"{base_url}/healthz", server, log)
        yield base_url
    finally:
        stop(server)


def wait_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``url`` answers 200 (60 s at most); a process that exits shows its log."""
    for _ in range(600):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, log.read_text()[-3000:]
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in 60 s")


@contextmanager
def process_stack(root: Path, **settings: str) -> Iterator[Stack]:
    """A fresh database, its first org and an API process; ``settings`` are more ``AICA_*``
    variables (without the prefix, e.g. ``STORAGE_URL``) for it and for the workers."""
    name = f"aica_workers_{secrets.token_hex(4)}"
    admin = ADMIN_DSN.rsplit("/", 1)[0]
    subprocess.run(["psql", ADMIN_DSN, "-qc", f'CREATE DATABASE "{name}"'], check=True)
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
    env.update({f"AICA_{key}": value for key, value in settings.items()})
    try:
        created = json.loads(
            run_aica(
                env, "bootstrap", "--org-name", "Workers", "--email", "w@example.com", "--json"
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        with serving_api(env, root / "serve.log") as base_url:
            headers = {
                "Authorization": f"Bearer {created['token']}",
                "X-Selected-Org-ID": created["orgId"],
            }
            yield Stack(
                env, base_url, headers, created["token"], created["orgId"], f"{admin}/{name}"
            )
    finally:
        subprocess.run(
            ["psql", ADMIN_DSN, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
            check=False,
        )


async def new_upload(api: httpx.AsyncClient, speech: Path) -> tuple[str, str]:
    """A new project and a recording uploaded to it through REST: (project id, record id)."""
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


async def new_ingest(api: httpx.AsyncClient, audio_url: str) -> str:
    """A new project and a call ingested into it from ``audio_url``: the record id."""
    project = await api.post("/api/v1/projects", json={"name": f"p-{secrets.token_hex(3)}"})
    created = await api.post(
        "/api/v1/records/ingest",
        json={
            "projectId": project.json()["data"]["id"],
            "audioUrl": audio_url,
            "externalId": secrets.token_hex(4),
        },
    )
    assert created.status_code in (200, 201, 202), created.text
    record_id: str = created.json()["data"]["id"]
    return record_id


async def fetch(stack: Stack, statement: str, *args: Any) -> list[dict[str, Any]]:
    """One statement on the stack's database, from outside its processes."""
    connection = await asyncpg.connect(stack.dsn)
    try:
        return [dict(row) for row in await connection.fetch(statement, *args)]
    finally:
        await connection.close()


async def record_row(stack: Stack, record_id: str) -> dict[str, Any]:
    [row] = await fetch(
        stack,
        "SELECT r.status, r.attempts, r.error, r.progress, r.stage, r.stages_done, "
        "(SELECT count(*) FROM transcripts t WHERE t.record_id = r.id) AS transcripts "
        "FROM records r WHERE r.id = $1",
        record_id,
    )
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
