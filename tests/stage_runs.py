"""Running the record pipeline's stages in the test process: a simulated crash between two
stages, and an ingested record whose audio a test HTTP server serves."""

from __future__ import annotations

import secrets
from typing import Any

from aica.config import Settings
from aica.models import Project, Record
from aica.services import deletion
from aica.services.pipeline import STAGES, StageRun, StageSpec
from tests.conftest import Tenant, make_project


class Crash(Exception):
    """Stands for the worker dying between two stages."""


def crashing_after(stage: str, times: int | None = 1) -> tuple[StageSpec, ...]:
    """The stage list with a stage after ``stage`` that crashes ``times`` runs (None: always)."""
    crashes = 0

    async def crash(_: StageRun) -> None:
        nonlocal crashes
        if times is None or crashes < times:
            crashes += 1
            raise Crash

    at = [spec.name for spec in STAGES].index(stage) + 1
    return (*STAGES[:at], StageSpec("crash", 0, crash), *STAGES[at:])


def deleted_during(stage: str, settings: Settings, record_id: str) -> tuple[StageSpec, ...]:
    """The stage list with ``stage`` preceded, within itself, by the record's deletion mark:
    a user deleting the record while the stage works."""

    def marking(spec: StageSpec) -> StageSpec:
        async def run(stage_run: StageRun) -> None:
            await deletion.mark(settings, [record_id])
            await spec.run(stage_run)

        return StageSpec(spec.name, spec.share, run)

    return tuple(marking(spec) if spec.name == stage else spec for spec in STAGES)


async def ingested(tenant: Tenant, url: str, **project_settings: Any) -> tuple[Record, Project]:
    """A record waiting to be fetched from ``url``, in a new project with those settings."""
    project = await make_project(tenant.org_id, **project_settings)
    record = await Record.create(
        org_id=tenant.org_id,
        project=project,
        source="ingest",
        audio_url=url,
        external_id=secrets.token_hex(4),
    )
    return record, project
