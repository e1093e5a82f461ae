"""Audio in S3-compatible object storage (AWS S3, MinIO, Ceph, GCS's S3 API).

Credentials and region come from the standard AWS environment variables and config files
(botocore's chain); ``AICA_S3_ENDPOINT_URL`` points at any other S3 API, addressed path-style
(``<endpoint>/<bucket>/<key>``), which is what MinIO and most self-hosted stores expect.
Requests are retried by botocore's standard mode; a store that still cannot be reached, or
refuses us, is ``StorageUnavailable`` (503 to clients, a later retry for pipeline jobs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiofiles
import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from aica.config import parse_s3_url
from aica.errors import StorageUnavailable
from aica.storage.base import Storage, StoredObject, check_key, remove_file, sha256_of

log = logging.getLogger("aica.storage")

PART_SIZE = 8 * 1024 * 1024
"""Multipart upload part size: the most of a file held in memory at once."""
_CHUNK = 1 << 16
_MISSING = {"404", "NoSuchKey", "NotFound"}


@contextlib.contextmanager
def _reachable(action: str) -> Iterator[None]:
    """Transport failures and refusals as ``StorageUnavailable``; a missing object is the
    caller's business (``_missing``)."""
    try:
        yield
    except ClientError as exc:
        if _missing(exc):
            raise
        log.warning("object storage refused to %s: %s", action, exc)
        code = exc.response.get("Error", {}).get("Code", "error")
        raise StorageUnavailable(f"Object storage refused to {action}: {code}") from exc
    except (BotoCoreError, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("object storage cannot be reached to %s: %s", action, exc)  # the endpoint
        raise StorageUnavailable(f"Object storage cannot be reached to {action}") from exc


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING


class S3Storage(Storage):
    def __init__(
        self,
        data_dir: Path,
        url: str,
        *,
        endpoint_url: str | None = None,
        redirect: bool = False,
        presign_seconds: int = 300,
    ) -> None:
        super().__init__(data_dir)
        self.url = url
        self.bucket, self.prefix = parse_s3_url(url)
        self.endpoint_url = endpoint_url or None
        self.redirect = redirect
        self.presign_seconds = presign_seconds
        self._config = AioConfig(
            retries={"mode": "standard", "max_attempts": 3},
            signature_version="s3v4",  # presigned links too (botocore may pick SigV2)
            connect_timeout=5,
            read_timeout=60,
            max_pool_connections=100,  # proxied audio holds one while a listener reads
            s3={"addressing_style": "path"} if self.endpoint_url else None,
        )
        self._stack = AsyncExitStack()
        self._client: Any = None
        self._opening = asyncio.Lock()

    async def _s3(self) -> Any:
        """One client per process, opened on first use (in the loop that uses it)."""
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    client = get_session().create_client(
                        "s3", endpoint_url=self.endpoint_url, config=self._config
                    )
                    self._client = await self._stack.enter_async_context(client)
        return self._client

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None

    def name(self, key: str) -> str:
        """The object name of ``key`` under the configured prefix."""
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def _move_in(self, source: Path, key: str, sha256: str | None) -> None:
        await self.upload(source, key, sha256 or await sha256_of(source))
        await remove_file(source)

    async def upload(
        self,
        source: Path,
        key: str,
        sha256: str,
        on_part: Callable[[int], None] = lambda _: None,
    ) -> None:
        """Multipart upload of a local file, one part in memory at a time, its sha256 kept in
        the object's metadata; ``on_part`` hears each part's size once sent. Any failure or
        cancellation aborts the upload, so no parts are left behind (stores bill for them
        and keep them until told)."""
        s3, name = await self._s3(), self.name(key)
        with _reachable("store a file"):
            created = await s3.create_multipart_upload(
                Bucket=self.bucket, Key=name, Metadata={"sha256": sha256}
            )
        upload_id = created["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            async with aiofiles.open(source, "rb") as data:
                while True:
                    chunk = await data.read(PART_SIZE)
                    if not chunk and parts:
                        break
                    with _reachable("store a file"):
                        sent = await s3.upload_part(
                            Bucket=self.bucket,
                            Key=name,
                            UploadId=upload_id,
                            PartNumber=len(parts) + 1,
                            Body=chunk,
                        )
                    parts.append({"ETag": sent["ETag"], "PartNumber": len(parts) + 1})
                    on_part(len(chunk))
                    if len(chunk) < PART_SIZE:
                        break
            with _reachable("store a file"):
                await s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=name,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            abort = s3.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            with contextlib.suppress(Exception):
                await asyncio.shield(abort)
            raise

    async def delete(self, key: str | None) -> None:
        """S3 answers a delete of a missing object with success: idempotent as it is."""
        if key:
            s3 = await self._s3()
            with _reachable("delete a file"):
                await s3.delete_object(Bucket=self.bucket, Key=self.name(key))

    async def stat(self, key: str) -> StoredObject | None:
        s3 = await self._s3()
        try:
            with _reachable("look up a file"):
                head = await s3.head_object(Bucket=self.bucket, Key=self.name(key))
        except ClientError:
            return None  # _reachable lets only "missing" through
        return StoredObject(
            key,
            int(head["ContentLength"]),
            head["LastModified"].timestamp(),
            sha256=head.get("Metadata", {}).get("sha256"),
        )

    async def read(self, key: str, start: int, stop: int) -> AsyncGenerator[bytes, None]:
        if stop <= start:
            return
        s3 = await self._s3()
        with _reachable("read a file"):
            answer = await s3.get_object(
                Bucket=self.bucket, Key=self.name(key), Range=f"bytes={start}-{stop - 1}"
            )
            async with answer["Body"] as body:
                async for chunk in body.iter_chunks(_CHUNK):
                    yield chunk

    @asynccontextmanager
    async def local_copy(self, key: str) -> AsyncIterator[Path]:
        """The object streamed to a scratch file (removed after the block); a missing
        object is ``FileNotFoundError``, like a missing local file."""
        s3, scratch = await self._s3(), self.scratch()
        try:
            try:
                with _reachable("read a file"):
                    answer = await s3.get_object(Bucket=self.bucket, Key=self.name(key))
                    async with answer["Body"] as body, aiofiles.open(scratch, "wb") as out:
                        async for chunk in body.iter_chunks(_CHUNK):
                            await out.write(chunk)
            except ClientError as exc:
                raise FileNotFoundError(f"no object for {key!r} in {self.url}") from exc
            yield scratch
        finally:
            await remove_file(scratch)

    async def presigned_url(
        self, key: str, *, file_name: str | None, content_type: str, disposition: str
    ) -> str | None:
        """A short-lived signed GET, when the deployment lets clients reach the store."""
        if not self.redirect:
            return None
        params = {"Bucket": self.bucket, "Key": self.name(key), "ResponseContentType": content_type}
        if file_name:
            name = quote(file_name)
            params["ResponseContentDisposition"] = f"{disposition}; filename*=utf-8''{name}"
        s3 = await self._s3()
        with _reachable("sign a link"):
            url: str = await s3.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=self.presign_seconds
            )
        return url

    async def ping(self) -> None:
        s3 = await self._s3()
        with _reachable("answer"):
            await s3.head_bucket(Bucket=self.bucket)
