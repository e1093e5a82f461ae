"""deploy/nginx.conf in front of two real ``aica serve`` processes, as docker-compose.yml runs
them: balancing, request ids, WebSocket subscriptions, streamed uploads and audio, and one
process stopping. Skipped where nginx is not installed (``.ci/run`` installs nginx-light).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.audio import AudioFactory
from tests.conftest import ADMIN_DSN, REDIS_URL, free_port
from tests.processes import run_aica, start_aica, stop, wait_answering
from tests.ws import subscriptions

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
UPLOAD_LIMIT = 256 * 1024
UPDATED = """
subscription Updated($projectId: ID!) {
  recordUpdated(projectId: $projectId) { id status }
}
"""


@dataclass
class Proxied:
    url: str
    apis: list[subprocess.Popen[bytes]]
    api_logs: list[Path]
    access_log: Path
    token: str
    org_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "X-Selected-Org-ID": self.org_id}


def nginx_conf(ports: list[int], listen: int, access_log: Path) -> str:
    """The shipped configuration with the compose names replaced by this machine's ports."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    for name, port in zip(("api1", "api2"), ports, strict=True):
        conf = conf.replace(f"server {name}:8000", f"server 127.0.0.1:{port}")
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    return conf.replace("access_log /dev/stdout aica;", f"access_log {access_log} aica;")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    nginx = shutil.which("nginx")
    if nginx is None:
        pytest.skip("nginx is not installed here (apt-get install nginx-light)")
    root = tmp_path_factory.mktemp("proxied")
    name = f"aica_proxied_{secrets.token_hex(4)}"
    subprocess.run(["psql", ADMIN_DSN, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICA_")}
    env.update(
        AICA_DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}",
        AICA_DATA_DIR=str(root / "data"),  # the local audio store, shared by both
        AICA_REDIS_URL=REDIS_URL,
        AICA_RUN_WORKERS="0",  # no consumers: uploaded records stay pending
        AICA_RATE_LIMIT_PER_MINUTE="0",
        AICA_MAX_UPLOAD_BYTES=str(UPLOAD_LIMIT),
        PYTHONPATH=str(ROOT),
    )
    processes: list[subprocess.Popen[bytes]] = []
    try:
        run_aica(env, "migrate")
        bootstrap = ["bootstrap", "--org-name", "Proxied", "--email", "p@example.com", "--json"]
        created = json.loads(run_aica(env, *bootstrap).stdout.strip().splitlines()[-1])
        ports = [free_port(), free_port()]
        logs = [root / "api1.log", root / "api2.log"]
        for port, log in zip(ports, logs, strict=True):
            processes.append(start_aica(env, log, "serve", "--port", str(port)))
        for port, log, process in zip(ports, logs, processes, strict=True):
            wait_answering(f"http://127.0.0.1:{port}/readyz", process, log)

        listen = free_port()
        access_log = root / "access.log"
        (root / "nginx.conf").write_text(nginx_conf(ports, listen, access_log))
        directives = "daemon off; pid nginx.pid;" + (" user root;" if os.geteuid() == 0 else "")
        with (root / "nginx.log").open("wb") as out:
            proxy = subprocess.Popen(
                [nginx, "-p", str(root), "-c", "nginx.conf", "-e", "stderr", "-g", directives],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        processes.append(proxy)
        url = f"http://127.0.0.1:{listen}"
        wait_answering(f"{url}/healthz", proxy, root / "nginx.log")
        yield Proxied(url, processes[:2], logs, access_log, created["token"], created["orgId"])
    finally:
        for process in reversed(processes):
            stop(process)
        subprocess.run(
            ["psql", ADMIN_DSN, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
            check=False,
        )


@pytest.fixture
async def api(proxied: Proxied) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=proxied.url, headers=proxied.headers, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.mktemp("proxied-audio"))


async def new_project(api: httpx.AsyncClient) -> str:
    created = await api.post("/api/v1/projects", json={"name": f"p-{secrets.token_hex(3)}"})
    assert created.status_code == 201, created.text
    project_id: str = created.json()["data"]["id"]
    return project_id


async def upload(api: httpx.AsyncClient, project_id: str, path: Path) -> httpx.Response:
    content = await asyncio.to_thread(path.read_bytes)
    return await api.post(
        "/api/v1/records/upload",
        files={"file": ("call.wav", content, "audio/wav")},
        data={"projectId": project_id},
    )


def logged_request_ids(log: Path) -> set[str]:
    return {
        line["request_id"]
        for line in map(json.loads, log.read_text().splitlines())
        if line.get("event") == "request" and "request_id" in line
    }


async def test_requests_are_shared_by_both_processes_and_keep_one_request_id(
    proxied: Proxied, api: httpx.AsyncClient
) -> None:
    answers = [await api.get("/api/v1/projects") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 6
    ids = [a.headers["x-request-id"] for a in answers]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids), ids  # made by the proxy
    async with asyncio.timeout(5):  # each process logs a request once it has answered
        while True:
            served = [logged_request_ids(log) & set(ids) for log in proxied.api_logs]
            if served[0] | served[1] == set(ids):
                break
            await asyncio.sleep(0.05)
    assert all(served), "one API process got no request"
    assert served[0] | served[1] == set(ids) and not served[0] & served[1]

    mine = await api.get("/api/v1/projects", headers={"X-Request-Id": "client-chosen-1"})
    assert mine.headers["x-request-id"] == "client-chosen-1"
    async with asyncio.timeout(5):  # nginx logs once the response is out
        while True:
            if "request_id=client-chosen-1" in proxied.access_log.read_text():
                break
            await asyncio.sleep(0.05)


async def test_a_subscription_through_the_proxy_hears_an_upload_made_through_it(
    proxied: Proxied, api: httpx.AsyncClient, tones: AudioFactory
) -> None:
    project_id = await new_project(api)
    async with subscriptions(proxied.url, f"Bearer {proxied.token}", proxied.org_id) as live:
        await live.subscribe(UPDATED, {"projectId": project_id})
        await asyncio.sleep(0.3)  # the subscription is registered before the upload
        uploaded = await upload(api, project_id, tones.tones(2.0))
        assert uploaded.status_code == 201, uploaded.text
        record_id = uploaded.json()["data"]["id"]
        heard = await live.until(lambda p: p["data"]["recordUpdated"]["id"] == record_id, 30)
    assert heard["data"]["recordUpdated"]["status"] == "pending"


async def test_audio_streams_through_the_proxy_by_range(
    api: httpx.AsyncClient, tones: AudioFactory
) -> None:
    path = tones.tones(2.0)
    uploaded = await upload(api, await new_project(api), path)
    record_id = uploaded.json()["data"]["id"]
    part = await api.get(f"/api/v1/records/{record_id}/audio", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206, part.text
    assert part.headers["content-range"] == f"bytes 0-99/{path.stat().st_size}"
    assert part.content == path.read_bytes()[:100]


async def test_an_upload_over_the_limit_is_refused_by_the_api_in_its_own_format(
    api: httpx.AsyncClient, tones: AudioFactory
) -> None:
    path = tones.tones(8.0)
    assert path.stat().st_size > UPLOAD_LIMIT
    refused = await upload(api, await new_project(api), path)
    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_metrics_are_not_served_through_the_proxy(api: httpx.AsyncClient) -> None:
    assert (await api.get("/metrics")).status_code == 404


async def test_when_one_api_process_stops_the_other_answers_everything(
    proxied: Proxied, api: httpx.AsyncClient
) -> None:
    await asyncio.to_thread(stop, proxied.apis[0])
    answers = [await api.get("/api/v1/projects") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 6
