"""The object store of the storage tests: moto's standalone S3 server on 127.0.0.1, or the
real endpoint ``AICA_TEST_S3_URL`` names (``s3://bucket/prefix``, with ``AWS_*`` credentials
and ``AICA_TEST_S3_ENDPOINT_URL`` for an S3 API other than AWS).

Each run writes under a prefix of its own, so runs against one real bucket do not meet.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from aica.config import parse_s3_url

MOTO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True)
class ObjectStore:
    bucket: str
    prefix: str
    endpoint_url: str | None

    def url(self, under: str = "") -> str:
        return f"s3://{self.bucket}/{self.prefix}{'/' + under if under else ''}"

    def settings(self, under: str = "") -> dict[str, str]:
        """``AICA_*`` settings (without the prefix) of a process storing under ``under``."""
        values = {"STORAGE_URL": self.url(under)}
        if self.endpoint_url:
            values["S3_ENDPOINT_URL"] = self.endpoint_url
        return values

    def client(self) -> Any:
        addressing = {"addressing_style": "path"} if self.endpoint_url else None
        return boto3.client("s3", endpoint_url=self.endpoint_url, config=Config(s3=addressing))

    def name(self, key: str, under: str = "") -> str:
        return "/".join(part for part in (self.prefix, under, key) if part)

    def keys(self, under: str = "") -> dict[str, int]:
        """Key (relative to the prefix) -> size of every object stored under ``under``."""
        base = self.name("", under).rstrip("/") + "/"
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base)
        )
        return {
            item["Key"][len(base) :]: item["Size"]
            for page in pages
            for item in page.get("Contents", [])
        }

    def head(self, key: str, under: str = "") -> dict[str, Any]:
        head: dict[str, Any] = self.client().head_object(
            Bucket=self.bucket, Key=self.name(key, under)
        )
        return head

    def get(self, key: str, under: str = "") -> bytes:
        answer = self.client().get_object(Bucket=self.bucket, Key=self.name(key, under))
        body: bytes = answer["Body"].read()
        return body

    def put(self, key: str, data: bytes, under: str = "", **metadata: str) -> None:
        self.client().put_object(
            Bucket=self.bucket, Key=self.name(key, under), Body=data, Metadata=metadata
        )

    def clear(self) -> None:
        """Delete what this run stored (a real bucket outlives the run)."""
        client = self.client()
        for key in self.keys():
            client.delete_object(Bucket=self.bucket, Key=self.name(key))

    def multipart_uploads(self) -> list[dict[str, Any]]:
        """Multipart uploads begun and neither completed nor aborted, under the prefix."""
        answer = self.client().list_multipart_uploads(Bucket=self.bucket, Prefix=self.prefix)
        uploads: list[dict[str, Any]] = answer.get("Uploads", [])
        return uploads


@contextmanager
def object_store() -> Iterator[ObjectStore]:
    """The store for this run; with moto, its credentials are set in this process's
    environment (child processes inherit them) for the duration."""
    prefix = f"aica-test-{secrets.token_hex(4)}"
    real = os.environ.get("AICA_TEST_S3_URL")
    if real:
        bucket, base = parse_s3_url(real)
        endpoint = os.environ.get("AICA_TEST_S3_ENDPOINT_URL") or None
        store = ObjectStore(bucket, "/".join(p for p in (base, prefix) if p), endpoint)
        try:
            yield store
        finally:
            store.clear()
        return
    saved = {key: os.environ.get(key) for key in MOTO_CREDENTIALS}
    os.environ.update(MOTO_CREDENTIALS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        store = ObjectStore("aica-test", prefix, f"http://{host}:{port}")
        store.client().create_bucket(Bucket=store.bucket)
        yield store
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
