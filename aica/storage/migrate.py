"""Copying the local audio tree into an object store (``aica storage migrate``).

Keys stay what they are (``<org>/<record>.<ext>`` relative to ``<data dir>/audio``), so no
row changes: once every file is across, point ``AICA_STORAGE_URL`` at the store. Resumable:
an object already there with the same size and sha256 is not sent again. Every copy is
verified by reading it back and hashing it before the local file may be removed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aica.storage.base import KEY, sha256_of
from aica.storage.local import LocalStorage
from aica.storage.s3 import S3Storage


class VerifyFailed(Exception):
    """What the store holds is not what was sent."""


@dataclass(frozen=True, slots=True)
class LocalFile:
    key: str
    path: Path
    size: int


@dataclass
class Migration:
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Already in the store with the same size and sha256 (an earlier, interrupted run)."""
    removed: list[str] = field(default_factory=list)


def local_files(source: LocalStorage) -> list[LocalFile]:
    """Every stored recording under the data directory's audio tree, in key order."""
    found = []
    for path in sorted(source.audio.rglob("*")):
        key = path.relative_to(source.audio).as_posix()
        if path.is_file() and KEY.match(key):
            found.append(LocalFile(key, path, path.stat().st_size))
    return found


async def migrate(
    source: LocalStorage,
    target: S3Storage,
    *,
    remove_local: bool = False,
    on_bytes: Callable[[int], None] = lambda _: None,
) -> Migration:
    """Copy every local recording to ``target``; ``on_bytes`` hears how many bytes are done
    (sent, or found there already), for a progress bar."""
    done = Migration()
    for file in local_files(source):
        sha256 = await sha256_of(file.path)
        there = await target.stat(file.key)
        if there is not None and (there.size, there.sha256) == (file.size, sha256):
            done.skipped.append(file.key)
            on_bytes(file.size)
            if remove_local:
                await verify(target, file, sha256)
        else:
            await target.upload(file.path, file.key, sha256, on_part=on_bytes)
            await verify(target, file, sha256)
            done.copied.append(file.key)
        if remove_local:
            file.path.unlink()
            done.removed.append(file.key)
    return done


async def verify(target: S3Storage, file: LocalFile, sha256: str) -> None:
    """Read the object back whole: its size and sha256 must be the local file's."""
    digest, size = hashlib.sha256(), 0
    async for chunk in target.read(file.key, 0, file.size + 1):
        digest.update(chunk)
        size += len(chunk)
    if (size, digest.hexdigest()) != (file.size, sha256):
        raise VerifyFailed(
            f"{file.key}: the store holds {size} bytes (sha256 {digest.hexdigest()}), "
            f"the local file {file.size} bytes (sha256 {sha256})"
        )
