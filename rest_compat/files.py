"""Stored recordings served whole or by byte range, with Range errors in the REST envelope.

A file on this machine's disk is sent from there; a file in an object store is read with
ranged GETs through the same Range / If-Range / 416 handling (Starlette's ``FileResponse``,
given the object's size and time and a reader in place of the open file); a store that hands
out signed links answers 307 to one instead.
"""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from starlette.responses import (
    FileResponse,
    MalformedRangeHeader,
    RangeNotSatisfiable,
    RedirectResponse,
    Response,
)
from starlette.types import Receive, Scope, Send

from rest_compat.errors import RestError

WINDOW = 8 * 1024 * 1024
"""Bytes asked of the store per ranged GET: a client reading a whole file costs size/WINDOW
requests, one reading a few bytes never pulls more than this."""


class Stored(Protocol):
    @property
    def size(self) -> int: ...
    @property
    def modified(self) -> float: ...
    @property
    def path(self) -> Path | None: ...


class FileReader(Protocol):
    """What serving needs of the application's storage."""

    async def stat(self, key: str) -> Stored | None: ...

    def read(self, key: str, start: int, stop: int) -> AsyncGenerator[bytes, None]: ...

    async def presigned_url(
        self, key: str, *, file_name: str | None, content_type: str, disposition: str
    ) -> str | None: ...


class AudioFile(FileResponse):
    """Starlette answers a bad Range in plain text (400) or with an empty body (416)."""

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        try:
            return super()._parse_range_header(http_range, file_size)
        except MalformedRangeHeader as exc:
            raise RestError(
                "BAD_USER_INPUT", f"Bad Range header: {exc.content}", field="Range"
            ) from None
        except RangeNotSatisfiable as exc:
            raise RestError(
                "RANGE_NOT_SATISFIABLE",
                f"The range starts past the end of the file ({exc.max_size} bytes)",
                headers={"Content-Range": f"bytes */{exc.max_size}"},
                field="Range",
            ) from None


class _RemoteFile:
    """The two calls ``FileResponse`` makes of an open file (``seek``, ``read``), answered
    from the store in windows of ranged reads."""

    def __init__(self, files: FileReader, key: str, size: int) -> None:
        self.files, self.key, self.size = files, key, size
        self.position = 0
        self.buffer = b""
        self.stream: AsyncGenerator[bytes, None] | None = None

    async def seek(self, position: int) -> None:
        await self.aclose()
        self.position, self.buffer = position, b""

    async def read(self, size: int) -> bytes:
        while len(self.buffer) < size and self.position < self.size:
            fresh = self.stream is None
            if self.stream is None:
                stop = min(self.position + WINDOW, self.size)
                self.stream = self.files.read(self.key, self.position, stop)
            chunk = await anext(self.stream, b"")
            if not chunk:  # this window is done: the next one opens at the new position
                await self.aclose()
                if fresh:
                    raise RuntimeError(f"{self.key} is shorter in the store than its size")
                continue
            self.position += len(chunk)
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    async def aclose(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            await stream.aclose()


class StoredAudio(AudioFile):
    """An object in a store, served as ``AudioFile`` serves a local file."""

    def __init__(self, files: FileReader, key: str, found: Stored, **options: Any) -> None:
        regular = (stat.S_IFREG | 0o644, 0, 0, 1, 0, 0, found.size, 0, int(found.modified), 0)
        super().__init__(key, stat_result=os.stat_result(regular), **options)
        self.files, self.key, self.size = files, key, found.size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = {k: v for k, v in scope.get("extensions", {}).items() if "pathsend" not in k}
        await super().__call__({**scope, "extensions": extensions}, receive, send)

    @asynccontextmanager
    async def _open_file(self) -> AsyncIterator[Any]:
        remote = _RemoteFile(self.files, self.key, self.size)
        try:
            yield remote
        finally:
            await remote.aclose()


async def audio_response(files: FileReader, file: dict[str, Any]) -> Response:
    """``file`` is the GraphQL ``AudioFile`` the route's operation returned (authorized)."""
    key, content_type = file["key"], file["contentType"]
    file_name = file.get("fileName") or None
    disposition = file.get("disposition") or "inline"  # "attachment": asked to download
    url = await files.presigned_url(
        key, file_name=file_name, content_type=content_type, disposition=disposition
    )
    if url is not None:
        return RedirectResponse(url, status_code=307)
    found = await files.stat(key)
    if found is None:  # the row outlived its file (a disk restored without it)
        raise RestError("NOT_FOUND", "The audio file is missing from storage")
    options: dict[str, Any] = {
        "media_type": content_type,
        "headers": {"etag": f'"{file["sha256"]}"'} if file.get("sha256") else {},
        "filename": file_name,
        "content_disposition_type": disposition,
    }
    if found.path is not None:
        return AudioFile(found.path, **options)
    return StoredAudio(files, key, found, **options)
