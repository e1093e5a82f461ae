"""Several ``aica`` processes started at the same moment on one empty database, as on a
multi-machine deployment's first boot: the migrations run once, the first org is made once."""

from __future__ import annotations

import asyncio
import json

import asyncpg

from aica.services.orgs import FIRST_START_LOCK
from tests import test_cli as cli
from tests.test_cli import aica, serve_until_healthy_then_stop

cli_env = cli.cli_env
empty_database_url = cli.empty_database_url


async def count_orgs(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM orgs")
    finally:
        await connection.close()
    return count


async def test_migrations_started_together_run_once_and_every_process_succeeds(
    cli_env: dict[str, str], empty_database_url: str
) -> None:
    env = {**cli_env, "AICA_DATABASE_URL": empty_database_url}
    ran = await asyncio.gather(*(aica(env, "migrate") for _ in range(3)))
    assert [(r.returncode, r.stdout) for r in ran] == [(0, "migrations applied\n")] * 3, [
        r.stderr[-2000:] for r in ran
    ]
    assert await count_orgs(empty_database_url) == 0


async def test_api_processes_started_together_on_an_empty_database_make_one_first_org(
    cli_env: dict[str, str], empty_database_url: str
) -> None:
    """Both processes are held at the first-start lock (taken here first), so both have seen
    the empty database when it is released: only one may then create the org."""
    env = {**cli_env, "AICA_DATABASE_URL": empty_database_url}
    assert (await aica(env, "migrate")).returncode == 0  # the schema, but no org yet
    holder = await asyncpg.connect(empty_database_url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", FIRST_START_LOCK)
        serving = [asyncio.create_task(serve_until_healthy_then_stop(env)) for _ in range(2)]
        async with asyncio.timeout(60):
            while await waiting_for(holder, FIRST_START_LOCK) < 2:
                assert not any(task.done() for task in serving), "a process did not wait"
                await asyncio.sleep(0.1)
    finally:
        await holder.close()  # releases the lock
    ran = await asyncio.gather(*serving)
    assert [r.returncode for r in ran] == [0, 0], [r.stderr[-2000:] for r in ran]
    printed = [json.loads(r.stdout) for r in ran if r.stdout]
    assert len(printed) == 1, [r.stdout for r in ran]
    assert await count_orgs(empty_database_url) == 1


async def waiting_for(connection: asyncpg.Connection, key: int) -> int:
    """Sessions waiting for the advisory lock ``key`` (a bigint: classid high, objid low)."""
    count: int = await connection.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1",
        key >> 32,
        key & 0xFFFFFFFF,
    )
    return count
