"""``aica models install``: provision a Whisper model for a server without internet."""

from __future__ import annotations

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

ROOT = Path(__file__).resolve().parent.parent


def aica(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICA_")}
    env.update(AICA_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "aica.cli", "models", "install", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


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


def test_speaker_weights_that_are_not_the_pinned_ones_are_not_installed(tmp_path: Path) -> None:
    carried = tmp_path / "pretrained.pt"
    carried.write_bytes(b"\x80\x02 not the resemblyzer weights")
    ran = aica(tmp_path / "data", "speakers", "--from", str(carried))
    assert ran.returncode == 1
    assert "sha256" in ran.stderr and str(carried) in ran.stderr
    assert not list((tmp_path / "data" / "models" / "speakers").glob("*.pt"))
