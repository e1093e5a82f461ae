"""Recordings with many channels or hours of audio: refused when probed, never a crash."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from aica.errors import BadInput
from aica.models import Record
from aica.speech.audio import Limits, decode, probe
from tests.conftest import Tenant, assert_rest_error, make_project, make_settings, running_server
from tests.http_fixtures import audio_host, serving
from tests.test_pipeline import finished, upload


def multichannel_wav(path: Path, levels: list[float], seconds: float = 1.0) -> Path:
    """A stdlib WAV whose channel i holds the constant ``levels[i]``."""
    frames = int(seconds * 8000)
    samples = np.tile(np.array(levels) * 32767, (frames, 1)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(len(levels))
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(samples.tobytes())
    return path


def test_decoding_eight_channels_does_not_crash_the_process(tmp_path: Path) -> None:
    """PyAV segfaulted turning an 8-channel planar frame into an array: run it in a child."""
    path = multichannel_wav(tmp_path / "eight.wav", [0.1] * 8)
    script = (
        "import sys; from aica.speech.audio import decode; "
        "print(len(decode(sys.argv[1], split_channels=True)[0]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert abs(int(done.stdout) - 16_000) < 200


def test_more_than_two_channels_are_mixed_down_to_their_average(tmp_path: Path) -> None:
    path = multichannel_wav(tmp_path / "four.wav", [0.1, 0.2, 0.3, 0.4])
    (mixed,) = decode(path, split_channels=True)
    middle = mixed[2000:-2000]
    assert np.allclose(middle, 0.25, atol=0.01)


def test_probe_refuses_more_channels_than_the_limit(tmp_path: Path) -> None:
    path = multichannel_wav(tmp_path / "twelve.wav", [0.1] * 12)
    with pytest.raises(BadInput) as exc:
        probe(path)
    assert exc.value.extensions["reason"] == "too_many_channels"
    assert exc.value.extensions["field"] == "file"
    assert probe(path, Limits(max_channels=12)).channels == 12


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_probe_refuses_audio_longer_than_the_limit(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"long.{fmt}"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(path), "trim", "0", "20"], check=True)
    with pytest.raises(BadInput) as exc:
        probe(path, Limits(max_seconds=10))
    assert exc.value.extensions["reason"] == "too_long"
    assert exc.value.extensions["field"] == "file"
    assert probe(path, Limits(max_seconds=30)).duration == pytest.approx(20, abs=0.1)


def test_a_header_that_understates_the_length_does_not_get_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "long.flac"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(path), "trim", "0", "20"], check=True)
    data = bytearray(path.read_bytes())
    packed = int.from_bytes(data[18:26], "big")  # STREAMINFO: rate, channels, bits, samples
    data[18:26] = ((packed & ~((1 << 36) - 1)) | 8000).to_bytes(8, "big")  # "1 second"
    path.write_bytes(bytes(data))
    with pytest.raises(BadInput) as exc:
        probe(path, Limits(max_seconds=10))
    assert exc.value.extensions["reason"] == "too_long"


async def test_an_eight_channel_upload_is_transcribed_and_the_server_survives(
    client: httpx.AsyncClient, tenant: Tenant, tmp_path: Path
) -> None:
    project = await make_project(tenant.org_id)
    path = multichannel_wav(tmp_path / "eight.wav", [0.0] * 8, seconds=2)
    created = await upload(client, tenant, project.id, path)
    assert created.status_code == 201, created.text
    record = await finished(client, tenant, created.json()["data"]["id"])
    assert record["status"] == "completed", record
    assert record["channels"] == 8
    assert (await client.get("/healthz")).status_code == 200


async def test_an_upload_with_too_many_channels_is_400_naming_the_file(
    client: httpx.AsyncClient, tenant: Tenant, tmp_path: Path
) -> None:
    project = await make_project(tenant.org_id)
    path = multichannel_wav(tmp_path / "twelve.wav", [0.1] * 12)
    response = await upload(client, tenant, project.id, path)
    error = assert_rest_error(response, 400, "BAD_USER_INPUT")
    assert "12 channels" in error["message"] and error["field"] == "file"
    assert not await Record.filter(project_id=project.id).exists()


async def test_an_ingested_recording_with_too_many_channels_fails_the_record(
    client: httpx.AsyncClient, tenant: Tenant, tmp_path: Path
) -> None:
    project = await make_project(tenant.org_id)
    path = multichannel_wav(tmp_path / "twelve.wav", [0.1] * 12)
    async with serving(audio_host({"call.wav": path})) as host:
        body = {"projectId": project.id, "audioUrl": f"{host}/files/call.wav", "externalId": "m"}
        created = await client.post("/api/v1/records/ingest", json=body, headers=tenant.headers)
        record = await finished(client, tenant, created.json()["data"]["id"])
    assert record["status"] == "failed"
    assert "12 channels" in record["error"]


@pytest.fixture
async def short_audio_only(base_url: str, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A second API process accepting recordings of at most 10 seconds."""
    settings = make_settings(max_audio_seconds=10)
    async with (
        running_server(settings, database_url, lifespan="off") as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield client


async def test_an_upload_longer_than_the_limit_is_400_and_leaves_nothing(
    short_audio_only: httpx.AsyncClient, tenant: Tenant, tmp_path: Path
) -> None:
    project = await make_project(tenant.org_id)
    path = tmp_path / "long.flac"
    await asyncio.to_thread(
        subprocess.run,
        ["sox", "-n", "-r", "8000", "-c", "6", str(path), "trim", "0", "60"],
        check=True,
    )
    response = await upload(short_audio_only, tenant, project.id, path)
    error = assert_rest_error(response, 400, "BAD_USER_INPUT")
    assert error["reason"] == "too_long" and error["field"] == "file"
    assert not await Record.filter(project_id=project.id).exists()
