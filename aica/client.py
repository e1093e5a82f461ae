"""The CLI's HTTP client for a running service: upload recordings, follow them to the end."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any, cast

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

FINAL = ("completed", "failed")
_STDERR = Console(stderr=True)
"""Progress goes to stderr: stdout carries the record ids, for scripts."""


class ServiceError(Exception):
    """The service refused a request; the message is its own."""


@dataclass
class Uploaded:
    path: Path
    record_id: str


class _Counting:
    """A file whose reads advance a progress bar, so httpx can stream it in chunks."""

    def __init__(self, handle: IO[bytes], advance: Callable[[int], None]) -> None:
        self._handle = handle
        self._advance = advance

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._advance(len(chunk))
        return chunk


def _check(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json() if response.content else {}
    if response.is_error:
        error = body.get("error", {})
        raise ServiceError(f"{error.get('code', response.status_code)}: {error.get('message')}")
    return body


class Client:
    def __init__(self, base_url: str, token: str, org_id: str) -> None:
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "X-Selected-Org-ID": org_id},
            timeout=httpx.Timeout(30, write=None),
        )

    def upload(self, paths: list[Path], project_id: str, metadata: str) -> list[Uploaded]:
        done: list[Uploaded] = []
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=_STDERR) as progress:
            for path in paths:
                task = progress.add_task(path.name, total=path.stat().st_size)
                with path.open("rb") as handle:
                    reader = _Counting(handle, partial(progress.advance, task))
                    response = self.http.post(
                        "/api/v1/records/upload",
                        data={"projectId": project_id, "metadata": metadata},
                        files={"file": (path.name, cast(IO[bytes], reader), "audio/*")},
                    )
                record = _check(response)["data"]
                done.append(Uploaded(path, record["id"]))
        return done

    def wait(self, uploads: list[Uploaded], poll: float = 1.0) -> dict[str, dict[str, Any]]:
        """Follow each record's progress until it completes or fails."""
        states: dict[str, dict[str, Any]] = {}
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[status]}"),
            console=_STDERR,
        ) as progress:
            tasks: dict[str, TaskID] = {
                u.record_id: progress.add_task(u.path.name, total=100, status="pending")
                for u in uploads
            }
            while len(states) < len(uploads):
                for record_id, task in tasks.items():
                    if record_id in states:
                        continue
                    record = _check(self.http.get(f"/api/v1/records/{record_id}"))["data"]
                    status = record["status"]
                    progress.update(task, completed=record["progress"], status=status)
                    if status in FINAL:
                        states[record_id] = record
                if len(states) < len(uploads):
                    time.sleep(poll)
        return states
