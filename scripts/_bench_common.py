"""What the benchmarks share: scratch databases, server subprocesses, load and CPU measurement.

Imported by the ``bench_*.py`` scripts beside it (``scripts/`` is ``sys.path[0]`` when one of
them runs); importing it also puts the repository root on ``sys.path``, so that ``aica`` and
``tests.audio`` import from the checkout. Linux only: CPU and memory come from ``/proc``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"
DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# The run: arguments, the machine's state, what it leaves behind
# --------------------------------------------------------------------------------------------


def add_admin_dsn(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--admin-dsn",
        default=os.environ.get("AICA_BENCH_ADMIN_DSN", DEFAULT_ADMIN_DSN),
        help="PostgreSQL to create the scratch database on (env AICA_BENCH_ADMIN_DSN)",
    )


def _terminate(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Scratch:
    """What one run leaves behind: a database, files, servers. :func:`scratch` removes them."""

    admin_dsn: str
    database: str
    work_dir: Path
    servers: list[Server] = field(default_factory=list)
    url: str | None = None
    """Set once the database exists: only then is it dropped."""

    async def create_database(self) -> str:
        self.url = await create_scratch_database(self.admin_dsn, self.database)
        return self.url

    def start_server(self, name: str, command: list[str], port: int, env: dict[str, str]) -> Server:
        server = start_server(name, command, port, env, self.work_dir)
        self.servers.append(server)
        return server


@contextlib.contextmanager
def scratch(admin_dsn: str, prefix: str) -> Iterator[Scratch]:
    """A run's scratch state, cleaned up however the run ends: an error, or Ctrl-C and SIGTERM,
    which exit with status 130.

    Only SIGKILL escapes; then the servers die with this process and the next run drops the
    database (:func:`drop_stale_databases`).
    """
    signal.signal(signal.SIGTERM, _terminate)  # unwinds like Ctrl-C, through the finally below
    run = Scratch(admin_dsn, scratch_database_name(), Path(tempfile.mkdtemp(prefix=prefix)))
    try:
        yield run
    except KeyboardInterrupt:
        log("interrupted")
        raise SystemExit(130) from None
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the clean-up finish
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_servers(run.servers)
        for server in run.servers:
            if server.process.returncode not in (0, -signal.SIGTERM):
                log(f"{server.name} server exited with {server.process.returncode}:")
                log(server.log_tail())
        if run.url is not None:
            drop_database(admin_dsn, run.database)
        shutil.rmtree(run.work_dir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Scratch databases: one per run, dropped at the end (also by the next run if it was killed)
# --------------------------------------------------------------------------------------------


def scratch_database_name() -> str:
    """Carries this process's pid, so that a later run can tell a killed run's leftovers."""
    return f"aica_bench_{os.getpid()}_{secrets.token_hex(3)}"


def database_url_for(admin_dsn: str, name: str) -> str:
    parts = urlsplit(admin_dsn)
    return urlunsplit(("postgres", parts.netloc, f"/{name}", "", ""))


async def _admin_execute(admin_dsn: str, statement: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def drop_stale_databases(admin_dsn: str) -> list[str]:
    """Databases a benchmark left behind when it was killed (SIGKILL): their pid is gone."""
    import asyncpg

    admin = await asyncpg.connect(admin_dsn)
    dropped = []
    try:
        names = await admin.fetch(
            "SELECT datname FROM pg_database WHERE datname ~ '^aica_bench_[0-9]+_[0-9a-f]{6}$'"
        )
        for (name,) in names:
            pid = int(name.split("_")[2])
            if not _alive(pid):
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                dropped.append(name)
    finally:
        await admin.close()
    return dropped


async def create_scratch_database(admin_dsn: str, name: str) -> str:
    """Drops killed runs' leftovers, creates ``name`` (empty) and returns its URL."""
    for stale in await drop_stale_databases(admin_dsn):
        log(f"dropped {stale}, left behind by a killed run")
    await _admin_execute(admin_dsn, f'CREATE DATABASE "{name}"')
    return database_url_for(admin_dsn, name)


def drop_database(admin_dsn: str, name: str) -> None:
    """Called from ``finally``: a failure is logged, not raised over the run's own error."""
    try:
        asyncio.run(_admin_execute(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except Exception as exc:
        log(f"could not drop database {name}: {exc!r}")


# --------------------------------------------------------------------------------------------
# Server subprocesses
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def die_with_parent() -> None:
    """Linux: the child gets SIGTERM if this process dies without cleaning up (SIGKILL)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def with_root_on_path(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the repository root first on ``PYTHONPATH`` (the checkout, not a wheel)."""
    return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))}


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    started: float = field(default_factory=time.perf_counter)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:]) or "(no log)"


def start_server(
    name: str, command: list[str], port: int, env: dict[str, str], work_dir: Path
) -> Server:
    """Runs ``command`` (which listens on ``port``), its output in ``work_dir/<name>.log``."""
    log_path = work_dir / f"{name}.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the servers ourselves
            preexec_fn=die_with_parent,
        )
    return Server(name, port, process, log_path)


def wait_ready(server: Server, path: str = "/readyz", within: float = 120) -> float:
    """Polls ``path`` until it answers 200; returns the seconds since the server was spawned."""
    deadline = time.monotonic() + within
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"{server.name} server exited with {server.process.returncode}:\n"
                    + server.log_tail()
                )
            with contextlib.suppress(httpx.HTTPError):
                if client.get(path).status_code == 200:
                    return time.perf_counter() - server.started
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server.name} not ready after {within}s:\n{server.log_tail()}")
            time.sleep(0.1)


def stop_servers(servers: Sequence[Server], grace: float = 20) -> None:
    """SIGTERM to all, then up to ``grace`` seconds each before SIGKILL."""
    for server in servers:
        if server.process.poll() is None:
            server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            log(f"{server.name} server did not stop in {grace:g}s; killing it")
            server.process.kill()
            server.process.wait()


# --------------------------------------------------------------------------------------------
# Load generation: a minimal keep-alive HTTP/1.1 client, cheap enough to share two cores with
# the server it measures.
# --------------------------------------------------------------------------------------------


class ProtocolError(Exception):
    pass


def http_request(
    method: str, path: str, port: int, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    def __init__(self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.port = port
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(port, reader, writer)

    def close(self) -> None:
        self.writer.close()

    async def send(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 "):
            raise ProtocolError(f"unexpected status line {head[:40]!r}")
        status = int(head[9:12])
        length: int | None = None
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            return status, await self._chunked()
        if length is None:
            raise ProtocolError("response without Content-Length")
        return status, await self.reader.readexactly(length)

    async def _chunked(self) -> bytes:
        body = bytearray()
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return bytes(body)
            body += await self.reader.readexactly(size + 2)
            del body[-2:]


async def open_connections(port: int, n: int) -> list[Connection]:
    return list(await asyncio.gather(*(Connection.open(port) for _ in range(n))))


# --------------------------------------------------------------------------------------------
# Measuring: CPU of a process / of the whole machine, peak RSS
# --------------------------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (all threads), 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields_ = stat.rsplit(")", 1)[1].split()
    return (int(fields_[11]) + int(fields_[12])) / _TICK


def machine_busy() -> float:
    """Core-seconds spent running processes since boot (user, nice, system), from /proc/stat.

    Interrupt time is left out: the kernel's loopback networking for our own requests is
    counted there, and it belongs to no process.
    """
    user, nice, system = (int(v) for v in Path("/proc/stat").read_text().split()[1:4])
    return (user + nice + system) / _TICK


class CpuWindow:
    """CPU seconds used by this process, the server and everybody else during the block."""

    def __init__(self, server_pid: int | None = None) -> None:
        self.server_pid = server_pid
        self.wall = self.own = self.server = self.others = 0.0

    def __enter__(self) -> CpuWindow:
        self.started = time.perf_counter()
        self._own = time.process_time()
        self._server = process_cpu(self.server_pid) if self.server_pid else 0.0
        self._busy = machine_busy()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self.started
        self.own = time.process_time() - self._own
        if self.server_pid:
            self.server = process_cpu(self.server_pid) - self._server
        busy = machine_busy() - self._busy
        self.others = max(0.0, busy - self.own - self.server) / max(self.wall, 1e-9)


def _vm_hwm(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class PeakRss:
    """Peak RSS of a process (and its children) while the block runs, plus RSS before it."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.before = self._rss()
        self.peak = self.before
        self._reset = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _rss(self) -> int:
        try:
            rss = int(self.process.memory_info().rss)
            for child in self.process.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    rss += int(child.memory_info().rss)
        except psutil.Error:
            return 0
        return rss

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self._rss())

    def __enter__(self) -> PeakRss:
        try:  # "5" resets the peak RSS (VmHWM) to the current RSS (Linux >= 4.0)
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
            self._reset = True
        except OSError:
            self._reset = False
        self.before = self._rss()
        self.peak = self.before
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())
        hwm = _vm_hwm(self.process.pid) if self._reset else None
        if hwm is not None:
            self.peak = max(self.peak, hwm)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], align: str = ""
) -> list[str]:
    """The lines of a markdown table; ``align`` has a letter a column, ``r`` right-aligns it."""
    rule = ["---:" if a == "r" else "---" for a in align.ljust(len(header), "l")]
    return [_table_line(header), "|" + "|".join(rule) + "|", *(_table_line(r) for r in rows)]


def _table_line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"
