"""What every audio store does: uploads stream into local staging, then move into the store.

Staging is always the process's own disk (``<data dir>/staging``): a file is sniffed, probed
and hashed there before it is accepted, and a staged file never outlives its request or job.
Keys are relative paths (``<org>/<record>.<ext>``), the same in every backend, so recordings
move between backends without touching rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

import aiofiles
import aiofiles.os

from aica.errors import BadInput, PayloadTooLarge

STALE_STAGED_SECONDS = 600.0
_STAGED_ID = re.compile(r"^stg_[0-9a-f]{32}$")
KEY = re.compile(r"^[a-z0-9_]+/[a-z0-9_]+\.[a-z0-9]+$")
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class StagedFile:
    id: str
    path: Path
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class StoredObject:
    """A stored file's size and modification time; ``path`` when it is on this machine's
    disk (served from there), else read through ``Storage.read``; ``sha256`` when the store
    keeps it beside the file (object metadata)."""

    key: str
    size: int
    modified: float
    path: Path | None = None
    sha256: str | None = None


def check_key(key: str) -> str:
    if not KEY.match(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


async def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    async with aiofiles.open(path, "rb") as source:
        while chunk := await source.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Storage(ABC):
    """Staging on local disk (shared by the backends) plus the store the backend adds."""

    def __init__(self, data_dir: Path) -> None:
        self.staging = data_dir.resolve() / "staging"

    def ensure_dirs(self) -> None:
        self.staging.mkdir(parents=True, exist_ok=True)

    def sweep_staging(self, older_than: float = STALE_STAGED_SECONDS) -> int:
        """Remove staged files a killed process left behind; returns how many.

        Only files untouched for ``older_than`` seconds go: another process sharing the data
        directory may be writing its own right now, and a live upload or download writes
        continuously (and is consumed within its request or job once written).
        """
        cutoff = time.time() - older_than
        removed = 0
        for path in self.staging.glob("stg_*"):
            with contextlib.suppress(FileNotFoundError):
                if path.suffix in (".part", ".json") and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed

    async def stage(self, chunks: AsyncIterable[bytes], limit: int) -> StagedFile:
        """Write ``chunks`` to a new staged file, hashing as it goes; over ``limit`` is 413.

        Nothing is left behind on failure: the partial file is removed.
        """
        self.ensure_dirs()
        staged_id = "stg_" + secrets.token_hex(16)
        path = self.staging / f"{staged_id}.part"
        digest = hashlib.sha256()
        size = 0
        try:
            async with aiofiles.open(path, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise PayloadTooLarge(
                            f"File is larger than the {limit}-byte limit", limit=limit
                        )
                    digest.update(chunk)
                    await out.write(chunk)
            staged = StagedFile(staged_id, path, size, digest.hexdigest())
            async with aiofiles.open(self._meta(staged_id), "w") as meta:
                await meta.write(json.dumps({"size": size, "sha256": staged.sha256}))
        except BaseException:
            await self.discard(staged_id)
            raise
        return staged

    def staged(self, staged_id: str) -> StagedFile:
        """A file staged earlier (by the REST upload route), found by its id."""
        if _STAGED_ID.match(staged_id):
            try:
                meta = json.loads(self._meta(staged_id).read_text())
                path = self.staging / f"{staged_id}.part"
                if path.is_file():
                    return StagedFile(staged_id, path, meta["size"], meta["sha256"])
            except (OSError, ValueError, KeyError):
                pass
        raise BadInput("Unknown or expired staged file", field="stagedFileId")

    async def discard(self, staged_id: str) -> None:
        if _STAGED_ID.match(staged_id):
            await remove_file(self.staging / f"{staged_id}.part")
            await remove_file(self._meta(staged_id))

    def _meta(self, staged_id: str) -> Path:
        return self.staging / f"{staged_id}.json"

    async def commit(self, staged: StagedFile, org_id: str, record_id: str, ext: str) -> str:
        """Move a staged file into the store under the record's key; returns the key. The
        staged file is gone afterwards, stored or (on failure) discarded."""
        key = f"{org_id}/{record_id}.{ext}"
        try:
            await self._move_in(staged.path, check_key(key), staged.sha256)
        finally:
            await self.discard(staged.id)
        return key

    def derived_key(self, key: str, tag: str) -> str:
        """The key of a file made from the one at ``key`` (``<org>/<record>_<tag>.wav``)."""
        folder, name = key.split("/", 1)
        return f"{folder}/{name.split('.', 1)[0]}_{tag}.wav"

    def scratch(self) -> Path:
        """A new staging path to write a derived file into before ``put`` (swept if left)."""
        self.ensure_dirs()
        return self.staging / f"stg_{secrets.token_hex(16)}.part"

    async def put(self, source: Path, key: str) -> None:
        """Move a finished local file to ``key``, replacing what is there."""
        await self._move_in(source, check_key(key), None)

    @abstractmethod
    async def _move_in(self, source: Path, key: str, sha256: str | None) -> None:
        """Store the local file ``source`` at ``key`` (it is gone from ``source`` after)."""

    @abstractmethod
    async def delete(self, key: str | None) -> None:
        """Remove the file at ``key``; one already gone is not an error."""

    @abstractmethod
    async def stat(self, key: str) -> StoredObject | None:
        """The stored file at ``key``, or None when there is none."""

    @abstractmethod
    def read(self, key: str, start: int, stop: int) -> AsyncGenerator[bytes, None]:
        """Bytes ``start`` up to ``stop`` (exclusive) of the file at ``key``."""

    @abstractmethod
    def local_copy(self, key: str) -> AbstractAsyncContextManager[Path]:
        """A path on this machine holding the file at ``key`` for the block (for decoding)."""

    async def presigned_url(
        self, key: str, *, file_name: str | None, content_type: str, disposition: str
    ) -> str | None:
        """Where a client may fetch ``key`` itself, when the store hands out such links."""
        return None

    @abstractmethod
    async def ping(self) -> None:
        """Raise ``StorageUnavailable`` when the store cannot be reached (readiness)."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections (the end of the process)."""


async def remove_file(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        await aiofiles.os.remove(path)
