"""Recordings in an S3-compatible object store (``AICA_STORAGE_URL=s3://...``): uploads and
ingest land in the bucket, a worker with an empty data directory of its own transcribes them,
the audio route serves byte ranges from the store (or redirects to a presigned URL), deletion
removes the objects, aborted uploads leave no parts, an unreachable store is 503 and a
pipeline job waits for it, and ``aica storage migrate`` moves a local data directory across.

The store is moto's S3 server on 127.0.0.1, or a real endpoint (``tests/s3.py``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aica.services.pipeline import STAGES
from aica.storage import S3Storage
from aica.storage.s3 import PART_SIZE
from tests.audio import AudioFactory
from tests.conftest import assert_rest_error, free_port
from tests.http_fixtures import audio_host, serving
from tests.processes import (
    Stack,
    fetch,
    new_ingest,
    new_upload,
    process_stack,
    record_row,
    run_aica,
    serving_api,
    start_aica,
    stop,
    wait_for,
)
from tests.s3 import ObjectStore, object_store

pytestmark = pytest.mark.slow

GREETING = "Hello, thank you for calling support. How can I help you today?"
MAX_UPLOAD = 3_000_000
UPLOAD_MUTATION = """
mutation Upload($input: UploadRecordInput!) { uploadRecord(input: $input) { id format } }
"""
AUDIO_URL = "query ($id: ID!) { recordAudioUrl(id: $id) }"
CREATE_PROJECT = """
mutation ($input: ProjectInput!) { createProject(input: $input) { id } }
"""
CARD_CALL = "Hello, my card number is 4 5 3 9, 1 4 8 8, 0 3 4 3, 6 4 6 7. Thank you."


@pytest.fixture(scope="module")
def store() -> Iterator[ObjectStore]:
    with object_store() as created:
        yield created


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, store: ObjectStore) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("s3-stack")
    settings = {**store.settings(), "MAX_UPLOAD_BYTES": str(MAX_UPLOAD)}
    with process_stack(root, **settings, STORAGE_RETRY_SECONDS="1") as created:
        yield created


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


@pytest.fixture(scope="module")
def speech(audio: AudioFactory) -> Path:
    return audio.speech(GREETING)


@pytest.fixture(scope="module")
def wav(speech: Path) -> bytes:
    return speech.read_bytes()


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.base_url, headers=stack.headers, timeout=60) as c:
        yield c


def worker_env(stack: Stack, root: Path, **settings: str) -> dict[str, str]:
    """A worker on another machine, as far as files go: an empty data directory of its own."""
    data_dir = root / f"worker-{secrets.token_hex(3)}"
    env = {**stack.env, "AICA_DATA_DIR": str(data_dir)}
    env.update({f"AICA_{key}": value for key, value in settings.items()})
    return env


async def record_keys(stack: Stack, record_id: str) -> dict[str, Any]:
    [row] = await fetch(
        stack,
        "SELECT audio_key, redacted_audio_key, size, sha256 FROM records WHERE id = $1",
        record_id,
    )
    return row


async def eventually(condition: Callable[[], bool], seconds: float = 30) -> None:
    """Wait for ``condition`` (checked in a thread: it may touch files or the store)."""
    async with asyncio.timeout(seconds):
        while True:
            if await asyncio.to_thread(condition):
                return
            await asyncio.sleep(0.05)


def staged_files(stack: Stack) -> list[Path]:
    return list((Path(stack.env["AICA_DATA_DIR"]) / "staging").glob("stg_*"))


# --- in: uploads and ingest land in the bucket -------------------------------------------


async def test_an_upload_goes_to_the_bucket_and_a_worker_with_an_empty_data_dir_transcribes_it(
    stack: Stack,
    store: ObjectStore,
    api: httpx.AsyncClient,
    speech: Path,
    tmp_path: Path,
    wav: bytes,
) -> None:
    _, record_id = await new_upload(api, speech)
    row = await record_keys(stack, record_id)
    assert store.keys()[row["audio_key"]] == len(wav)
    assert store.head(row["audio_key"])["Metadata"]["sha256"] == hashlib.sha256(wav).hexdigest()
    assert not (Path(stack.env["AICA_DATA_DIR"]) / "audio").exists()  # nothing kept locally
    assert staged_files(stack) == []

    env = worker_env(stack, tmp_path)
    worker = start_aica(env, tmp_path / "worker.log", "worker")
    try:
        done = await wait_for(stack, record_id, lambda r: r["status"] in ("completed", "failed"))
    finally:
        stop(worker)
    assert done["status"] == "completed", (tmp_path / "worker.log").read_text()[-3000:]
    assert done["transcripts"] == 1
    transcript = await api.get(f"/api/v1/records/{record_id}/transcript")
    assert "thank you" in json.dumps(transcript.json()).lower()
    assert list((Path(env["AICA_DATA_DIR"]) / "staging").glob("*")) == []  # copy removed


async def test_a_redacted_copy_is_written_to_the_bucket_served_and_deleted_with_its_record(
    stack: Stack,
    store: ObjectStore,
    api: httpx.AsyncClient,
    audio: AudioFactory,
    tmp_path: Path,
) -> None:
    created = await api.post(
        "/graphql",
        json={
            "query": CREATE_PROJECT,
            "variables": {"input": {"name": "cards", "settings": {"redaction": "TEXT_AND_AUDIO"}}},
        },
    )
    project_id = created.json()["data"]["createProject"]["id"]
    call = audio.speech(CARD_CALL, wpm=130)
    uploaded = await api.post(
        "/api/v1/records/upload",
        files={"file": ("card.wav", call.read_bytes(), "audio/wav")},
        data={"projectId": project_id},
    )
    record_id = uploaded.json()["data"]["id"]
    worker = start_aica(worker_env(stack, tmp_path), tmp_path / "worker.log", "worker")
    try:
        done = await wait_for(stack, record_id, lambda r: r["status"] in ("completed", "failed"))
    finally:
        stop(worker)
    assert done["status"] == "completed", (tmp_path / "worker.log").read_text()[-3000:]

    row = await record_keys(stack, record_id)
    assert row["redacted_audio_key"] == row["audio_key"].replace(".wav", "_redacted.wav")
    redacted = store.get(row["redacted_audio_key"])
    assert len(redacted) > 44 and redacted != call.read_bytes()
    served = await api.get(f"/api/v1/records/{record_id}/audio")
    assert served.content == redacted

    assert (await api.delete(f"/api/v1/records/{record_id}")).status_code == 204
    assert not {row["audio_key"], row["redacted_audio_key"]} & set(store.keys())


async def test_a_graphql_multipart_upload_goes_to_the_bucket(
    stack: Stack, store: ObjectStore, api: httpx.AsyncClient, speech: Path, wav: bytes
) -> None:
    project = await api.post("/api/v1/projects", json={"name": "graphql"})
    operations = {
        "query": UPLOAD_MUTATION,
        "variables": {"input": {"projectId": project.json()["data"]["id"], "file": None}},
    }
    response = await api.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("call.wav", wav, "audio/wav")},
    )
    created = response.json()["data"]["uploadRecord"]
    row = await record_keys(stack, created["id"])
    assert row["audio_key"] == f"{stack.org_id}/{created['id']}.wav"
    assert store.get(row["audio_key"]) == wav


async def test_an_ingested_recording_is_downloaded_into_the_bucket_by_a_worker(
    stack: Stack,
    store: ObjectStore,
    api: httpx.AsyncClient,
    speech: Path,
    tmp_path: Path,
    wav: bytes,
) -> None:
    async with serving(audio_host({"call.wav": speech})) as host:
        record_id = await new_ingest(api, f"{host}/files/call.wav")
        worker = start_aica(worker_env(stack, tmp_path), tmp_path / "worker.log", "worker")
        try:
            done = await wait_for(
                stack,
                record_id,
                lambda r: r["status"] in ("completed", "failed"),
            )
        finally:
            stop(worker)
    assert done["status"] == "completed", (tmp_path / "worker.log").read_text()[-3000:]
    assert done["stages_done"] == [stage.name for stage in STAGES]
    row = await record_keys(stack, record_id)
    assert store.get(row["audio_key"]) == wav


# --- out: the audio route reads ranges from the store --------------------------------------


async def test_the_audio_route_serves_whole_files_and_ranges_from_the_store(
    stack: Stack, api: httpx.AsyncClient, speech: Path, wav: bytes
) -> None:
    _, record_id = await new_upload(api, speech)
    url = f"/api/v1/records/{record_id}/audio"

    whole = await api.get(url)
    assert whole.status_code == 200
    assert whole.content == wav
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["accept-ranges"] == "bytes"
    etag = whole.headers["etag"]
    assert etag == f'"{hashlib.sha256(wav).hexdigest()}"'

    part = await api.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == wav[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(wav)}"

    tail = await api.get(url, headers={"Range": "bytes=-50"})
    assert (tail.status_code, tail.content) == (206, wav[-50:])

    same = await api.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert (same.status_code, same.content) == (206, wav[:10])
    changed = await api.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert (changed.status_code, changed.content) == (200, wav)

    past = await api.get(url, headers={"Range": f"bytes={len(wav) + 10}-"})
    assert_rest_error(past, 416, "RANGE_NOT_SATISFIABLE")
    assert past.headers["content-range"] == f"bytes */{len(wav)}"


async def test_a_range_across_read_windows_is_joined_in_order(
    stack: Stack, store: ObjectStore, api: httpx.AsyncClient, speech: Path
) -> None:
    """A file larger than one ranged read (8 MiB) comes back whole and in order."""
    _, record_id = await new_upload(api, speech)
    row = await record_keys(stack, record_id)
    big = secrets.token_bytes(9 * 1024 * 1024)
    store.put(row["audio_key"], big)  # the row's size is not consulted: the store's is
    whole = await api.get(f"/api/v1/records/{record_id}/audio")
    assert whole.content == big
    start = 8 * 1024 * 1024 - 10
    part = await api.get(
        f"/api/v1/records/{record_id}/audio", headers={"Range": f"bytes={start}-{start + 19}"}
    )
    assert part.content == big[start : start + 20]


async def test_signed_links_original_audio_and_other_orgs_are_served_as_before(
    stack: Stack, store: ObjectStore, api: httpx.AsyncClient, speech: Path, wav: bytes
) -> None:
    _, record_id = await new_upload(api, speech)
    row = await record_keys(stack, record_id)
    redacted_key = row["audio_key"].replace(".wav", "_redacted.wav")
    store.put(redacted_key, b"RIFF-silenced-copy")
    await set_redacted_key(stack, record_id, redacted_key)

    served = await api.get(f"/api/v1/records/{record_id}/audio")
    assert served.content == b"RIFF-silenced-copy"
    original = await api.get(f"/api/v1/records/{record_id}/audio", params={"original": "true"})
    assert original.content == wav

    body = await api.post("/graphql", json={"query": AUDIO_URL, "variables": {"id": record_id}})
    link = body.json()["data"]["recordAudioUrl"]
    async with httpx.AsyncClient(base_url=stack.base_url) as anonymous:
        played = await anonymous.get(link, headers={"Range": "bytes=0-4"})
        assert (played.status_code, played.content) == (206, b"RIFF-")
        refused = await anonymous.get(f"/api/v1/records/{record_id}/audio")
        assert_rest_error(refused, 401, "UNAUTHENTICATED")

    other = json.loads(
        run_aica(
            stack.env, "bootstrap", "--org-name", "Other", "--email", "o@example.com", "--json"
        ).stdout.splitlines()[-1]
    )
    headers = {"Authorization": f"Bearer {other['token']}", "X-Selected-Org-ID": other["orgId"]}
    async with httpx.AsyncClient(base_url=stack.base_url, headers=headers) as stranger:
        hidden = await stranger.get(f"/api/v1/records/{record_id}/audio")
    assert_rest_error(hidden, 404, "NOT_FOUND")


async def set_redacted_key(stack: Stack, record_id: str, key: str) -> None:
    await fetch(stack, "UPDATE records SET redacted_audio_key = $2 WHERE id = $1", record_id, key)


async def test_in_redirect_mode_the_audio_route_answers_307_to_a_presigned_url(
    stack: Stack, api: httpx.AsyncClient, speech: Path, tmp_path: Path, wav: bytes
) -> None:
    _, record_id = await new_upload(api, speech)
    env = {**stack.env, "AICA_S3_AUDIO_REDIRECT": "1", "AICA_S3_PRESIGN_SECONDS": "60"}
    with serving_api(env, tmp_path / "redirect.log") as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers=stack.headers) as client:
            answer = await client.get(f"/api/v1/records/{record_id}/audio")
            assert answer.status_code == 307, answer.text
            location = answer.headers["location"]
            assert "X-Amz-Signature=" in location and "X-Amz-Expires=60" in location
            async with httpx.AsyncClient() as outside:  # no token: the signature is the grant
                fetched = await outside.get(location, headers={"Range": "bytes=0-99"})
            assert (fetched.status_code, fetched.content) == (206, wav[:100])
            assert fetched.headers["content-type"] == "audio/wav"
            anonymous = await client.get(
                f"/api/v1/records/{record_id}/audio", headers={"Authorization": ""}
            )
            assert_rest_error(anonymous, 401, "UNAUTHENTICATED")


# --- deletion -----------------------------------------------------------------------------


async def test_deleting_a_project_removes_its_records_objects_and_their_redacted_copies(
    stack: Stack, store: ObjectStore, api: httpx.AsyncClient, speech: Path, wav: bytes
) -> None:
    project_id, first = await new_upload(api, speech)
    second = await api.post(
        "/api/v1/records/upload",
        files={"file": ("again.wav", wav, "audio/wav")},
        data={"projectId": project_id},
    )
    ids = (first, second.json()["data"]["id"])
    keys = {(await record_keys(stack, record_id))["audio_key"] for record_id in ids}
    redacted_key = (await record_keys(stack, first))["audio_key"].replace(".wav", "_redacted.wav")
    store.put(redacted_key, b"RIFF-silenced-copy")
    await set_redacted_key(stack, first, redacted_key)
    keys.add(redacted_key)
    assert keys <= set(store.keys())
    assert (await api.delete(f"/api/v1/projects/{project_id}")).status_code == 204
    assert not keys & set(store.keys())


# --- aborted uploads leave nothing ---------------------------------------------------------


async def test_an_upload_cut_off_mid_body_or_over_the_limit_leaves_no_parts_or_files(
    stack: Stack, store: ObjectStore, api: httpx.AsyncClient, wav: bytes
) -> None:
    before = set(store.keys())
    project = await api.post("/api/v1/projects", json={"name": "aborted"})
    project_id = project.json()["data"]["id"]
    boundary = "cut-" + secrets.token_hex(4)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="projectId"\r\n\r\n'
        f'{project_id}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="call.wav"\r\nContent-Type: audio/wav\r\n\r\n'
    ).encode()

    host, port = stack.base_url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    request = (
        f"POST /api/v1/records/upload HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: {stack.headers['Authorization']}\r\n"
        f"X-Selected-Org-ID: {stack.org_id}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + 2_000_000}\r\n\r\n"
    ).encode()
    writer.write(request + head + b"\0" * 500_000)
    await writer.drain()
    await eventually(lambda: bool(staged_files(stack)))  # the API is receiving it
    writer.close()  # the client goes away with three quarters of the body unsent
    await writer.wait_closed()

    too_big = await api.post(
        "/api/v1/records/upload",
        files={"file": ("big.wav", b"RIFF" + b"\0" * (MAX_UPLOAD + 10), "audio/wav")},
        data={"projectId": project_id},
    )
    assert_rest_error(too_big, 413, "PAYLOAD_TOO_LARGE")

    await eventually(lambda: not staged_files(stack))
    assert store.multipart_uploads() == []
    assert set(store.keys()) == before
    listed = await api.get("/api/v1/records", params={"projectId": project_id})
    assert listed.json()["meta"]["total"] == 0


async def test_derived_files_go_in_with_put_and_come_out_as_local_copies_that_do_not_stay(
    store: ObjectStore, tmp_path: Path
) -> None:
    """What the redaction stage and the workers do with the store, one call at a time."""
    storage = S3Storage(tmp_path, store.url("calls"), endpoint_url=store.endpoint_url)
    try:
        key = storage.derived_key("org_a/rec_a.mp3", "redacted")
        scratch = storage.scratch()
        data = secrets.token_bytes(PART_SIZE + 1000)  # two parts
        scratch.write_bytes(data)
        await storage.put(scratch, key)
        assert not scratch.exists()
        assert store.get(key, "calls") == data
        sha256 = hashlib.sha256(data).hexdigest()
        assert store.head(key, "calls")["Metadata"]["sha256"] == sha256
        found = await storage.stat(key)
        assert found is not None and (found.size, found.sha256) == (len(data), sha256)

        async with storage.local_copy(key) as copy:
            assert copy.read_bytes() == data
        assert not copy.exists()
        with pytest.raises(FileNotFoundError):
            async with storage.local_copy("org_a/rec_missing.wav"):
                pass
        assert list(storage.staging.glob("*")) == []

        await storage.delete(key)
        await storage.delete(key)  # already gone: still fine
        assert await storage.stat(key) is None
        assert store.keys("calls") == {}
    finally:
        await storage.close()


async def test_a_multipart_upload_cancelled_or_failed_midway_is_aborted(
    store: ObjectStore, tmp_path: Path
) -> None:
    """The store keeps (and bills) the parts of an upload never completed nor aborted."""
    storage = S3Storage(tmp_path, store.url("direct"), endpoint_url=store.endpoint_url)
    source = tmp_path / "big.wav"
    source.write_bytes(secrets.token_bytes(3 * PART_SIZE + 5))
    try:
        task = asyncio.create_task(storage.upload(source, "org_a/rec_a.wav", "0" * 64))
        await eventually(lambda: bool(store.multipart_uploads()))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(store.multipart_uploads) == []

        source.unlink()  # fails after the multipart upload was begun
        with pytest.raises(FileNotFoundError):
            await storage.upload(source, "org_a/rec_b.wav", "0" * 64)
        assert await asyncio.to_thread(store.multipart_uploads) == []
        assert store.keys("direct") == {}
    finally:
        await storage.close()


# --- an unreachable store --------------------------------------------------------------------


async def test_an_unreachable_store_is_503_storage_unavailable_and_not_ready(
    stack: Stack, api: httpx.AsyncClient, speech: Path, tmp_path: Path, wav: bytes
) -> None:
    project_id, record_id = await new_upload(api, speech)
    env = {**stack.env, "AICA_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    with serving_api(env, tmp_path / "down.log") as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers=stack.headers, timeout=60) as c:
            ready = await c.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["storage"].startswith("error:")

            uploaded = await c.post(
                "/api/v1/records/upload",
                files={"file": ("call.wav", wav, "audio/wav")},
                data={"projectId": project_id},
            )
            assert_rest_error(uploaded, 503, "STORAGE_UNAVAILABLE")
            audio = await c.get(f"/api/v1/records/{record_id}/audio")
            assert_rest_error(audio, 503, "STORAGE_UNAVAILABLE")

            operations = {
                "query": UPLOAD_MUTATION,
                "variables": {"input": {"projectId": project_id, "file": None}},
            }
            graphql = await c.post(
                "/graphql",
                data={
                    "operations": json.dumps(operations),
                    "map": json.dumps({"0": ["variables.input.file"]}),
                },
                files={"0": ("call.wav", wav, "audio/wav")},
            )
            assert graphql.json()["errors"][0]["extensions"]["code"] == "STORAGE_UNAVAILABLE"
    assert staged_files(stack) == []
    listed = await api.get("/api/v1/records", params={"projectId": project_id})
    assert listed.json()["meta"]["total"] == 1  # the refused uploads made no records
    assert (await api.get("/readyz")).json()["checks"]["storage"] == "ok"


async def test_a_job_that_cannot_reach_the_store_waits_without_spending_an_attempt(
    stack: Stack, api: httpx.AsyncClient, speech: Path, tmp_path: Path
) -> None:
    _, record_id = await new_upload(api, speech)
    dead = f"http://127.0.0.1:{free_port()}"
    cut_off = start_aica(
        worker_env(stack, tmp_path, S3_ENDPOINT_URL=dead), tmp_path / "cut-off.log", "worker"
    )
    try:
        log = tmp_path / "cut-off.log"
        await eventually(lambda: f"record {record_id} waits" in log.read_text(), seconds=120)
        await asyncio.sleep(2)  # long enough for a retry (1 s) or two
    finally:
        stop(cut_off)
    row = await record_row(stack, record_id)
    assert (row["status"], row["attempts"], row["transcripts"]) == ("processing", 0, 0)

    worker = start_aica(worker_env(stack, tmp_path), tmp_path / "worker.log", "worker")
    try:
        done = await wait_for(stack, record_id, lambda r: r["status"] in ("completed", "failed"))
    finally:
        stop(worker)
    assert done["status"] == "completed", (tmp_path / "worker.log").read_text()[-3000:]
    assert done["attempts"] == 1


async def test_a_record_deleted_while_the_store_is_down_is_hidden_and_its_object_goes_later(
    stack: Stack, store: ObjectStore, api: httpx.AsyncClient, speech: Path, tmp_path: Path
) -> None:
    _, record_id = await new_upload(api, speech)
    key = (await record_keys(stack, record_id))["audio_key"]
    env = {**stack.env, "AICA_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    with serving_api(env, tmp_path / "down.log") as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers=stack.headers, timeout=60) as c:
            assert (await c.delete(f"/api/v1/records/{record_id}")).status_code == 204

    assert_rest_error(await api.get(f"/api/v1/records/{record_id}"), 404, "NOT_FOUND")
    kept = store.keys()
    assert key in kept  # until the store answers again, and the row with it

    purged = await asyncio.to_thread(run_aica, stack.env, "retention")
    assert "1 records deleted" in purged.stdout, purged.stdout
    gone = store.keys()
    assert key not in gone
    assert await fetch(stack, "SELECT id FROM records WHERE id = $1", record_id) == []


# --- aica storage migrate ----------------------------------------------------------------------


def migrate(env: dict[str, str], to: str, *more: str) -> subprocess.CompletedProcess[str]:
    return run_aica(env, "storage", "migrate", "--to", to, *more)


async def test_migrate_copies_the_local_tree_resumes_verifies_and_may_remove_local_files(
    stack: Stack, store: ObjectStore, tmp_path: Path
) -> None:
    data_dir = tmp_path / "local-data"
    files = {
        "org_a/rec_one.wav": secrets.token_bytes(1000),
        "org_a/rec_one_redacted.wav": secrets.token_bytes(500),
        "org_b/rec_two.mp3": secrets.token_bytes(PART_SIZE + 3),
    }
    for key, data in files.items():
        (data_dir / "audio" / key).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / "audio" / key).write_bytes(data)
    (data_dir / "audio" / "notes.txt").write_text("not a recording")
    env = {**stack.env, "AICA_DATA_DIR": str(data_dir)}
    to = store.url("migrated")
    sha = {key: hashlib.sha256(data).hexdigest() for key, data in files.items()}

    # an earlier run got one file across before it was interrupted
    one = "org_a/rec_one.wav"
    store.put(one, files[one], "migrated", sha256=sha[one])
    first = await asyncio.to_thread(migrate, env, to)
    assert "2 copied, 1 already there, 0 local files removed" in first.stdout
    assert f"AICA_STORAGE_URL={to}" in first.stdout
    assert re.search(r"copying recordings .* (\d+\.\d)/\1 MB", first.stderr)  # bar at 100 %
    assert store.keys("migrated") == {key: len(data) for key, data in files.items()}
    for key, data in files.items():
        assert store.get(key, "migrated") == data
        assert store.head(key, "migrated")["Metadata"]["sha256"] == sha[key]

    store.put("org_b/rec_two.mp3", b"a different file", "migrated", sha256="0" * 64)
    again = await asyncio.to_thread(migrate, env, to, "--remove-local")
    assert "1 copied, 2 already there, 3 local files removed" in again.stdout
    assert store.get("org_b/rec_two.mp3", "migrated") == files["org_b/rec_two.mp3"]
    assert sorted(p.name for p in (data_dir / "audio").rglob("*") if p.is_file()) == ["notes.txt"]


async def test_a_storage_url_or_endpoint_that_is_not_one_is_refused_by_name(
    stack: Stack, store: ObjectStore, tmp_path: Path
) -> None:
    env = {**stack.env, "AICA_DATA_DIR": str(tmp_path)}
    for bad_env, target, message in (
        (env, "/tmp/x", "--to must look like s3://bucket/prefix"),
        ({**env, "AICA_STORAGE_URL": "ftp://x"}, store.url(), "AICA_STORAGE_URL: "),
        ({**env, "AICA_S3_ENDPOINT_URL": "minio:9000"}, store.url(), "AICA_S3_ENDPOINT_URL: "),
    ):
        with pytest.raises(subprocess.CalledProcessError) as refused:
            await asyncio.to_thread(migrate, bad_env, target)
        assert message in refused.value.stderr
        assert "Traceback" not in refused.value.stderr
