"""Audio in a directory on this machine (``<data dir>/audio/<key>``): the embedded default."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiofiles
import aiofiles.os

from aica.storage.base import Storage, StoredObject, check_key, remove_file

_CHUNK = 1 << 16


class LocalStorage(Storage):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.audio = data_dir.resolve() / "audio"

    def ensure_dirs(self) -> None:
        super().ensure_dirs()
        self.audio.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.audio / check_key(key)

    async def _move_in(self, source: Path, key: str, sha256: str | None) -> None:
        """An atomic rename: staging and the audio tree share one filesystem."""
        target = self.path(key)
        await aiofiles.os.makedirs(target.parent, exist_ok=True)
        await aiofiles.os.replace(source, target)

    async def delete(self, key: str | None) -> None:
        if key:
            await remove_file(self.path(key))

    async def stat(self, key: str) -> StoredObject | None:
        path = self.path(key)
        try:
            found = await aiofiles.os.stat(path)
        except FileNotFoundError:
            return None
        return StoredObject(key, found.st_size, found.st_mtime, path)

    async def read(self, key: str, start: int, stop: int) -> AsyncGenerator[bytes, None]:
        async with aiofiles.open(self.path(key), "rb") as source:
            await source.seek(start)
            while start < stop and (chunk := await source.read(min(_CHUNK, stop - start))):
                start += len(chunk)
                yield chunk

    @asynccontextmanager
    async def local_copy(self, key: str) -> AsyncIterator[Path]:
        yield self.path(key)

    async def ping(self) -> None:
        """A directory on this machine: nothing to reach."""

    async def close(self) -> None:
        """Nothing held open between calls."""
