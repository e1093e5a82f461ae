"""Upgrading a database that already holds data: every migration since the last release.

New columns on tables with rows need a database default; a migration that only works on an
empty database (the one the rest of the suite starts from) would stop a user's upgrade.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.conftest import ADMIN_DSN

RELEASED = "models.0005_record_source_bitrix24"
"""The schema of the last release: what users' databases hold."""
ROWS = [
    "INSERT INTO orgs (id, name, created_at) VALUES ('org_old', 'Old', now())",
    "INSERT INTO users (id, name, email, created_at) VALUES ('usr_old', 'O', 'o@x.io', now())",
    "INSERT INTO memberships (id, role, user_id, org_id, created_at)"
    " VALUES ('mem_old', 'owner', 'usr_old', 'org_old', now())",
    "INSERT INTO tokens (id, user_id, token_hash, kind, name, created_at)"
    " VALUES ('tok_old', 'usr_old', 'h', 'personal', 'cli', now())",
    "INSERT INTO projects (id, org_id, name, description, profile, language, agent_channel,"
    " created_at, updated_at)"
    " VALUES ('proj_old', 'org_old', 'P', '', 'general', 'auto', 0, now(), now())",
    "INSERT INTO records (id, org_id, project_id, type, status, progress, attempts, source,"
    " metadata, created_at)"
    " VALUES ('rec_old', 'org_old', 'proj_old', 'call', 'completed', 100, 1, 'upload', '{}',"
    " now())",
]


@pytest.fixture
async def released_database() -> AsyncIterator[str]:
    name = f"aica_upgrade_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    try:
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def migrate(url: str, target: str | None = None) -> None:
    """Tortoise's migrate in a process of its own: it closes the ORM's connections when done,
    which would pull them from under the rest of the suite."""
    code = (
        "import asyncio, sys\n"
        "from tortoise.migrations.api.migrate import migrate\n"
        "from aica import db\n"
        "target = sys.argv[2] or None\n"
        "asyncio.run(migrate(config=db.tortoise_config(sys.argv[1]), target=target))\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, url, target or "", stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()[-3000:]


async def test_a_released_database_with_data_upgrades_and_keeps_its_rows(
    released_database: str,
) -> None:
    await migrate(released_database, RELEASED)
    dsn = released_database.replace("postgres://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn)
    try:
        for statement in ROWS:
            await connection.execute(statement)
        await connection.close()

        await migrate(released_database)  # everything since the release

        connection = await asyncpg.connect(dsn)
        record = await connection.fetchrow(
            "SELECT status, stages_done, warnings FROM records WHERE id = 'rec_old'"
        )
        project = await connection.fetchrow("SELECT languages FROM projects WHERE id = 'proj_old'")
        member = await connection.fetchrow("SELECT pending FROM memberships WHERE id = 'mem_old'")
        counted = await connection.fetch("SELECT status, n FROM record_counts")
    finally:
        await connection.close()
    assert record is not None and record["status"] == "completed"
    assert (record["stages_done"], record["warnings"]) == ("[]", "[]")
    assert project is not None and project["languages"] == "[]"
    assert member is not None and member["pending"] is False
    assert [tuple(row) for row in counted] == [("completed", 1)], "existing records are counted"
