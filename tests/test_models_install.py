"""``aica models install``: provision a Whisper model for a server without internet."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aica.config import Settings
from aica.speech.transcribe import Transcriber
from aica.speech.whisper_models import TINY_EN, file_sha256, resolve_model
from tests.audio import AudioFactory
from tests.conftest import free_port
from tests.http_fixtures import serving
from tests.model_hub import model_hub

ROOT = Path(__file__).resolve().parent.parent


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AICA_", "HF_"))}
    env.update(AICA_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT), **extra)
    return env


def aica(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aica.cli", "models", "install", *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


async def install_from_hub(data_dir: Path, name: str, hub: str) -> tuple[int, str]:
    """``aica models install NAME`` against the hub at ``hub``; its exit code and stderr.

    Run without blocking the event loop, which serves the hub in this process.
    """
    env = _env(data_dir, HF_ENDPOINT=hub, HF_HOME=str(data_dir / "hf-home"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aica.cli", "models", "install", name,
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


@pytest.fixture(scope="module")
def tiny_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CTranslate2 Whisper model directory as one would carry it over from another machine."""
    source = Path(resolve_model("tiny.en", tmp_path_factory.mktemp("resolve")))
    return Path(shutil.copytree(source, tmp_path_factory.mktemp("carried") / "small"))


def test_the_packaged_model_is_verified_and_reported_ready(tmp_path: Path) -> None:
    ran = aica(tmp_path, "tiny.en")
    assert ran.returncode == 0, ran.stderr
    directory = Path(ran.stdout.strip().removeprefix("tiny.en is ready in "))
    assert file_sha256(directory / "model.bin") == TINY_EN.sha256
    assert (tmp_path / "models" / "verified").is_dir()  # later starts skip the hash


def test_a_carried_model_directory_is_installed_and_transcribes(
    tmp_path: Path, tiny_copy: Path
) -> None:
    ran = aica(tmp_path, str(tiny_copy))
    assert ran.returncode == 0, ran.stderr
    installed = tmp_path / "models" / "small"
    assert file_sha256(installed / "model.bin") == file_sha256(tiny_copy / "model.bin")
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["small"]  # no staging left

    # the hub name now resolves to the installed copy: no download needed
    assert resolve_model("small", tmp_path) == str(installed)
    speech = AudioFactory(tmp_path / "audio").speech("Thank you for calling, goodbye.")
    transcript = Transcriber(Settings(data_dir=tmp_path, whisper_model=str(installed))).transcribe(
        speech, language="en"
    )
    assert "calling" in transcript.text.lower()


def test_a_directory_that_is_not_a_model_is_refused_and_leaves_nothing(
    tmp_path: Path, tiny_copy: Path
) -> None:
    broken = Path(shutil.copytree(tiny_copy, tmp_path / "broken"))
    (broken / "tokenizer.json").unlink()
    ran = aica(tmp_path / "data", str(broken))
    assert ran.returncode == 1
    assert ran.stderr.startswith("error: ") and "lacks tokenizer.json" in ran.stderr
    assert "Traceback" not in ran.stderr
    assert not (tmp_path / "data" / "models").exists()


def test_an_unknown_model_name_is_refused_with_the_choices(tmp_path: Path) -> None:
    ran = aica(tmp_path, "gigantic-v9")
    assert ran.returncode == 1
    assert "Unknown Whisper model 'gigantic-v9'" in ran.stderr and "large-v3" in ran.stderr
    assert "Traceback" not in ran.stderr


async def test_a_hub_model_is_downloaded_verified_and_then_needs_no_hub(
    tmp_path: Path, tiny_copy: Path
) -> None:
    app, hits = model_hub("Systran/faster-whisper-small", tiny_copy)
    async with serving(app) as hub:
        code, stderr = await install_from_hub(tmp_path, "small", hub)
    assert code == 0, stderr
    assert "Traceback" not in stderr and "Warning" not in stderr
    installed = tmp_path / "models" / "small"
    assert hits["model.bin"] == 1
    assert file_sha256(installed / "model.bin") == file_sha256(tiny_copy / "model.bin")
    # the files the model needs, no download bookkeeping
    assert {p.name for p in installed.iterdir()} == {
        "config.json", "model.bin", "tokenizer.json", "vocabulary.txt"
    }  # fmt: skip
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["small"]
    # the hub is gone: the size name resolves to the installed copy
    assert resolve_model("small", tmp_path) == str(installed)


async def test_a_download_cut_short_keeps_the_installed_model_and_says_what_to_do(
    tmp_path: Path, tiny_copy: Path
) -> None:
    app, _ = model_hub("Systran/faster-whisper-small", tiny_copy)
    async with serving(app) as hub:
        assert (await install_from_hub(tmp_path, "small", hub))[0] == 0
    before = file_sha256(tmp_path / "models" / "small" / "model.bin")

    cut, _ = model_hub("Systran/faster-whisper-small", tiny_copy, truncate="model.bin")
    async with serving(cut) as hub:
        code, stderr = await install_from_hub(tmp_path, "small", hub)
    assert code == 1
    assert stderr.startswith("error: Could not download Whisper model small")
    assert "aica models install DIRECTORY" in stderr and "Traceback" not in stderr
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["small"]  # no staging left
    assert file_sha256(tmp_path / "models" / "small" / "model.bin") == before


async def test_an_unreachable_hub_fails_the_install_with_the_offline_route(
    tmp_path: Path,
) -> None:
    code, stderr = await install_from_hub(tmp_path, "medium", f"http://127.0.0.1:{free_port()}")
    assert code == 1
    assert stderr.startswith("error: Could not download Whisper model medium")
    assert "aica models install DIRECTORY" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "models" / "medium").exists()
