"""``aica worker`` stopping on SIGTERM: running jobs finish within the grace period, or go back
to the queue to run again at once elsewhere, never dropped and never counted against the record.

Real processes, as in ``test_worker.py`` (whose stack and helpers this reuses): one
``aica serve`` without consumers, and workers started and stopped by the tests.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests import test_worker as workers
from tests.audio import read_wav, write_wav
from tests.http_fixtures import Receiver, serving
from tests.processes import Stack, fetch, new_upload, record_row, start_aica, wait_for

pytestmark = pytest.mark.slow

stack = workers.stack
speech = workers.speech
api = workers.api


def terminate(worker: subprocess.Popen[bytes], seconds: float = 120) -> float:
    """SIGTERM, then the seconds until the process exited (it must exit 0)."""
    sent = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=seconds) == 0
    return time.monotonic() - sent


async def queue_rows(stack: Stack, entrypoint: str, payload: str) -> list[dict[str, Any]]:
    """The job's queue row (status, due now?, attempts) and its log, oldest first."""
    jobs = await fetch(
        stack,
        "SELECT id, status::text, execute_after <= now() AS due FROM pgqueuer "
        "WHERE entrypoint = $1 AND payload = $2",
        entrypoint,
        payload.encode(),
    )
    logged = await fetch(
        stack,
        "SELECT status::text FROM pgqueuer_log WHERE job_id = ANY($1::bigint[]) ORDER BY id",
        [job["id"] for job in jobs],
    )
    return [{**job, "log": [row["status"] for row in logged]} for job in jobs]


@pytest.fixture(scope="module")
def long_speech(speech: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four minutes of the call: transcribing it takes many times the grace period."""
    samples, rate = read_wav(speech)
    return write_wav(tmp_path_factory.mktemp("long") / "long.wav", np.tile(samples, (8, 1)), rate)


async def seconds_until(stack: Stack, record_id: str, predicate: Any) -> float:
    started = time.monotonic()
    await wait_for(stack, record_id, predicate, seconds=600)
    return time.monotonic() - started


async def test_a_job_still_running_when_the_grace_period_ends_is_requeued_at_once_uncounted(
    stack: Stack, api: httpx.AsyncClient, long_speech: Path, tmp_path: Path
) -> None:
    env = {**stack.env, "AICA_WHISPER_BATCH_SIZE": "1"}  # progress after every segment
    _, record_id = await new_upload(api, long_speech)
    first = start_aica(env, tmp_path / "w1.log", "worker", "--grace-seconds", "0.5")
    try:
        await wait_for(stack, record_id, lambda r: r["stage"] == "transcribing")
    finally:
        stopping = terminate(first)
    log = (tmp_path / "w1.log").read_text()
    assert "handed 1 running job(s) back to the queue" in log, log[-3000:]

    # the record waits, its attempt not counted; its job is queued, due now, not dropped
    row = await record_row(stack, record_id)
    assert (row["status"], row["attempts"], row["transcripts"]) == ("processing", 0, 0)
    [job] = await queue_rows(stack, "process_record", record_id)
    assert (job["status"], job["due"]) == ("queued", True)
    assert not {"canceled", "exception", "failed"} & set(job["log"]), job["log"]

    second = start_aica(env, tmp_path / "w2.log", "worker")
    try:
        await wait_for(stack, record_id, lambda r: r["stage"] == "transcribing")
        transcribing = await seconds_until(
            stack, record_id, lambda r: "transcribing" in r["stages_done"] or r["error"]
        )
        row = await wait_for(stack, record_id, lambda r: r["status"] in ("completed", "failed"))
    finally:
        terminate(second)
    assert row["status"] == "completed", (tmp_path / "w2.log").read_text()[-3000:]
    assert (row["attempts"], row["transcripts"]) == (1, 1)
    # the first worker left its transcription at the next segment, not at the end of it
    assert stopping < transcribing / 2, (stopping, transcribing)


async def test_a_job_that_finishes_within_the_grace_period_completes_before_the_worker_exits(
    stack: Stack, api: httpx.AsyncClient, speech: Path, tmp_path: Path
) -> None:
    _, record_id = await new_upload(api, speech)
    worker = start_aica(stack.env, tmp_path / "w.log", "worker", "--grace-seconds", "300")
    try:
        await wait_for(stack, record_id, lambda r: r["stage"] == "transcribing")
    finally:
        terminate(worker, seconds=300)
    row = await record_row(stack, record_id)
    assert row["status"] == "completed", (tmp_path / "w.log").read_text()[-3000:]
    assert (row["attempts"], row["transcripts"]) == (1, 1)
    assert "back to the queue" not in (tmp_path / "w.log").read_text()


async def test_a_delivery_interrupted_by_a_stopping_worker_is_sent_again_by_the_next_one(
    stack: Stack, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    hook = Receiver(hangs=[300])  # the first attempt hangs past the worker's grace period
    async with serving(hook.app()) as url:
        created = await api.post("/api/v1/webhooks", json={"url": f"{url}/hook"})
        endpoint = created.json()["data"]
        hook.secret = endpoint["secret"]
        sent = await api.post(f"/api/v1/webhooks/{endpoint['id']}/test")
        delivery_id = sent.json()["data"]["id"]

        first = start_aica(stack.env, tmp_path / "w1.log", "worker", "--grace-seconds", "0.5")
        try:
            await hook.until(lambda: bool(hook.received))
        finally:
            await asyncio.to_thread(terminate, first)
        [job] = await queue_rows(stack, "deliver", delivery_id)
        assert (job["status"], job["due"]) == ("queued", True)

        second = start_aica(stack.env, tmp_path / "w2.log", "worker")
        try:
            await hook.until(lambda: delivery_id in hook.answered)
        finally:
            await asyncio.to_thread(terminate, second)
    assert hook.answered == [delivery_id]
    assert [r["headers"]["webhook-id"] for r in hook.received] == [delivery_id] * 2
