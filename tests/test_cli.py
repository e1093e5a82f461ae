"""The ``aica`` command against an external PostgreSQL (``AICA_DATABASE_URL``), as a subprocess.

The embedded default has its own tests (``test_embedded.py``). Here the CLI shares the
session's test database with the session's server, so a token the CLI prints is checked
against that server.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from aica.config import Settings
from aica.services import orgs
from tests.conftest import ADMIN_DSN, Tenant, error_code, free_port, gql

ROOT = Path(__file__).resolve().parent.parent
ORGS = "query { orgs { id name } }"
UNREACHABLE = "postgres://postgres@127.0.0.1:1/aica"
"""A database nothing answers on: a command that reaches it fails with another message."""


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICA_")}
    path = env.get("PYTHONPATH")  # import aica from this checkout, whatever the cwd
    env.update(
        AICA_DATABASE_URL=database_url,
        AICA_DATA_DIR=str(tmp_path / "data"),
        PYTHONPATH=f"{ROOT}{os.pathsep}{path}" if path else str(ROOT),
    )
    return env


async def aica(env: dict[str, str], *args: str, stdin: str | None = None) -> Ran:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aica.cli",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    sent = stdin.encode() if stdin is not None else None
    stdout, stderr = await asyncio.wait_for(process.communicate(sent), timeout=120)
    assert process.returncode is not None
    return Ran(process.returncode, stdout.decode(), stderr.decode())


def email() -> str:
    return f"cli-{secrets.token_hex(4)}@example.com"


async def test_help_lists_the_commands(cli_env: dict[str, str]) -> None:
    ran = await aica(cli_env, "--help")
    assert ran.returncode == 0, ran.stderr
    for command in ("serve", "migrate", "bootstrap", "token", "user", "export-schema"):
        assert command in ran.stdout


async def test_export_schema_prints_the_checked_in_sdl(cli_env: dict[str, str]) -> None:
    ran = await aica(cli_env, "export-schema")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == (ROOT / "schema.graphql").read_text()


async def test_bootstrap_and_tokens_on_an_external_database(
    cli_env: dict[str, str], client: httpx.AsyncClient, tmp_path: Path
) -> None:
    # migrate is idempotent and starts no embedded server when a URL is configured
    ran = await aica(cli_env, "migrate")
    assert (ran.returncode, ran.stdout) == (0, "migrations applied\n"), ran.stderr
    assert not (tmp_path / "data" / "postgres").exists()

    # bootstrap: plain output, then --json with the same email adds a second org
    owner = email()
    ran = await aica(cli_env, "bootstrap", "--org-name", "CLI One", "--email", owner)
    assert ran.returncode == 0, ran.stderr
    plain = dict(line.split(":", 1) for line in ran.stdout.splitlines())
    first = {key: value.strip() for key, value in plain.items()}
    assert set(first) == {"org", "user", "token"}
    ran = await aica(cli_env, "bootstrap", "--org-name", "CLI Two", "--email", owner, "--json")
    assert ran.returncode == 0, ran.stderr
    second = json.loads(ran.stdout)
    assert second["userId"] == first["user"] and second["orgId"] != first["org"]

    body = await gql(client, ORGS, headers={"Authorization": f"Bearer {first['token']}"})
    assert {o["id"] for o in body["data"]["orgs"]} == {first["org"], second["orgId"]}

    # token create: a service token bound to one org works with that org selected
    ran = await aica(
        cli_env, "token", "create", "--email", owner, "--org-id", first["org"], "--name", "crm"
    )
    assert ran.returncode == 0, ran.stderr
    service_token = ran.stdout.strip()
    assert service_token.startswith("aica_sk_")
    listed = await client.get(
        "/api/v1/projects",
        headers={"Authorization": f"Bearer {service_token}", "X-Selected-Org-ID": first["org"]},
    )
    assert listed.status_code == 200, listed.text


async def test_errors_are_one_line_without_a_traceback(cli_env: dict[str, str]) -> None:
    ran = await aica(cli_env, "bootstrap", "--org-name", "  ", "--email", email())
    assert ran.returncode == 1
    assert ran.stderr.strip() == "error: Organization name must not be empty"

    ran = await aica(cli_env, "token", "create", "--email", "nobody@example.com")
    assert ran.returncode == 1
    assert ran.stderr.strip() == "error: no user with email nobody@example.com"

    unreachable = {**cli_env, "AICA_DATABASE_URL": UNREACHABLE}
    ran = await aica(unreachable, "migrate")
    assert ran.returncode == 1
    assert ran.stderr.startswith("error: cannot connect to AICA_DATABASE_URL")
    assert "Traceback" not in ran.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AICA_PORT", "abc"),
        ("AICA_ALLOWED_ORIGINS", "https://x"),
        ("AICA_DATABASE_POOL_SIZE", "0"),
        ("AICA_WHISPER_BATCH_SIZE", "-1"),
        ("AICA_WHISPER_BATCH_SIZE", "eight"),
        ("AICA_DATABASE_URL", "not-a-url"),
        ("AICA_DATABASE_URL", "mysql://root:secret@db:3306/aica"),
    ],
)
async def test_a_bad_setting_is_one_error_line_naming_its_variable(
    cli_env: dict[str, str], variable: str, value: str
) -> None:
    ran = await aica({**cli_env, variable: value}, "serve")
    assert ran.returncode == 1
    assert ran.stderr.startswith(f"error: {variable}: "), ran.stderr
    assert ran.stderr.count("\n") == 1 and "Traceback" not in ran.stderr
    assert "secret" not in ran.stderr


async def test_serve_on_a_busy_port_says_so_before_touching_the_database(
    cli_env: dict[str, str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = await aica(
            {**cli_env, "AICA_DATABASE_URL": UNREACHABLE}, "serve", "--port", str(port)
        )
    assert ran.returncode == 1
    assert ran.stderr == f"error: port {port} is in use (AICA_PORT / --port)\n"


@pytest.mark.parametrize("command", ["serve", "worker"])
async def test_serve_and_worker_refuse_to_start_without_a_usable_whisper_model(
    cli_env: dict[str, str], tmp_path: Path, command: str
) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "model.bin").write_bytes(b"not a model")
    (broken / "config.json").write_text("{}")
    for model, message in [
        ("nonesuch", "error: Unknown Whisper model 'nonesuch'"),
        (str(broken), f"error: Could not load Whisper model {broken}"),
    ]:
        env = {**cli_env, "AICA_WHISPER_MODEL": model, "AICA_DATABASE_URL": UNREACHABLE}
        ran = await aica(
            env, command, *(["--port", str(free_port())] if command == "serve" else [])
        )
        assert ran.returncode == 1
        assert ran.stderr.startswith(message), ran.stderr
        assert "Traceback" not in ran.stderr


async def test_a_worker_refuses_to_start_with_replaced_speaker_weights(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    weights = tmp_path / "data" / "models" / "speakers" / "resemblyzer-0.1.4.pt"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"not the weights")
    ran = await aica({**cli_env, "AICA_DATABASE_URL": UNREACHABLE}, "worker")
    assert ran.returncode == 1
    last = ran.stderr.splitlines()[-1]
    assert last.startswith(f"error: {weights} is not the speaker weights"), ran.stderr
    assert "Traceback" not in ran.stderr


async def test_serve_help_shows_the_defaults(cli_env: dict[str, str]) -> None:
    ran = await aica({**cli_env, "COLUMNS": "120"}, "serve", "--help")
    assert ran.returncode == 0, ran.stderr
    assert "127.0.0.1" in ran.stdout and "8000" in ran.stdout


async def test_aica_upload_to_a_service_that_is_not_there_names_its_url(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    call = tmp_path / "call.wav"
    call.write_bytes(b"RIFF")
    env = {**cli_env, "AICA_URL": url, "AICA_TOKEN": "aica_pt_x", "AICA_ORG_ID": "org_x"}
    ran = await aica(env, "upload", str(call), "--project", "proj_x")
    assert ran.returncode == 1
    assert ran.stderr.splitlines()[-1].startswith(f"error: cannot reach {url}"), ran.stderr
    assert "Traceback" not in ran.stderr


async def serve_until_healthy_then_stop(env: dict[str, str]) -> Ran:
    """``aica serve`` (no workers: the session's jobs are left alone) until /healthz answers,
    then SIGTERM; what it printed."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aica.cli",
        "serve",
        "--port",
        str(port),
        env={**env, "AICA_RUN_WORKERS": "0"},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as served:
            for _ in range(600):
                assert process.returncode is None, "aica serve exited early"
                try:
                    if (await served.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            else:
                pytest.fail("aica serve did not become healthy in 30 s")
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Ran(process.returncode, stdout.decode(), stderr.decode())


async def test_serve_on_a_database_with_orgs_prints_nothing_and_stops_on_sigterm(
    cli_env: dict[str, str], tenant: Tenant
) -> None:
    # tenant: the database has an org, so nothing is bootstrapped
    ran = await serve_until_healthy_then_stop(cli_env)

    assert ran.returncode == 0
    assert ran.stdout == ""
    events = [json.loads(line)["event"] for line in ran.stderr.splitlines()]
    assert events[-1].startswith("Finished server process"), events
    stopping = events[events.index("Shutting down") :]
    assert stopping.count("Tortoise-ORM shutdown") == 1, stopping
    assert not [e for e in events if re.search(r"0x[0-9a-f]{6,}", e)], events


@pytest.fixture
async def empty_database_url() -> AsyncIterator[str]:
    name = f"aica_empty_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_first_start_prints_the_credentials_alone_on_stdout_and_the_banner_on_stderr(
    cli_env: dict[str, str], empty_database_url: str
) -> None:
    """As the README says: ``aica serve | head -1 | jq`` reads the credentials."""
    ran = await serve_until_healthy_then_stop({**cli_env, "AICA_DATABASE_URL": empty_database_url})

    assert ran.returncode == 0, ran.stderr
    assert len(ran.stdout.splitlines()) == 1, ran.stdout
    credentials = json.loads(ran.stdout)
    assert set(credentials) == {"orgId", "userId", "token"}
    assert credentials["token"].startswith("aica_pt_")
    assert "Keep this token, it is shown once" in ran.stderr


async def test_logs_are_json_unless_asked_for_text_or_written_to_a_terminal(
    cli_env: dict[str, str],
) -> None:
    """A worker logs loading its model, then fails on the database: one log line to look at."""
    env = {**cli_env, "AICA_DATABASE_URL": UNREACHABLE}
    ran = await aica(env, "worker")  # stderr is a pipe here
    assert json.loads(ran.stderr.splitlines()[0])["event"].startswith("loaded Whisper model")

    ran = await aica({**env, "AICA_LOG_FORMAT": "text"}, "worker")
    first = ran.stderr.splitlines()[0]
    assert "loaded Whisper model" in first and not first.startswith("{"), first

    leader, follower = pty.openpty()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aica.cli",
            "worker",
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=follower,
        )
        assert await asyncio.wait_for(process.wait(), timeout=120) == 1
        first = os.read(leader, 65536).decode().splitlines()[0]
    finally:
        os.close(leader)
        os.close(follower)
    assert "loaded Whisper model" in first and not first.startswith("{"), first


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `AICA_([A-Z0-9_]+)` \|", readme, re.MULTILINE))
    settings = {name.upper() for name in Settings.model_fields}
    assert settings - documented == set(), "add these to README.md's Settings table"
    assert documented - settings == set(), "remove these from README.md's Settings table"


LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token }
}
"""


async def test_set_password_from_stdin_replaces_the_password_and_revokes_old_tokens(
    cli_env: dict[str, str], client: httpx.AsyncClient
) -> None:
    owner = email()
    created = await orgs.bootstrap("Reset", owner, password="known-to-someone")

    ran = await aica(cli_env, "user", "set-password", "--email", owner, stdin="fresh-password\n")

    assert ran.returncode == 0, ran.stderr
    new = await gql(client, LOGIN, {"email": owner, "password": "fresh-password"})
    old = await gql(client, LOGIN, {"email": owner, "password": "known-to-someone"})
    stale = await gql(client, ORGS, headers={"Authorization": f"Bearer {created.token}"})
    assert new["data"]["login"]["token"]
    assert error_code(old) == error_code(stale) == "UNAUTHENTICATED"


async def test_set_password_refuses_an_unknown_account_and_a_short_password(
    cli_env: dict[str, str],
) -> None:
    unknown = await aica(
        cli_env, "user", "set-password", "--email", email(), "--password", "x" * 12
    )
    owner = email()
    await orgs.bootstrap("Short", owner)
    short = await aica(cli_env, "user", "set-password", "--email", owner, "--password", "short")

    assert (unknown.returncode, short.returncode) == (1, 1)
    assert "User not found" in unknown.stderr
    assert "at least" in short.stderr or "characters" in short.stderr


async def test_credits_grant_and_list_for_operators(
    cli_env: dict[str, str], client: httpx.AsyncClient
) -> None:
    created = await orgs.bootstrap("Prepaid", email())
    org_id = created.org.id

    granted = await aica(
        cli_env, "credits", "grant", org_id, "99.50", "--expires", "2099-01-31", "--note", "trial"
    )
    bad = await aica(cli_env, "credits", "grant", org_id, "lots")
    unknown = await aica(cli_env, "credits", "grant", "org_nope", "10")
    listed = await aica(cli_env, "credits", "list", org_id)

    assert granted.returncode == 0, granted.stderr
    grant_id, amount = granted.stdout.strip().split("\t")
    assert grant_id.startswith("crd_") and amount == "99.5"
    assert (bad.returncode, unknown.returncode) == (1, 1)
    assert "not an amount" in bad.stderr and "not found" in unknown.stderr.lower()
    [line] = listed.stdout.strip().splitlines()
    assert line.split("\t")[:6] == [grant_id, "99.5", "99.5", "manual", "2099-01-31", "usable"]
