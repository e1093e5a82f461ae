"""The speaker encoder's weights: Resemblyzer's ``pretrained.pt``, installed and verified.

The weights ship in the PyPI wheel ``resemblyzer==0.1.4`` (Apache-2.0), whose package needs
PyTorch; we need only the 17 MB file. ``aica models install speakers`` fetches the wheel with
``pip download --no-deps`` (or takes a wheel or ``.pt`` carried over from a machine with
internet), checks the pinned sha256 and stores the file as ``$AICA_DATA_DIR/models/speakers/
resemblyzer-0.1.4.pt``. Loading checks the hash again, so a replaced file is never run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

from aica.speech.voice_encoder import VoiceEncoder
from aica.speech.whisper_models import ModelUnavailable, file_sha256

WHEEL = "resemblyzer==0.1.4"
WHEEL_SHA256 = "8f12eb2f1a9982d32e8db7856de754709b59c93a77bcf0ff536584b619a9dd1f"
WEIGHTS_IN_WHEEL = "resemblyzer/pretrained.pt"
WEIGHTS_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
FILE_NAME = "resemblyzer-0.1.4.pt"
INSTALL_HINT = "run: aica models install speakers"


def weights_path(data_dir: Path) -> Path:
    return Path(data_dir).resolve() / "models" / "speakers" / FILE_NAME


def installed(data_dir: Path) -> bool:
    return weights_path(data_dir).is_file()


def install(data_dir: Path, source: Path | None = None) -> Path:
    """Install the weights from ``source`` (the wheel or the ``.pt``), else from PyPI."""
    target = weights_path(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".install.") as tmp:
        staging = Path(tmp) / FILE_NAME
        if source is None:
            source = _download(Path(tmp))
        if zipfile.is_zipfile(source) and source.suffix == ".whl":
            _check(source, WHEEL_SHA256, "the Resemblyzer wheel")
            with (
                zipfile.ZipFile(source) as wheel,
                wheel.open(WEIGHTS_IN_WHEEL) as weights,
                open(staging, "wb") as out,
            ):
                shutil.copyfileobj(weights, out)
        else:
            shutil.copyfile(source, staging)
        _check(staging, WEIGHTS_SHA256, "the speaker weights", shown=source)
        staging.replace(target)
    return target


def _download(directory: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    ran = subprocess.run(
        [*command, "--dest", str(directory), WHEEL],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    wheels = sorted(directory.glob("*.whl"))
    if ran.returncode != 0 or not wheels:
        raise ModelUnavailable(
            f"Could not download {WHEEL}: {ran.stderr.strip()[-400:]}. On a server without "
            "internet, run `pip download --no-deps resemblyzer==0.1.4` on another machine and "
            "then: aica models install speakers --from FILE.whl",
            reason="model_download_failed",
        )
    return wheels[0]


def _check(path: Path, expected: str, what: str, *, shown: Path | None = None) -> None:
    actual = file_sha256(path)
    if actual != expected:
        raise ModelUnavailable(
            f"{shown or path} is not {what} this version expects (sha256 {actual}, expected "
            f"{expected})",
            reason="model_checksum_mismatch",
            path=str(path),
        )


_encoders: dict[Path, VoiceEncoder] = {}
_lock = threading.Lock()


def load_encoder(data_dir: Path) -> VoiceEncoder:
    """The process's encoder, verified and loaded on first call (thread-safe)."""
    path = weights_path(data_dir)
    with _lock:
        encoder = _encoders.get(path)
        if encoder is None:
            if not path.is_file():
                raise ModelUnavailable(
                    f"The speaker model is not installed; {INSTALL_HINT}",
                    reason="model_not_installed",
                )
            _check(path, WEIGHTS_SHA256, "the speaker weights")
            encoder = _encoders[path] = VoiceEncoder.load(path)
        return encoder
