"""The client examples under examples/ run unedited against a live server: each uploads a
recording, hears it finish on recordFinished and prints it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.audio import AudioFactory
from tests.conftest import Tenant, make_project

EXAMPLES = Path(__file__).parent.parent / "examples"
GREETING = "Hello, thank you for calling support. How can I help you today?"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> AudioFactory:
    return AudioFactory(tmp_path_factory.getbasetemp() / "audio-cache")


@pytest.fixture(scope="module")
def js_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/js_client with its locked packages installed beside it (in a copy)."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        pytest.skip("node and npm are not on PATH")
    folder = tmp_path_factory.mktemp("js-client")
    for name in ("package.json", "package-lock.json", "upload_and_follow.mjs"):
        shutil.copy(EXAMPLES / "js_client" / name, folder)
    try:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=folder,
            check=True,
            capture_output=True,
            timeout=180,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"npm ci failed (no registry?): {exc}")
    return folder / "upload_and_follow.mjs"


async def run(command: list[str], env: dict[str, str]) -> tuple[int, list[dict[str, Any]], str]:
    process = await asyncio.create_subprocess_exec(
        *command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        async with asyncio.timeout(180):
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    lines = [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]
    return process.returncode, lines, stderr.decode()


def environment(base_url: str, tenant: Tenant) -> dict[str, str]:
    return {"AICA_URL": base_url, "AICA_TOKEN": tenant.owner.token, "AICA_ORG_ID": tenant.org_id}


def assert_scored(printed: list[dict[str, Any]], files: list[Path]) -> None:
    assert sorted(r["fileName"] for r in printed) == sorted(p.name for p in files)
    for record in printed:
        assert record["status"] == "completed", record
        assert 0 <= record["qualityScore"] <= 100
        assert record["analysis"]["complianceStatus"] in ("passed", "failed", "not_checked")


async def test_the_python_example_uploads_and_prints_each_record_as_it_finishes(
    base_url: str, tenant: Tenant, audio: AudioFactory
) -> None:
    project = await make_project(tenant.org_id)
    files = [audio.speech(GREETING), audio.encoded(GREETING, "mp3")]
    command = [sys.executable, str(EXAMPLES / "python_client.py"), project.id, *map(str, files)]
    code, printed, stderr = await run(command, environment(base_url, tenant))
    assert code == 0, stderr
    assert_scored(printed, files)


async def test_the_javascript_example_uploads_and_prints_the_record_when_it_finishes(
    base_url: str, tenant: Tenant, audio: AudioFactory, js_client: Path
) -> None:
    project = await make_project(tenant.org_id)
    files = [audio.speech(GREETING)]
    command = ["node", str(js_client), project.id, *map(str, files)]
    code, printed, stderr = await run(command, environment(base_url, tenant))
    assert code == 0, stderr
    assert_scored(printed, files)


async def test_the_javascript_example_stops_at_once_when_the_org_is_refused(
    base_url: str, tenant: Tenant, other_tenant: Tenant, audio: AudioFactory, js_client: Path
) -> None:
    project = await make_project(tenant.org_id)
    env = {**environment(base_url, other_tenant), "AICA_ORG_ID": tenant.org_id}
    code, printed, stderr = await run(
        ["node", str(js_client), project.id, str(audio.speech(GREETING))], env
    )
    assert code != 0
    assert printed == []
    assert "FORBIDDEN" in stderr or "4403" in stderr
