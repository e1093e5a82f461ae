"""Uploads: the caller is checked before the body is read, each org streams a bounded number at
once, and staged files a killed process left are swept at start (issue 8, item 7)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from aica.app import create_app
from aica.models import Role
from aica.storage import LocalStorage
from tests.conftest import (
    Tenant,
    make_project,
    make_settings,
    new_tenant,
    running_server,
)

BOUNDARY = "gateboundary"
DECLARED = 200 * 1024 * 1024
"""What the request announces; the test sends a few bytes of it and waits."""


@asynccontextmanager
async def stalled_upload(
    base_url: str, path: str, headers: dict[str, str], fields: dict[str, str]
) -> AsyncIterator[asyncio.StreamReader]:
    """A multipart POST that announces 200 MB, sends the form fields and the start of the
    file, then stalls; yields the reader for the response."""
    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    head = "".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    )
    head += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    )
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {url.hostname}",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        f"Content-Length: {DECLARED}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n" + head).encode() + b"RIFF" + b"\0" * 4096)
    await writer.drain()
    try:
        yield reader
    finally:
        writer.close()
        await writer.wait_closed()


async def status_of(reader: asyncio.StreamReader) -> tuple[int, str]:
    """The response's status and body, read while the request body is still unsent."""
    async with asyncio.timeout(10):
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        body = await reader.readexactly(length)
    return int(status_line.split()[1]), body.decode()


def graphql_fields(project_id: str) -> dict[str, str]:
    operations = {
        "query": "mutation U($input: UploadRecordInput!) { uploadRecord(input: $input) { id } }",
        "variables": {"input": {"projectId": project_id, "file": None}},
    }
    files = {"0": ["variables.input.file"]}
    return {"operations": json.dumps(operations), "map": json.dumps(files)}


async def test_rest_upload_without_a_token_is_401_before_the_body_is_read(
    base_url: str, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    async with stalled_upload(
        base_url, "/api/v1/records/upload", {}, {"projectId": project.id}
    ) as reader:
        status, body = await status_of(reader)
    assert status == 401 and json.loads(body)["error"]["code"] == "UNAUTHENTICATED"


async def test_graphql_multipart_upload_without_a_token_is_401_before_the_body_is_read(
    base_url: str, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    headers = {"X-Selected-Org-ID": tenant.org_id}
    async with stalled_upload(base_url, "/graphql", headers, graphql_fields(project.id)) as reader:
        status, body = await status_of(reader)
    assert status == 401
    assert json.loads(body)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_agent_is_refused_on_both_routes_before_the_body_is_read(
    base_url: str, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    agent = await tenant.add(Role.agent, agent_name="Ann")
    for path, fields in (
        ("/api/v1/records/upload", {"projectId": project.id}),
        ("/graphql", graphql_fields(project.id)),
    ):
        async with stalled_upload(base_url, path, agent.headers, fields) as reader:
            status, _ = await status_of(reader)
        assert status == 403, path


async def test_another_orgs_selection_is_refused_before_the_body_is_read(
    base_url: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    project = await make_project(other_tenant.org_id)
    headers = {**tenant.headers, "X-Selected-Org-ID": other_tenant.org_id}
    async with stalled_upload(
        base_url, "/api/v1/records/upload", headers, {"projectId": project.id}
    ) as reader:
        status, body = await status_of(reader)
    assert status == 403, body
    assert project.id not in body


@pytest.fixture
async def one_upload_per_org(base_url: str, database_url: str) -> AsyncIterator[str]:
    async with running_server(
        make_settings(max_concurrent_uploads_per_org=1), database_url, lifespan="off"
    ) as url:
        yield url


async def test_an_org_streams_a_bounded_number_of_uploads_at_once(
    one_upload_per_org: str, tenant: Tenant
) -> None:
    project = await make_project(tenant.org_id)
    other = await new_tenant("Initech")
    other_project = await make_project(other.org_id)
    path = "/api/v1/records/upload"
    async with (
        stalled_upload(one_upload_per_org, path, tenant.headers, {"projectId": project.id}),
        httpx.AsyncClient(base_url=one_upload_per_org, timeout=30) as client,
    ):
        await asyncio.sleep(0.2)  # the stalled upload holds the org's one slot
        files = {"file": ("a.wav", b"RIFF" + b"\0" * 100, "audio/wav")}
        second = await client.post(
            path, headers=tenant.headers, files=files, data={"projectId": project.id}
        )
        theirs = await client.post(
            path, headers=other.headers, files=files, data={"projectId": other_project.id}
        )
    assert second.status_code == 429, second.text
    assert second.json()["error"]["code"] == "RATE_LIMITED"
    assert theirs.status_code != 429, theirs.text  # another org's slots are its own
    async with httpx.AsyncClient(base_url=one_upload_per_org, timeout=30) as client:
        for _ in range(50):  # the slot is given back once the stalled upload is gone
            again = await client.post(
                path, headers=tenant.headers, files=files, data={"projectId": project.id}
            )
            if again.status_code != 429:
                break
            await asyncio.sleep(0.1)
    assert again.status_code != 429, again.text


def staged(root: Path, name: str, age: float) -> Path:
    path = root / "staging" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"partial")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_staged_files_a_killed_process_left_are_swept_and_live_ones_kept(tmp_path: Path) -> None:
    old_part = staged(tmp_path, "stg_" + "a" * 32 + ".part", age=3600)
    old_meta = staged(tmp_path, "stg_" + "a" * 32 + ".json", age=3600)
    live = staged(tmp_path, "stg_" + "b" * 32 + ".part", age=1)
    assert LocalStorage(tmp_path).sweep_staging() == 2
    assert not old_part.exists() and not old_meta.exists()
    assert live.exists()


async def test_the_server_sweeps_staging_when_it_starts(tmp_path: Path, database_url: str) -> None:
    leftover = staged(tmp_path, "stg_" + "c" * 32 + ".part", age=3600)
    create_app(make_settings(data_dir=tmp_path), database_url)
    assert not leftover.exists()
