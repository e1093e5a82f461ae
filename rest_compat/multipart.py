"""Streaming ``multipart/form-data`` reader: the file part flows straight to storage.

Starlette's ``request.form()`` spools files to a temporary file first; for recordings of
hundreds of megabytes we parse with python-multipart ourselves and hand the file's bytes to
the store as they arrive, so memory stays flat and the bytes are written once.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from rest_compat.errors import RestError
from rest_compat.files import FileReader

if TYPE_CHECKING:  # declared for type checkers only
    from python_multipart.multipart import MultipartCallbacks

FILE_FIELD = "file"
MAX_FIELD_BYTES = 64 * 1024


class Staged(Protocol):
    id: str


class FileStore(FileReader, Protocol):
    """What the shim needs of the application's storage."""

    async def stage(self, chunks: AsyncIterable[bytes], limit: int) -> Any: ...

    async def discard(self, staged_id: str) -> None: ...


@dataclass
class MultipartUpload:
    fields: dict[str, str]
    file_name: str
    staged_id: str


@dataclass
class _Parts:
    """Collects parser callbacks: form fields as text, the file's bytes as pending chunks."""

    fields: dict[str, str] = field(default_factory=dict)
    file_name: str | None = None
    pending: list[bytes] = field(default_factory=list)
    _headers: dict[bytes, bytes] = field(default_factory=dict)
    _header: bytes = b""
    _value: bytes = b""
    _name: str = ""
    _is_file: bool = False
    _buffer: bytearray = field(default_factory=bytearray)

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers, self._buffer = {}, bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header.lower()] = self._value
        self._header, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        # Only the first part named "file" is the recording; other file parts are ignored.
        self._is_file = self._name == FILE_FIELD and self.file_name is None
        if self._is_file:
            self.file_name = (filename or b"").decode("utf-8", "replace")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self.pending.append(data[start:end])
        elif self._name != FILE_FIELD:
            self._buffer += data[start:end]
            if len(self._buffer) > MAX_FIELD_BYTES:
                raise RestError(
                    "PAYLOAD_TOO_LARGE",
                    f"Form field {self._name!r} is over {MAX_FIELD_BYTES} bytes",
                )

    def _part_end(self) -> None:
        if not self._is_file and self._name and self._name != FILE_FIELD:
            self.fields[self._name] = self._buffer.decode("utf-8", "replace")
        self._is_file = False


async def read_upload(request: Request, store: FileStore, limit: int) -> MultipartUpload:
    """Stream the request into the store; the caller owns (and must discard) the staged file."""
    content_type, options = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise RestError("UNSUPPORTED_MEDIA_TYPE", "Send the recording as multipart/form-data")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MAX_FIELD_BYTES * 4:
        raise RestError("PAYLOAD_TOO_LARGE", f"File is larger than the {limit}-byte limit")
    parts = _Parts()
    parser = MultipartParser(options[b"boundary"], parts.callbacks())

    async def file_bytes() -> AsyncIterator[bytes]:
        try:
            async for chunk in request.stream():
                parser.write(chunk)
                ready, parts.pending = parts.pending, []
                for data in ready:
                    yield data
            parser.finalize()
        except MultipartParseError as exc:
            raise RestError("BAD_USER_INPUT", f"Malformed multipart body: {exc}") from None
        for data in parts.pending:
            yield data

    staged = await store.stage(file_bytes(), limit)
    if parts.file_name is None:
        await store.discard(staged.id)
        raise RestError("BAD_USER_INPUT", "The form has no 'file' part", field=FILE_FIELD)
    return MultipartUpload(parts.fields, parts.file_name, staged.id)
