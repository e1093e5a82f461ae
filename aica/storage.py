"""Audio files on local disk: uploads stream into staging, then move into place atomically.

Keys are relative paths (``<org>/<record>.<ext>``) so the layout can move to object storage
without touching rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import time
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path

import aiofiles
import aiofiles.os

from aica.errors import BadInput, PayloadTooLarge

STALE_STAGED_SECONDS = 600.0
_STAGED_ID = re.compile(r"^stg_[0-9a-f]{32}$")
_KEY = re.compile(r"^[a-z0-9_]+/[a-z0-9_]+\.[a-z0-9]+$")


@dataclass(frozen=True, slots=True)
class StagedFile:
    id: str
    path: Path
    size: int
    sha256: str


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.staging = self.root / "staging"
        self.audio = self.root / "audio"

    def ensure_dirs(self) -> None:
        self.staging.mkdir(parents=True, exist_ok=True)
        self.audio.mkdir(parents=True, exist_ok=True)

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
            await self._remove(self.staging / f"{staged_id}.part")
            await self._remove(self._meta(staged_id))

    def _meta(self, staged_id: str) -> Path:
        return self.staging / f"{staged_id}.json"

    async def commit(self, staged: StagedFile, org_id: str, record_id: str, ext: str) -> str:
        """Move a staged file into the audio tree (same filesystem: an atomic rename)."""
        key = f"{org_id}/{record_id}.{ext}"
        target = self.path(key)
        await aiofiles.os.makedirs(target.parent, exist_ok=True)
        await aiofiles.os.replace(staged.path, target)
        await self._remove(self._meta(staged.id))
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
        """Move a finished local file to ``key``, replacing what is there (atomic rename)."""
        target = self.path(key)
        await aiofiles.os.makedirs(target.parent, exist_ok=True)
        await aiofiles.os.replace(source, target)

    def path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.audio / key

    async def delete(self, key: str | None) -> None:
        if key:
            await self._remove(self.path(key))

    @staticmethod
    async def _remove(path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            await aiofiles.os.remove(path)
